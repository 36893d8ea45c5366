#!/usr/bin/env bash
# lane.sh OUTDIR SCRIPT...: runs the e2e scripts one after another, each
# with a stack of its own, and leaves OUTDIR/SCRIPT.out (its output) and
# OUTDIR/SCRIPT.rc ("STATUS SECONDS") for run.sh, which runs this lane
# beside its own and reads both when it joins it.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
out=$1
shift
mkdir -p "$out"
for script; do
	start=$SECONDS
	"$REPO/tests/e2e/$script" > "$out/$script.out" 2>&1
	echo "$? $((SECONDS - start))" > "$out/$script.rc"
done
