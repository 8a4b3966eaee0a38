#!/usr/bin/env bash
# Backfill at scale (issue 5, "Figures"): bin/etl runs the unchanged
# pipelines/backfill.hcl for the default 38 dates (2025-12-01..2026-01-07)
# against the Bland and Convoso fakes, which run in a process of their own
# (pipelines/internal/fakeapis) so that their memory stays out of the
# figure. Prints wall time, peak RSS of the etl process (VmHWM, polled from
# /proc), and the requests each fake received.
#
# Targets: peak RSS < 64 MB whatever the number of calls; exactly one Bland
# request per date. A second, smaller run shows whether RSS grows with the
# number of calls.
#
#   BACKFILL_CALLS=10000 BACKFILL_PHONES=50000 BACKFILL_PAYLOAD=2000   the big run (the issue's numbers)
#   BACKFILL_SMALL_CALLS=1000 BACKFILL_SMALL_PHONES=5000               the small run (BACKFILL_SMALL=0 skips it)
#   BACKFILL_BLAND_LATENCY=5ms BACKFILL_CONVOSO_LATENCY=2ms            the fakes' latency
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
DAYS=38 # the pipeline's default start_date..end_date, inclusive

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

failed=0 # a run failed
missed=0 # a target was missed

# run_backfill LABEL CALLS PHONES: one fresh run with its own fakes.
run_backfill() {
	local label=$1 calls=$2 phones=$3
	local dir="$work/$label"
	mkdir -p "$dir"

	"$work/fakeapis" -calls-per-day "$calls" -phones "$phones" -payload-bytes "$PAYLOAD" \
		-bland-latency "$BLAND_LATENCY" -convoso-latency "$CONVOSO_LATENCY" >"$dir/fakes.out" 2>"$dir/fakes.err" &
	fakes_pid=$!
	local i
	for i in $(seq 100); do
		[ -s "$dir/fakes.out" ] && break
		sleep 0.05
	done
	if ! [ -s "$dir/fakes.out" ]; then
		echo "fakeapis did not start:" >&2
		cat "$dir/fakes.err" >&2
		exit 1
	fi
	local BLAND_URL CONVOSO_URL BLAND_API_KEY CONVOSO_AUTH_TOKEN
	eval "$(head -n 1 "$dir/fakes.out")"

	local status=0 wall cpu rss
	local cmd=(bin/etl run pipelines/backfill.hcl --fresh --state "$dir/state.json"
		--var "bland_url=$BLAND_URL" --var "convoso_url=$CONVOSO_URL" --var "data_dir=$dir/data")
	BLAND_API_KEY=$BLAND_API_KEY CONVOSO_AUTH_TOKEN=$CONVOSO_AUTH_TOKEN \
		"$work/rusage" -o "$dir/usage" -- "${cmd[@]}" >"$dir/etl.out" 2>"$dir/etl.err" || status=$?
	read -r wall cpu rss <"$dir/usage"

	kill -TERM "$fakes_pid"
	wait "$fakes_pid" || true
	fakes_pid=""
	local BLAND_REQUESTS BLAND_DATES BLAND_PER_DATE_MAX BLAND_PER_DATE_MIN BLAND_429 BLAND_OTHER_ERRORS
	local CONVOSO_REQUESTS CONVOSO_LEADS CONVOSO_DNC CONVOSO_STATUS CONVOSO_429 CONVOSO_MAX_IN_FLIGHT
	local BLAND_FIRST_DATE BLAND_LAST_DATE
	eval "$(tail -n +2 "$dir/fakes.out")"

	local checkpoint_mb=0
	[ -f "$dir/state.json" ] && checkpoint_mb=$(du -m "$dir/state.json" | cut -f1)
	printf '%s: %d days x %d calls/day x %d B payload, %d phones\n' "$label" "$DAYS" "$calls" "$PAYLOAD" "$phones"
	if [ "$status" -ne 0 ]; then
		echo "  etl run FAILED (exit $status):"
		tail -n 5 "$dir/etl.err" | sed 's/^/    /'
		failed=1
	fi
	printf '  wall time          %8.1f s    (CPU %.1f s)\n' "$wall" "$cpu"
	printf '  peak RSS (etl)     %8.1f MB   (target < %d)\n' "$rss" "$RSS_TARGET_MB"
	printf '  Bland requests     %8d      (%d dates, per date min %d max %d; 429s %d, other errors %d)\n' \
		"$BLAND_REQUESTS" "$BLAND_DATES" "$BLAND_PER_DATE_MIN" "$BLAND_PER_DATE_MAX" "$BLAND_429" "$BLAND_OTHER_ERRORS"
	printf '  Convoso requests   %8d      (leads %d, dnc %d, status %d; 429s %d; max in flight %d)\n' \
		"$CONVOSO_REQUESTS" "$CONVOSO_LEADS" "$CONVOSO_DNC" "$CONVOSO_STATUS" "$CONVOSO_429" "$CONVOSO_MAX_IN_FLIGHT"
	printf '  checkpoint file    %8d MB\n' "$checkpoint_mb"
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
	eval "rss_$label=$rss"
}

echo "backfill: bin/etl run pipelines/backfill.hcl against fakes in a separate process; Bland latency $BLAND_LATENCY, Convoso latency $CONVOSO_LATENCY"
run_backfill big "$CALLS" "$PHONES"
if [ "${BACKFILL_SMALL:-1}" != 0 ]; then
	run_backfill small "$SMALL_CALLS" "$SMALL_PHONES"
	echo "peak RSS: $rss_big MB at $CALLS calls/day vs $rss_small MB at $SMALL_CALLS calls/day (target: independent of the number of calls)"
fi
if [ "$failed" -ne 0 ] || { [ "${BACKFILL_STRICT:-0}" = 1 ] && [ "$missed" -ne 0 ]; }; then
	exit 1
fi
