#!/usr/bin/env bash
# The backfill at the speed of its APIs (issue 11): bin/etl runs the
# unchanged pipelines/backfill.hcl for its 38 dates against the Bland and
# Convoso fakes (pipelines/internal/fakeapis, a process of their own),
# ~400 calls a date to 2,000 phones, under two conditions:
#
#   clean   every request takes 50 ms
#   faulty  20-200 ms per request (uniform), 1 request in 20 answers 500,
#           1 in 50 answers 429 with Retry-After: 1
#
# and prints each against its target: clean <= 2.1 s (0.84 x the 2.5 s
# bound: 10 rounds of 4 dates plus 2,000 lookups x 50 ms / 50 in flight);
# faulty <= 4.5 s with the queue and stats files identical to the clean
# run's, and Convoso requests about phones arriving at >= 80% of
# concurrency / mean latency (50 / 110 ms) while phones wait to be asked,
# measured from the fake's request log (from the first request about a
# phone to the first about the last phone asked: the retries after it wait
# for their own Retry-After). Medians of FLOW_RUNS runs (default 3).
#
# A missed target is printed as MISSED; the script exits non-zero only when
# a run fails, or with FLOW_STRICT=1 also when a target is missed.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${FLOW_RUNS:-3}
CALLS=${FLOW_CALLS:-400}
PHONES=${FLOW_PHONES:-2000}
CONCURRENCY=50 # pipelines/backfill.hcl's convoso_status concurrency

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

failed=0
missed=0

# run_once DIR FAKE_FLAGS...: one fresh run; writes DIR/wall and the
# fake's counts to DIR/fakes.out.
run_once() {
	local dir=$1
	shift
	mkdir -p "$dir"
	"$work/fakeapis" -calls-per-day "$CALLS" -phones "$PHONES" "$@" >"$dir/fakes.out" 2>"$dir/fakes.err" &
	fakes_pid=$!
	local i
	for i in $(seq 100); do
		[ -s "$dir/fakes.out" ] && break
		sleep 0.05
	done
	local BLAND_URL CONVOSO_URL BLAND_API_KEY CONVOSO_AUTH_TOKEN
	eval "$(head -n 1 "$dir/fakes.out")"
	local start end status=0
	start=$(date +%s.%N)
	BLAND_API_KEY=$BLAND_API_KEY CONVOSO_AUTH_TOKEN=$CONVOSO_AUTH_TOKEN \
		bin/etl run pipelines/backfill.hcl --fresh --state "$dir/state.json" \
		--var "bland_url=$BLAND_URL" --var "convoso_url=$CONVOSO_URL" --var "data_dir=$dir/data" \
		>"$dir/etl.out" 2>"$dir/etl.err" || status=$?
	end=$(date +%s.%N)
	kill -TERM "$fakes_pid"
	wait "$fakes_pid" || true
	fakes_pid=""
	if [ "$status" -ne 0 ]; then
		echo "  etl run FAILED (exit $status):"
		tail -n 5 "$dir/etl.err" | sed 's/^/    /'
		failed=1
	fi
	awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f\n", b - a}' >"$dir/wall"
}

verdict() { if [ "$1" = 1 ]; then echo met; else missed=1; echo MISSED; fi; }

# condition LABEL TARGET_S MEAN_LATENCY_MS RATE_TARGET(0/1) FAKE_FLAGS...
condition() {
	local label=$1 target=$2 mean_ms=$3 rate_target=$4
	shift 4
	local r walls="" rates="" spans=""
	for r in $(seq "$RUNS"); do
		run_once "$work/$label/$r" "$@"
		walls+="$(cat "$work/$label/$r/wall") "
		local CONVOSO_PHONE_RPS CONVOSO_PHONE_SPAN_S CONVOSO_REQUESTS CONVOSO_429 CONVOSO_500 CONVOSO_MAX_IN_FLIGHT
		eval "$(tail -n +2 "$work/$label/$r/fakes.out" | grep '^CONVOSO_')"
		rates+="$CONVOSO_PHONE_RPS "
		spans+="$CONVOSO_PHONE_SPAN_S "
	done
	local wall rate span floor
	wall=$(echo "$walls" | tr ' ' '\n' | grep . | median)
	rate=$(echo "$rates" | tr ' ' '\n' | grep . | median)
	span=$(echo "$spans" | tr ' ' '\n' | grep . | median)
	floor=$(awk -v c="$CONCURRENCY" -v m="$mean_ms" 'BEGIN {printf "%.0f", 0.8 * c / (m / 1000)}')
	printf '%s: wall %s s (runs: %s)\n' "$label" "$wall" "$walls"
	printf '  Convoso requests while phones waited to be asked: %s/s over %s s (median); last run: %d requests, %d 429s, %d 500s, max in flight %d\n' \
		"$rate" "$span" "$CONVOSO_REQUESTS" "$CONVOSO_429" "$CONVOSO_500" "$CONVOSO_MAX_IN_FLIGHT"
	grep -E '^TOTALS:|^Convoso:' "$work/$label/1/etl.out" | sed 's/^/  | /' || true
	echo "  target: wall <= $target s: $(verdict "$(awk -v w="$wall" -v t="$target" 'BEGIN {print (w <= t)}')")"
	[ "$rate_target" = 1 ] || return 0
	echo "  target: Convoso >= $floor requests/s while phones wait (80% of $CONCURRENCY / $mean_ms ms): $(verdict "$(awk -v r="$rate" -v f="$floor" 'BEGIN {print (r >= f)}')")"
}

echo "flow: bin/etl run pipelines/backfill.hcl, 38 dates x $CALLS calls, $PHONES phones, fakes in a separate process; medians of $RUNS runs"
condition clean 2.1 50 0 -bland-latency 50ms -convoso-latency 50ms
condition faulty 4.5 110 1 -bland-latency 20ms -bland-latency-max 200ms -convoso-latency 20ms -convoso-latency-max 200ms -every-500 20 -every-429 50
same=1
for r in $(seq "$RUNS"); do
	diff -r "$work/clean/1/data" "$work/faulty/$r/data" >/dev/null || same=0
done
echo "faulty: target: queue and stats identical to the clean run's: $(verdict "$same")"
if [ "$failed" -ne 0 ] || { [ "${FLOW_STRICT:-0}" = 1 ] && [ "$missed" -ne 0 ]; }; then
	exit 1
fi
