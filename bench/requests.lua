-- wrk script of bench/run: replays pre-built raw HTTP requests (SigV4-signed by bench/run,
-- since wrk cannot sign) and reports the figures as one JSON line.
--
--   wrk -t2 -c64 -d10s -s bench/requests.lua http://127.0.0.1:PORT -- REQUESTS_FILE THREADS
--
-- REQUESTS_FILE holds the requests one after another, each as "<byte length>\n<raw request>".
-- Thread i (of THREADS) takes requests i, i+THREADS, i+2*THREADS, ... and cycles through them;
-- `wraps` counts how often a thread started its slice again (InviteUsers wants none).

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   local path, nthreads = args[1], tonumber(args[2])
   local f = assert(io.open(path, "rb"))
   local data = f:read("*a")
   f:close()
   local all = {}
   local pos = 1
   while pos <= #data do
      local nl = data:find("\n", pos, true)
      local len = tonumber(data:sub(pos, nl - 1))
      all[#all + 1] = data:sub(nl + 1, nl + len)
      pos = nl + 1 + len
   end
   reqs = {}
   for i = 1, #all do
      if (i - 1) % nthreads == id then
         reqs[#reqs + 1] = all[i]
      end
   end
   if #reqs == 0 then -- fewer requests than threads: this thread replays them all
      reqs = all
   end
   n = 0
   wraps = 0
end

function request()
   n = n + 1
   if n > #reqs then
      n = 1
      wraps = wraps + 1
   end
   return reqs[n]
end

function done(summary, latency, requests)
   local total_wraps = 0
   for _, t in ipairs(threads) do
      total_wraps = total_wraps + t:get("wraps")
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
      '"non2xx":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"wraps":%d}\n',
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(99), latency.max,
      e.status, e.connect, e.read, e.write, e.timeout, total_wraps))
end
