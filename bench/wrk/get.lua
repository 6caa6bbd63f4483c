-- GET a rotation of paths, with or without bearer tokens; print a JSON summary at the end.
-- Environment:
--   WRK_PATHS_FILE   request targets (path and query), one per line, rotated per request
--   WRK_TOKENS_FILE  optional: bearer tokens, one per line, rotated per request alongside
--                    the paths (unset: no Authorization header, as Companion is called)
-- Requests are built once in init, so wrk does the same work for every server.
local paths = {}
for p in io.lines(os.getenv("WRK_PATHS_FILE")) do
  paths[#paths + 1] = p
end
local tokens = {}
local tokens_file = os.getenv("WRK_TOKENS_FILE")
if tokens_file and tokens_file ~= "" then
  for t in io.lines(tokens_file) do
    tokens[#tokens + 1] = t
  end
end
local requests_ = {}
local i = 0

function init(args)
  local n = math.max(#paths, #tokens)
  for k = 1, n do
    local headers = {}
    if #tokens > 0 then
      headers["Authorization"] = "Bearer " .. tokens[(k - 1) % #tokens + 1]
    end
    requests_[k] = wrk.format("GET", paths[(k - 1) % #paths + 1], headers)
  end
end

function request()
  i = i % #requests_ + 1
  return requests_[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "timeouts": %d, "non_2xx": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.timeout, e.status, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
