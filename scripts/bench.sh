#!/usr/bin/env bash
# Prints the figures the issues ask for. Runs each benchmark several times and
# reports medians: the machines are shared and noisy, so compare ratios
# measured in one run rather than absolute numbers across runs.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${BENCH_COUNT:-5}

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

echo "== engine: gen -> map (per-record expression) -> discard, $COUNT runs each, medians"
out=$(go test -run '^$' -bench 'BenchmarkEngine' -benchtime 1x -count "$COUNT" ./etl)
for name in $(echo "$out" | awk '/^BenchmarkEngine/ {sub(/-[0-9]+$/, "", $1); print $1}' | sort -u); do
	rps=$(echo "$out" | awk -v n="$name" '$1 ~ "^"n"(-[0-9]+)?$" {for (i=1;i<=NF;i++) if ($(i+1)=="records/s") print $i}' | median)
	heap=$(echo "$out" | awk -v n="$name" '$1 ~ "^"n"(-[0-9]+)?$" {for (i=1;i<=NF;i++) if ($(i+1)=="peak-heap-MB") print $i}' | median)
	printf '%-60s %12.0f records/s  peak heap %6.1f MB\n' "${name#BenchmarkEngine/}" "$rps" "$heap"
done

for extra in scripts/bench_*.sh; do
	[ -x "$extra" ] || continue
	echo
	echo "== $extra"
	"$extra"
done
