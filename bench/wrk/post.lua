-- POST a JSON body with a bearer token; print a JSON summary at the end.
-- Environment: WRK_TOKENS_FILE (bearer tokens, one per line, rotated per request), WRK_BODY.
local tokens = {}
for t in io.lines(os.getenv("WRK_TOKENS_FILE")) do
  tokens[#tokens + 1] = t
end
local body = os.getenv("WRK_BODY") or "{}"
local requests_ = {}
local i = 0

function init(args)
  for n, t in ipairs(tokens) do
    requests_[n] = wrk.format("POST", nil, {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. t,
    }, body)
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
