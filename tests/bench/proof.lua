-- GET /api/v1/log/proof/inclusion at random leaves of a tree of
-- BENCH_TREE_SIZE leaves (no key: the log is public).
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local size

function init(args)
	size = tonumber(os.getenv("BENCH_TREE_SIZE"))
	math.randomseed(os.time() + tid)
end

function request()
	return wrk.format("GET", string.format(
	    "/api/v1/log/proof/inclusion?index=%d&treeSize=%d",
	    math.random(0, size - 1), size), bench.headers(false))
end
