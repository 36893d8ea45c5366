-- GET BENCH_PATH (the ceiling, derive), with BENCH_KEY if set.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local req

function init(args)
	req = wrk.format("GET", os.getenv("BENCH_PATH"), bench.headers(false))
end

function request()
	return req
end
