# Shared by the scripts/bench_*.sh scripts: source it, do not run it.
#
# It creates $work (a temp directory removed at exit, with the fakes
# process in $fakes_pid stopped) and builds bin/etl (cheap when up to date;
# a stale binary would measure old code) and $work/fakeapis.

work=$(mktemp -d)
fakes_pid=""
cleanup() {
	if [ -n "$fakes_pid" ]; then kill -TERM "$fakes_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o bin/etl ./cmd/etl
go build -o "$work/fakeapis" ./pipelines/internal/fakeapis

# median: the median of the numbers on stdin, one a line.
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# peak_rss_mb PID: polls the process's VmHWM (the kernel's own high-water
# mark, so a short peak between polls is not missed) until it exits, and
# prints the last value read, in MB.
peak_rss_mb() {
	local pid=$1 kb=0 v
	while v=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null) && [ -n "$v" ]; do
		kb=$v
		sleep 0.05
	done
	awk -v kb="$kb" 'BEGIN {printf "%.1f", kb/1024}'
}
