-- POST /api/v1/balance/delta/batch: BENCH_PER deltas per request (100
-- unless set), each for its own customer with its own referenceId.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local n = 0
local per = tonumber(os.getenv("BENCH_PER") or "100")
local hdr

function init(args)
	hdr = bench.headers(true)
end

function request()
	local items = {}
	n = n + 1
	for i = 1, per do
		local id = string.format("bench-%s-%d-%d-%d", bench.run, tid,
		    n, i)
		items[i] = string.format('{"customerId":"%s","delta":%s,' ..
		    '"reason":"bench batch","referenceId":"%s"}',
		    id, i % 2 == 0 and "-0.5" or "2.25", id)
	end
	return wrk.format("POST", "/api/v1/balance/delta/batch", hdr,
	    '{"deltas":[' .. table.concat(items, ",") .. ']}')
end
