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

# cpu_and_rss PID: as peak_rss_mb (lib.sh), and the process's CPU time
# (user + system) read at the same polls, appended to $work/cpu: on a
# machine shared with other work, CPU time per record says more than the
# wall time, which the target is about.
cpu_and_rss() {
	local pid=$1 kb=0 ticks=0 v t
	while v=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null) && [ -n "$v" ]; do
		kb=$v
		t=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null) && [ -n "$t" ] && ticks=$t
		sleep 0.05
	done
	awk -v kb="$kb" 'BEGIN {printf "%.1f\n", kb/1024}' >>"$work/rss"
	awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f\n", t/hz}' >>"$work/cpu"
}

# run N: RUNS runs over N records; prints "wall-median rss-median".
run() {
	local n=$1
	gen "$n" "$work/in-$n.jsonl"
	: >"$work/walls"; : >"$work/rss"; : >"$work/cpu"
	for r in $(seq "$RUNS"); do
		rm -f "$work/out.jsonl"
		start=$(date +%s.%N)
		bin/etl run --quiet "$work/bench.hcl" --state "$work/state" --var in="$work/in-$n.jsonl" --var out="$work/out.jsonl" 2>"$work/err" &
		pid=$!
		cpu_and_rss "$pid"
		wait "$pid" || { cat "$work/err"; exit 1; }
		end=$(date +%s.%N)
		awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f\n", b-a}' >>"$work/walls"
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
