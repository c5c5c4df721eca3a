-- Point read by primary key, random keys over BENCH_ROWS rows (default 100000).
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")
wrk.method = "POST"
wrk.path = "/sql/query"
wrk.headers["Content-Type"] = "application/json"
local rows = tonumber(os.getenv("BENCH_ROWS") or "100000")

request = function()
  reads = reads + 1
  return json_request("SELECT id, name, balance FROM accounts WHERE id = ?", math.random(1, rows))
end
