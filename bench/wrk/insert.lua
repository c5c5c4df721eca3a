-- Single-row insert (one request = one autocommit statement; monolite groups the commits).
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")
wrk.method = "POST"
wrk.path = "/sql/execute"
wrk.headers["Content-Type"] = "application/json"
local rows = tonumber(os.getenv("BENCH_ROWS") or "100000")

request = function()
  writes = writes + 1
  return json_request("INSERT INTO events(account_id, payload) VALUES(?, ?)",
                      string.format('%d,"event-payload-0123456789"', math.random(1, rows)))
end
