-- 90% point reads / 10% single-row inserts, chosen per request.
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")
wrk.headers["Content-Type"] = "application/json"
wrk.method = "POST"
local rows = tonumber(os.getenv("BENCH_ROWS") or "100000")
local read_percent = tonumber(os.getenv("BENCH_READ_PERCENT") or "90")

request = function()
  if math.random(1, 100) <= read_percent then
    reads = reads + 1
    return wrk.format(nil, "/sql/query", nil, string.format(
      '{"sql":"SELECT id, name, balance FROM accounts WHERE id = ?","params":[%d]}',
      math.random(1, rows)))
  end
  writes = writes + 1
  return wrk.format(nil, "/sql/execute", nil, string.format(
    '{"sql":"INSERT INTO events(account_id, payload) VALUES(?, ?)","params":[%d,"event-payload-0123456789"]}',
    math.random(1, rows)))
end
