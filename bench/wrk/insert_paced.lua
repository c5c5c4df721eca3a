-- Single-row insert at a steady total rate (wrk has no rate limit of its own; wrk2 is not packaged).
--   BENCH_RATE     requests per second in all (default 5000)
--   BENCH_THREADS  the wrk -t value, so that each thread paces BENCH_RATE / BENCH_THREADS
-- Each thread keeps one schedule of send times, interval 1/rate apart, and every connection of the
-- thread takes the next free slot in delay() (wrk calls it before each request and waits that many
-- ms). A late server is caught up with (constant rate), but never by more than one second of requests.
-- The clock is CLOCK_MONOTONIC through LuaJIT's ffi (os.time has 1 s resolution).
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

wrk.method = "POST"
wrk.path = "/sql/execute"
wrk.headers["Content-Type"] = "application/json"
local rows = tonumber(os.getenv("BENCH_ROWS") or "100000")
local rate = tonumber(os.getenv("BENCH_RATE") or "5000") / tonumber(os.getenv("BENCH_THREADS") or "1")
local interval_ms = 1000 / rate
local next_ms = nil

function delay()
  local now = now_ms()
  if next_ms == nil or next_ms < now - 1000 then next_ms = now end
  next_ms = next_ms + interval_ms
  return math.max(0, math.floor(next_ms - now))
end

request = function()
  writes = writes + 1
  return json_request("INSERT INTO events(account_id, payload) VALUES(?, ?)",
                      string.format('%d,"event-payload-0123456789"', math.random(1, rows)))
end
