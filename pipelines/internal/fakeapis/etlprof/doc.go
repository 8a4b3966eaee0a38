// Command etlprof is bin/etl with profiles, for finding where a run's time
// and memory go: it takes the same arguments as etl, writes a CPU profile
// of the whole run to $ETLPROF_DIR/cpu.pprof, and rewrites
// $ETLPROF_DIR/heap.pprof each time the live heap (as of the last GC) grows
// by a tenth, so the file left at the end shows the heap at its peak.
// $ETLPROF_DIR/heap.log has the live heap every half second.
//
//	go build -o /tmp/etlprof ./pipelines/internal/fakeapis/etlprof
//	ETLPROF_DIR=/tmp/p /tmp/etlprof run pipelines/backfill.hcl --fresh --state /tmp/p/state.json --var ...
//	go tool pprof -top -inuse_space /tmp/etlprof /tmp/p/heap.pprof
//
// It lives next to fakeapis because the two are used together (see
// scripts/bench_backfill.sh for how the fakes are started).
package main
