#!/usr/bin/env bash
# The file blocks' figures (issue 12): bin/etl runs
#   source "file" (jsonl) -> where (record.status == "pending") -> map -> sink "file" (jsonl)
# over 1,000,000 generated records, and prints records read per second
# against the target (>= 500,000 records/s on the 2-core machine), then
# peak RSS at 100,000 and 1,000,000 records: it must not grow with the
# file (the source streams, the sink writes as records come).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

RUNS=${FILE_BENCH_RUNS:-3}

# gen N FILE: N records of about 150 bytes, half of them pending.
gen() {
	awk -v n="$1" 'BEGIN {
		split("pending called", st, " ")
		for (i = 0; i < n; i++)
			printf "{\"id\":%d,\"phone_number\":\"%03d%03d%04d\",\"status\":\"%s\",\"attempts\":%d,\"lead_id\":\"%d\",\"created_at\":\"2026-01-%02dT%02d:%02d:00.000Z\",\"campaign\":\"web-form\"}\n",
				i, 200 + i % 800, 200 + (i / 10000) % 800, i % 10000, st[1 + i % 2], i % 5, 100000 + i, 1 + i % 28, i % 24, i % 60
	}' >"$2"
}

cat >"$work/bench.hcl" <<'HCL'
variable "in" {}
variable "out" {}
source "file" "in" {
  path   = var.in
  format = "jsonl"
}
filter "where" "pending" {
  input     = source.file.in
  condition = record.status == "pending"
  reason    = "not pending"
}
transform "map" "next" {
  input = filter.where.pending
  set   = { attempts = record.attempts + 1, source = "bench" }
  drop  = ["campaign"]
}
sink "file" "out" {
  input  = transform.map.next
  path   = var.out
  format = "jsonl"
}
HCL

# run N: RUNS runs over N records, each measured by scripts/rusage (the
# kernel's accounting of the child: wall time from start to exit, CPU time
# user + system, peak RSS; nothing polls, so nothing takes CPU from the
# run); prints "wall-median rss-median cpu-median walls".
run() {
	local n=$1
	gen "$n" "$work/in-$n.jsonl"
	: >"$work/walls"; : >"$work/rss"; : >"$work/cpu"
	for r in $(seq "$RUNS"); do
		rm -f "$work/out.jsonl"
		"$work/rusage" -o "$work/usage" -- bin/etl run --quiet "$work/bench.hcl" --state "$work/state" --var in="$work/in-$n.jsonl" --var out="$work/out.jsonl" 2>"$work/err" || { cat "$work/err"; exit 1; }
		read -r wall cpu rss <"$work/usage"
		echo "$wall" >>"$work/walls"; echo "$cpu" >>"$work/cpu"; echo "$rss" >>"$work/rss"
	done
	want=$((n / 2))
	got=$(wc -l <"$work/out.jsonl")
	[ "$got" -eq "$want" ] || { echo "wrote $got records, want $want"; exit 1; }
	echo "$(median <"$work/walls") $(median <"$work/rss") $(median <"$work/cpu") $(paste -sd, "$work/walls")"
}

echo "file (jsonl) -> where -> map -> file (jsonl), bin/etl, $RUNS runs each, medians (wall time includes start-up)"
read -r wall1m rss1m cpu1m runs1m < <(run 1000000)
read -r wall100k rss100k _ _ < <(run 100000)
rps=$(awk -v w="$wall1m" 'BEGIN {printf "%.0f", 1000000 / w}')
printf '  1,000,000 records   %7s s  %8s records/s  (runs: %s; target >= 500000: %s)\n' "$wall1m" "$rps" "$runs1m" "$(awk -v r="$rps" 'BEGIN {print (r >= 500000) ? "met" : "MISSED"}')"
printf '  CPU time            %7s s  (user + system, median: %s us a record)\n' "$cpu1m" "$(awk -v c="$cpu1m" 'BEGIN {printf "%.1f", c}')"
printf '  peak RSS            %7s MB at 100,000 records, %s MB at 1,000,000 (%s MB of input)\n' "$rss100k" "$rss1m" "$(du -m "$work/in-1000000.jsonl" | cut -f1)"
