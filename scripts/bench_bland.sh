#!/usr/bin/env bash
# bland_calls figures: a 100 MB day served by the fake on loopback, the whole
# source against a bare download of the same bytes in the same run, and the
# peak RSS of a 1 MB day against a 100 MB day (each in its own subprocess).
# Targets (issue 3): whole source <= 2x bare download; RSS difference < 16 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/blandbench" ./sources/bland/blandtest/cmd/blandbench
"$bin/blandbench" -runs "${BENCH_COUNT:-5}" -mb "${BLAND_BENCH_MB:-100}"
