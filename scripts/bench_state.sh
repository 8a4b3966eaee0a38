#!/usr/bin/env bash
# The state store's figures (issue 10), each against its target:
#   - the year: bin/etl runs pipelines/backfill.hcl for 365 dates x 500
#     calls over 50,000 phones against the fakes with no latency (target
#     <= 12 s), and the median state bytes a partition committed;
#   - the same year of state through the engine and the store, committed
#     incrementally and rewritten whole at each partition, in one run
#     (BenchmarkStateCommits; target: incremental <= 1/3 of whole-state).
# The dates fetched again after a SIGKILL are checked by
# TestBackfillKillRefetchesOnlyDatesInFlight (pipelines), run here too.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

"$work/fakeapis" -calls-per-day 500 -phones 50000 -bland-latency 0 -convoso-latency 0 >"$work/fakes.env" 2>"$work/fakes.err" &
fakes_pid=$!
for _ in $(seq 100); do [ -s "$work/fakes.env" ] && break; sleep 0.1; done
set -a
# shellcheck disable=SC1090
. <(head -n 1 "$work/fakes.env")
set +a

RUNS=${STATE_BENCH_RUNS:-3}

echo "year: 365 dates x 500 calls, 50,000 phones, no latency (bin/etl, fakes in their own process), $RUNS fresh runs, medians"
: >"$work/walls"; : >"$work/cpus"; : >"$work/rss"
for run in $(seq "$RUNS"); do
	"$work/rusage" -o "$work/usage" -- bin/etl --output json run --fresh pipelines/backfill.hcl --state "$work/state" --var data_dir="$work/data$run" \
		--var start_date=2025-11-30 --var end_date=2026-11-29 >"$work/year.json"
	read -r w c r <"$work/usage"
	echo "$w" >>"$work/walls"; echo "$c" >>"$work/cpus"; echo "$r" >>"$work/rss"
done
wall=$(median <"$work/walls")
rss=$(median <"$work/rss")
cpu=$(median <"$work/cpus")
bytes=$(grep '"type":"summary"' "$work/year.json" | sed -E 's/.*"state_bytes_per_partition":([0-9]+).*/\1/')
saved=$(grep '"type":"summary"' "$work/year.json" | sed -E 's/.*"saved_partitions":([0-9]+).*/\1/')
printf '  wall time               %6s s    (runs: %s; target <= 12 s: %s)\n' "$wall" "$(tr '\n' ' ' <"$work/walls")" "$(awk -v w="$wall" 'BEGIN {print (w <= 12) ? "met" : "MISSED"}')"
printf '  CPU (etl)               %6s s\n' "$cpu"
printf '  peak RSS (etl)          %6s MB\n' "$rss"
printf '  partitions committed    %6s\n' "$saved"
printf '  state bytes/partition   %6s B (median; the whole state is about %s B on disk)\n' "$bytes" "$(du -sb "$work/state" | cut -f1)"

echo
echo "year of state through the engine and the store: incremental vs whole-state rewrite (one run)"
out=$(go test -run '^$' -bench 'BenchmarkStateCommits' -benchtime 1x -count 1 ./etl)
inc=$(echo "$out" | awk '/incremental/ {print $3/1e9}')
whole=$(echo "$out" | awk '/whole-state/ {print $3/1e9}')
incb=$(echo "$out" | awk '/incremental/ {print $5}')
wholeb=$(echo "$out" | awk '/whole-state/ {print $5}')
printf '  incremental   %6.2f s  %9s bytes/partition\n' "$inc" "$incb"
printf '  whole-state   %6.2f s  %9s bytes/partition\n' "$whole" "$wholeb"
awk -v i="$inc" -v w="$whole" 'BEGIN {r = i/w; printf "  ratio         %6.3f    (target <= 0.333: %s)\n", r, (r <= 1/3) ? "met" : "MISSED"}'

echo
echo "dates fetched again per SIGKILL (30 dates, 300 ms a request; target <= 4, the source's concurrency)"
go test -count 1 -run TestBackfillKillRefetchesOnlyDatesInFlight -v ./pipelines 2>&1 | grep -E 'requested again|fetched again per kill|^(--- |ok|FAIL)' | sed 's/^ */  /'
