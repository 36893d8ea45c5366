-- Shared by the wrk scripts of make bench (loaded with dofile).
--   BENCH_KEY    the X-Api-Key to send, if any
--   BENCH_RUN    a tag that keeps customerIds and referenceIds of one
--                step apart from another's
-- Each thread gets its own number (tid) from setup(), and counts its own
-- requests (n), so identifiers never repeat within a run.
local threads = 0

function setup(thread)
	thread:set("tid", threads)
	threads = threads + 1
end

bench = {
	key = os.getenv("BENCH_KEY"),
	run = os.getenv("BENCH_RUN") or "x",
}

function bench.headers(post)
	local h = {}
	if bench.key and bench.key ~= "" then
		h["X-Api-Key"] = bench.key
	end
	if post then
		h["Content-Type"] = "application/json"
	end
	return h
end

-- One line make bench reads: requests, rate and latency (ms) as wrk
-- measured them; non2xx counts answers of 400 and above.
function done(summary, latency, requests)
	local e = summary.errors
	local s = summary.duration / 1e6
	io.write(string.format('BENCH {"requests":%d,"seconds":%.3f,' ..
	    '"rps":%.1f,"p50Ms":%.3f,"p99Ms":%.3f,"maxMs":%.3f,' ..
	    '"non2xx":%d,"socketErrors":%d}\n',
	    summary.requests, s, summary.requests / s,
	    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
	    latency.max / 1e3, e.status,
	    e.connect + e.read + e.write + e.timeout))
end
