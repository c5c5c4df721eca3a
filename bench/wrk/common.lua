-- Shared by every wrk script (loaded with dofile): per-thread random seeds, per-thread
-- read/write counters, and a done() that prints one machine-readable line:
--   BENCH_RESULT {"requests":..,"duration_us":..,"p50_us":..,"p99_us":..,"p999_us":..,...}
-- Latencies come from wrk's own histogram (latency:percentile, microseconds).
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("thread_id", next_id)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919)
  reads, writes = 0, 0
end

-- Builds a JSON request body for a POST route.
function json_request(sql, params)
  return wrk.format(nil, nil, nil, string.format('{"sql":"%s","params":[%s]}', sql, params))
end

function done(summary, latency, requests)
  local r, w = 0, 0
  for _, t in ipairs(threads) do
    r = r + (t:get("reads") or 0)
    w = w + (t:get("writes") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"p999_us":%d,' ..
    '"max_us":%d,"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,' ..
    '"errors_timeout":%d,"reads":%d,"writes":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), latency.max, e.connect, e.read, e.write, e.status, e.timeout, r, w))
end
