# Shared by the scripts/bench_*.sh scripts: source it, do not run it.
#
# It creates $work (a temp directory removed at exit, with the fakes
# process in $fakes_pid stopped) and builds bin/etl (cheap when up to date;
# a stale binary would measure old code), $work/fakeapis and $work/rusage
# (scripts/rusage: a command's wall time, CPU and peak RSS from the
# kernel's accounting, with no polling to take CPU from what it measures).

work=$(mktemp -d)
fakes_pid=""
cleanup() {
	if [ -n "$fakes_pid" ]; then kill -TERM "$fakes_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o bin/etl ./cmd/etl
go build -o "$work/fakeapis" ./pipelines/internal/fakeapis
go build -o "$work/rusage" ./scripts/rusage

# median: the median of the numbers on stdin, one a line.
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
