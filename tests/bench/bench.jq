# What run.sh and medians.sh share: a row's targets judged from its own
# figures, and the table printed from bench/results.json's shape.
#
# A row's goals: [{field, min | max, of}]: met when every goal's field
# is at least min or at most max; "of" names another row's step, whose
# same field scales the bound (a 1M figure against its 1k one).

def judge:
	. as $rows
	| map(. as $row
	  | . + {met: (if (.goals | length) == 0 then null else
	      all(.goals[]; . as $g
	        | ($row[$g.field]) as $v
	        | (if $g.of == null then 1 else
	            ($rows[] | select(.step == $g.of) | .[$g.field]) end) as $scale
	        | $v != null
	          and (if $g.min != null then $v >= $g.min * $scale else true end)
	          and (if $g.max != null then $v <= $g.max * $scale else true end))
	    end)});

def table:
	def f: if . == null then "-" else tostring end;
	def m: if . == null then "" elif . then "met" else "MISSED" end;
	(["step", "what", "rate", "unit", "p50 ms", "p99 ms", "× ceiling",
	  "cpu µs", "target"] | @tsv),
	(.rows[] | [.step, .what, (.rate | f), .unit, (.p50Ms | f),
	  (.p99Ms | f), (.ratio | f), (.cpuUs | f),
	  (if .target then "\(.target): \(.met | m)" else "" end)] | @tsv);
