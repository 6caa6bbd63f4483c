-- POST /uploads with an optional profile and scope; print a JSON summary at the end.
-- Environment:
--   WRK_TOKENS_FILE  bearer tokens, one per line, rotated per request
--   WRK_PROFILE      the body's "profile" (unset: none, the default profile)
--   WRK_SCOPE        the body's "scope" (unset: none)
--   WRK_UNIQUE       "1": every request names its own scope, WRK_SCOPE .. "-<thread>-<n>",
--                    so no answer of the authorization hook can be reused
-- Every variant builds its body per request, so wrk does the same work for each.
local tokens = {}
for t in io.lines(os.getenv("WRK_TOKENS_FILE")) do
  tokens[#tokens + 1] = "Bearer " .. t
end
local profile = os.getenv("WRK_PROFILE")
local scope = os.getenv("WRK_SCOPE")
local unique = os.getenv("WRK_UNIQUE") == "1"
local head = '{"fileName":"photo.jpg","fileType":"image/jpeg","fileSize":2000000'
if profile and profile ~= "" then
  head = head .. ',"profile":"' .. profile .. '"'
end
local n_threads = 0

function setup(thread)
  n_threads = n_threads + 1
  thread:set("tid", n_threads)
end

local i = 0

function request()
  i = i + 1
  local body = head
  if scope and scope ~= "" then
    local s = scope
    if unique then
      s = s .. "-" .. tid .. "-" .. i
    end
    body = body .. ',"scope":"' .. s .. '"'
  end
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = tokens[(i - 1) % #tokens + 1],
  }, body .. "}")
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
