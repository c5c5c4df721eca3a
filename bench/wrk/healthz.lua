-- The HTTP ceiling: the same server answering without touching SQLite.
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")
wrk.method = "GET"
wrk.path = "/healthz"
