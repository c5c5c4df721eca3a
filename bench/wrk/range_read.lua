-- Range read: 20 consecutive rows by primary key, random start.
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")
wrk.method = "POST"
wrk.path = "/sql/query"
wrk.headers["Content-Type"] = "application/json"
local rows = tonumber(os.getenv("BENCH_ROWS") or "100000")

request = function()
  reads = reads + 1
  return json_request("SELECT id, name, balance FROM accounts WHERE id BETWEEN ?1 AND ?1 + 19",
                      math.random(1, rows - 19))
end
