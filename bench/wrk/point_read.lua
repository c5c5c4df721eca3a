-- Point read by primary key over a 100k-row table, random keys.
wrk.method = "POST"
wrk.path = "/sql/query"
wrk.headers["Content-Type"] = "application/json"
local rows = tonumber(os.getenv("BENCH_ROWS") or "100000")
request = function()
  local body = string.format('{"sql":"SELECT id, name, balance FROM accounts WHERE id = ?","params":[%d]}',
                             math.random(1, rows))
  return wrk.format(nil, nil, nil, body)
end
