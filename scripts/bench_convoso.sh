#!/usr/bin/env bash
# Figures for issue 4 (convoso_status and dedupe_latest), against the
# in-process convosotest fake on 127.0.0.1: wall time of 2,000 lookups vs
# phones×latency÷concurrency and vs phones÷rate (zero 429s wanted), and the
# backfill shape with emit = "end" vs "updates". Medians of BENCH_RUNS runs.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./filters/convoso/internal/bench -runs "${BENCH_RUNS:-3}" "$@"
