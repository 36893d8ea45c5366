-- POST /api/v1/balance/delta: one delta per request, each for a new
-- customer with its own referenceId (valid per SPEC 3.1).
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local n = 0
local hdr

function init(args)
	hdr = bench.headers(true)
end

function request()
	n = n + 1
	local id = string.format("bench-%s-%d-%d", bench.run, tid, n)
	local body = string.format('{"customerId":"%s","delta":%s,' ..
	    '"reason":"bench emit","referenceId":"%s",' ..
	    '"metadata":{"plan":"bench"}}',
	    id, n % 2 == 0 and "-0.5" or "2.25", id)
	return wrk.format("POST", "/api/v1/balance/delta", hdr, body)
end
