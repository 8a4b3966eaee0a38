#!/usr/bin/env bash
# Backfill at scale (issue 5, "Figures"): bin/etl runs the unchanged
# pipelines/backfill.hcl for the default 38 dates (2025-12-01..2026-01-07)
# against the Bland and Convoso fakes, which run in a process of their own
# (pipelines/internal/fakeapis) so that their memory stays out of the
# figure. Prints wall time, CPU and peak RSS of the etl process (from the
# kernel's accounting, scripts/rusage), the fakes' CPU, and the requests
# each fake received; then the floor of the big run: the same requests sent
# by the two API clients alone, with no pipeline (see run_floor).
#
# Targets: peak RSS < 64 MB whatever the number of calls; exactly one Bland
# request per date; the big run within 8 s (issue 10). A second, smaller run shows whether RSS grows with the
# number of calls.
#
#   BACKFILL_CALLS=10000 BACKFILL_PHONES=50000 BACKFILL_PAYLOAD=2000   the big run (the issue's numbers)
#   BACKFILL_SMALL_CALLS=1000 BACKFILL_SMALL_PHONES=5000               the small run (BACKFILL_SMALL=0 skips it)
#   BACKFILL_BLAND_LATENCY=5ms BACKFILL_CONVOSO_LATENCY=2ms            the fakes' latency
#   BACKFILL_RUNS=3                                                    big runs and floors, interleaved
#
# A missed target is printed as MISSED; the script exits non-zero only when
# a run fails, or with BACKFILL_STRICT=1 also when a target is missed (so
# that `make bench` goes on to the other figures either way).
set -euo pipefail
cd "$(dirname "$0")/.."

CALLS=${BACKFILL_CALLS:-10000}
PHONES=${BACKFILL_PHONES:-50000}
PAYLOAD=${BACKFILL_PAYLOAD:-2000}
SMALL_CALLS=${BACKFILL_SMALL_CALLS:-1000}
SMALL_PHONES=${BACKFILL_SMALL_PHONES:-5000}
BLAND_LATENCY=${BACKFILL_BLAND_LATENCY:-5ms}
CONVOSO_LATENCY=${BACKFILL_CONVOSO_LATENCY:-2ms}
RSS_TARGET_MB=64
WALL_TARGET_S=8 # issue 10, for the big run at the default sizes
RUNS=${BACKFILL_RUNS:-3} # big runs (each followed by a floor run); medians are printed
DAYS=38 # the pipeline's default start_date..end_date, inclusive

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

failed=0 # a run failed
missed=0 # a target was missed

# start_fakes DIR CALLS PHONES: the fakes in a process of their own, their
# settings line in DIR/fakes.out; sets fakes_pid.
start_fakes() {
	local dir=$1 calls=$2 phones=$3 i
	"$work/fakeapis" -calls-per-day "$calls" -phones "$phones" -payload-bytes "$PAYLOAD" \
		-bland-latency "$BLAND_LATENCY" -convoso-latency "$CONVOSO_LATENCY" >"$dir/fakes.out" 2>"$dir/fakes.err" &
	fakes_pid=$!
	for i in $(seq 100); do
		[ -s "$dir/fakes.out" ] && break
		sleep 0.05
	done
	if ! [ -s "$dir/fakes.out" ]; then
		echo "fakeapis did not start:" >&2
		cat "$dir/fakes.err" >&2
		exit 1
	fi
}

# stop_fakes: stops them, after reading the CPU they used into fakes_cpu
# (they share the machine's cores with what is measured).
stop_fakes() {
	fakes_cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$fakes_pid/stat")
	kill -TERM "$fakes_pid"
	wait "$fakes_pid" || true
	fakes_pid=""
}

# run_backfill LABEL CALLS PHONES RUN: one fresh run with its own fakes,
# in a directory of its own (a queue file left by an earlier run would be
# merged into, which is other work).
run_backfill() {
	local label=$1 calls=$2 phones=$3 run=$4
	local dir="$work/$label-$run"
	mkdir -p "$dir"
	start_fakes "$dir" "$calls" "$phones"
	local BLAND_URL CONVOSO_URL BLAND_API_KEY CONVOSO_AUTH_TOKEN
	eval "$(head -n 1 "$dir/fakes.out")"

	local status=0 wall cpu rss
	local cmd=(bin/etl run pipelines/backfill.hcl --fresh --state "$dir/state"
		--var "bland_url=$BLAND_URL" --var "convoso_url=$CONVOSO_URL" --var "data_dir=$dir/data")
	BLAND_API_KEY=$BLAND_API_KEY CONVOSO_AUTH_TOKEN=$CONVOSO_AUTH_TOKEN \
		"$work/rusage" -o "$dir/usage" -- "${cmd[@]}" >"$dir/etl.out" 2>"$dir/etl.err" || status=$?
	read -r wall cpu rss <"$dir/usage"

	stop_fakes
	local BLAND_REQUESTS BLAND_DATES BLAND_PER_DATE_MAX BLAND_PER_DATE_MIN BLAND_429 BLAND_OTHER_ERRORS
	local CONVOSO_REQUESTS CONVOSO_LEADS CONVOSO_DNC CONVOSO_STATUS CONVOSO_429 CONVOSO_MAX_IN_FLIGHT
	local BLAND_FIRST_DATE BLAND_LAST_DATE
	eval "$(tail -n +2 "$dir/fakes.out")"

	local checkpoint_mb=0
	[ -e "$dir/state" ] && checkpoint_mb=$(du -sm "$dir/state" | cut -f1)
	printf '%s: %d days x %d calls/day x %d B payload, %d phones\n' "$label" "$DAYS" "$calls" "$PAYLOAD" "$phones"
	if [ "$status" -ne 0 ]; then
		echo "  etl run FAILED (exit $status):"
		tail -n 5 "$dir/etl.err" | sed 's/^/    /'
		failed=1
	fi
	printf '  wall time          %8.1f s    (CPU %.1f s; the fakes, on the same cores: %s s)\n' "$wall" "$cpu" "$fakes_cpu"
	printf '  peak RSS (etl)     %8.1f MB   (target < %d)\n' "$rss" "$RSS_TARGET_MB"
	printf '  Bland requests     %8d      (%d dates, per date min %d max %d; 429s %d, other errors %d)\n' \
		"$BLAND_REQUESTS" "$BLAND_DATES" "$BLAND_PER_DATE_MIN" "$BLAND_PER_DATE_MAX" "$BLAND_429" "$BLAND_OTHER_ERRORS"
	printf '  Convoso requests   %8d      (leads %d, dnc %d, status %d; 429s %d; max in flight %d)\n' \
		"$CONVOSO_REQUESTS" "$CONVOSO_LEADS" "$CONVOSO_DNC" "$CONVOSO_STATUS" "$CONVOSO_429" "$CONVOSO_MAX_IN_FLIGHT"
	printf '  state on disk      %8d MB\n' "$checkpoint_mb"
	grep -E '^TOTALS:|^Convoso:|^ *sink\.redial_queue\.[a-z_]*: added' "$dir/etl.out" | sed 's/^/  | /' || true

	local one_per_date=no
	if [ "$BLAND_DATES" -eq "$DAYS" ] && [ "$BLAND_PER_DATE_MIN" -eq 1 ] && [ "$BLAND_PER_DATE_MAX" -eq 1 ]; then
		one_per_date=yes
	fi
	local rss_ok
	rss_ok=$(awk -v r="$rss" -v t="$RSS_TARGET_MB" 'BEGIN {print (r < t) ? "yes" : "no"}')
	verdict() { if [ "$1" = yes ]; then echo met; else echo MISSED; fi; }
	echo "  target: exactly one Bland request per date: $(verdict "$one_per_date")"
	echo "  target: peak RSS < $RSS_TARGET_MB MB: $(verdict "$rss_ok")"
	[ "$one_per_date" = yes ] && [ "$rss_ok" = yes ] || missed=1
	if [ "$status" -eq 0 ]; then # a failed run's figures are not the pipeline's
		echo "$rss" >>"$work/rss_$label"
		echo "$wall" >>"$work/wall_$label"
	fi
}

# run_floor RUN: the same fakes and requests without the pipeline
# (pipelines/internal/fakeapis/floor: the Bland and Convoso clients alone,
# at backfill.hcl's concurrency). No pipeline that sends these requests on
# this machine finishes sooner.
run_floor() {
	local dir="$work/floor-$1"
	mkdir -p "$dir"
	start_fakes "$dir" "$CALLS" "$PHONES"
	local status=0 wall cpu rss
	(
		set -a
		eval "$(head -n 1 "$dir/fakes.out")"
		exec "$work/rusage" -o "$dir/usage" -- "$work/floorclients" >"$dir/floor.out" 2>"$dir/floor.err"
	) || status=$?
	stop_fakes
	if [ "$status" -ne 0 ]; then
		echo "  floor FAILED (exit $status):"
		tail -n 5 "$dir/floor.err" | sed 's/^/    /'
		failed=1
		return
	fi
	read -r wall cpu rss <"$dir/usage"
	local calls phones
	read -r calls phones <"$dir/floor.out"
	printf 'floor: the same requests with the clients alone (%d calls listed, %d phones asked about; no dedupe, state or sinks)\n' "$calls" "$phones"
	printf '  wall time          %8.1f s    (CPU %.1f s; the fakes, on the same cores: %s s)\n' "$wall" "$cpu" "$fakes_cpu"
	echo "$wall" >>"$work/wall_floor"
}

echo "backfill: bin/etl run pipelines/backfill.hcl against fakes in a separate process; Bland latency $BLAND_LATENCY, Convoso latency $CONVOSO_LATENCY"
go build -o "$work/floorclients" ./pipelines/internal/fakeapis/floor
: >"$work/wall_big"; : >"$work/rss_big"; : >"$work/wall_floor"
for run in $(seq "$RUNS"); do
	echo "-- run $run of $RUNS"
	run_backfill big "$CALLS" "$PHONES" "$run"
	run_floor "$run"
done
if ! [ -s "$work/wall_big" ] || ! [ -s "$work/wall_floor" ]; then
	echo "no big run or no floor succeeded" >&2
	exit 1
fi
wall_big=$(median <"$work/wall_big")
wall_floor=$(median <"$work/wall_floor")
rss_big=$(median <"$work/rss_big")
echo "big run, medians of $RUNS: wall $wall_big s (runs: $(tr '\n' ' ' <"$work/wall_big")), the floor $wall_floor s (runs: $(tr '\n' ' ' <"$work/wall_floor")); peak RSS $rss_big MB"
printf 'target: big run wall time <= %s s: %s (%.1f s; the floor, with no pipeline, is %.1f s)\n' "$WALL_TARGET_S" \
	"$(awk -v w="$wall_big" -v t="$WALL_TARGET_S" 'BEGIN {print (w <= t) ? "met" : "MISSED"}')" "$wall_big" "$wall_floor"
if [ "${BACKFILL_SMALL:-1}" != 0 ]; then
	run_backfill small "$SMALL_CALLS" "$SMALL_PHONES" 1
	echo "peak RSS: $rss_big MB at $CALLS calls/day vs $(cat "$work/rss_small") MB at $SMALL_CALLS calls/day (target: independent of the number of calls)"
fi
if [ "$failed" -ne 0 ] || { [ "${BACKFILL_STRICT:-0}" = 1 ] && [ "$missed" -ne 0 ]; }; then
	exit 1
fi
