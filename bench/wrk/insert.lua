-- Single-row insert.
wrk.method = "POST"
wrk.path = "/sql/execute"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local body = string.format('{"sql":"INSERT INTO events(account_id, payload) VALUES(?, ?)","params":[%d,"%s"]}',
                             math.random(1, 100000), "event-payload-0123456789")
  return wrk.format(nil, nil, nil, body)
end
