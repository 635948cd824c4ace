-- wrk script of the load test: rotates over partd's status routes and counts
-- replies by class. Usage: wrk -s status.lua URL   (the URL's path is unused)
-- PARTD_TOKEN, when set, is sent as the bearer token.
local paths = {"/v1/partitions", "/v1/partitions/prod", "/v1/cpc"}
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   i = 0
   c2xx, c4xx, c5xx, other = 0, 0, 0, 0
   local token = os.getenv("PARTD_TOKEN")
   if token then
      wrk.headers["Authorization"] = "Bearer " .. token
   end
end

function request()
   i = i + 1
   return wrk.format("GET", paths[(i % #paths) + 1])
end

function response(status, headers, body)
   if status >= 200 and status < 300 then
      c2xx = c2xx + 1
   elseif status >= 400 and status < 500 then
      c4xx = c4xx + 1
   elseif status >= 500 then
      c5xx = c5xx + 1
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   local t = {c2xx = 0, c4xx = 0, c5xx = 0, other = 0}
   for _, thread in ipairs(threads) do
      for k, _ in pairs(t) do
         t[k] = t[k] + thread:get(k)
      end
   end
   io.write(string.format("STATUS 2xx=%d 4xx=%d 5xx=%d other=%d errors=%d p50_us=%d p99_us=%d\n",
                          t.c2xx, t.c4xx, t.c5xx, t.other,
                          summary.errors.connect + summary.errors.read + summary.errors.write +
                          summary.errors.timeout + summary.errors.status,
                          latency:percentile(50), latency:percentile(99)))
end
