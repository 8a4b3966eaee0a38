// Package gctune keeps the garbage collector from running more often than a
// small heap needs.
//
// The etl binary runs the collector at a low GOGC so that a pipeline with a
// large live heap (the backfill's 50,000 phones) stays within its memory
// budget. For a pipeline whose live heap is a few megabytes, such as a file
// streamed through where and map, the same GOGC means a collection every
// megabyte or two of allocation, and the collector takes a third of the
// run. Go sets the next heap goal from GOGC alone; it has no minimum. The
// tuner supplies one: after every collection it sets GOGC so that the next
// goal is the larger of the floor and what the base percentage gives.
package gctune

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// The runtime's figures the goal is computed from: since Go 1.18 the goal
// is live + (live + stacks + globals) × GOGC/100.
var samples = []metrics.Sample{
	{Name: "/gc/heap/live:bytes"},
	{Name: "/gc/scan/stack:bytes"},
	{Name: "/gc/scan/globals:bytes"},
}

// runtimeMinimum is the runtime's smallest heap goal at GOGC=100; it
// scales with GOGC (4 MB × GOGC/100), so a GOGC set for a tiny live heap
// must stay at or under floor/runtimeMinimum × 100, or the goal overshoots
// the floor.
const runtimeMinimum = 4 << 20

// DefaultGOGC is the etl binary's collector target unless GOGC is set: the
// heap may grow 40% over the live data before a collection, rather than
// Go's 100%. A pipeline holds its state compact, in its store or in spill
// files, so its live heap is small and steady; the backfill at 50,000
// phones peaks at 79-81 MB resident with 100%, 68-71 MB with 60% and
// 62-63 MB with 40%, for 12% more CPU than at 100% (docs/architecture.md,
// "Where the scale run's memory is"; 56.8-58.7 MB at 40% after session
// 8, where 50% and 60% came to 59.9-62.7 and 63.2-66.8 MB). GOMEMLIMIT=44MiB
// or 46MiB with GOGC=100 gave the same peak for no less CPU.
const DefaultGOGC = 40

// HeapFloor is the etl binary's smallest heap goal: below it the
// collector does not run. A pipeline with a small live heap, a file
// streamed through where and map, then collects every 16 MB of allocation
// instead of every 2 MB; that took the 1,000,000-record file bench from
// 9.0 s to 3.6 s of CPU, for 13 MB more peak RSS. 24 MB gave 10% less CPU
// but took the backfill at 5,000 phones to 67 MB.
const HeapFloor = 16 << 20

// StartDefault tunes the collector as the etl binary does (Start with
// HeapFloor and DefaultGOGC), unless GOGC is set: GOGC and GOMEMLIMIT
// then work as in any Go program, and the floor is off. etlprof calls it
// too, so that its profiles are of the same collector.
func StartDefault() {
	if _, set := os.LookupEnv("GOGC"); !set {
		Start(HeapFloor, DefaultGOGC)
	}
}

// Start makes the collector's next heap goal at least floor bytes after
// every collection, and otherwise what percent (GOGC) gives. It sets GOGC
// to percent at once. It runs for the rest of the process.
func Start(floor uint64, percent int) {
	t := &tuner{floor: floor, percent: percent, samples: append([]metrics.Sample(nil), samples...)}
	debug.SetGCPercent(percent)
	t.arm()
}

type tuner struct {
	floor   uint64
	percent int
	samples []metrics.Sample
	last    int // the GOGC last set, to skip needless calls
}

// sentinel is what the tuner hangs its finalizer on. It is larger than 16
// bytes so that it is not a tiny allocation, which shares a block with
// others and can outlive a collection.
type sentinel struct{ _ [32]byte }

// arm allocates an unreachable sentinel whose finalizer runs after the next
// collection, adjusts GOGC and arms again: Go has no callback for the end
// of a collection, and this is the usual way to get one.
func (t *tuner) arm() {
	s := new(sentinel)
	runtime.SetFinalizer(s, func(*sentinel) {
		t.adjust()
		t.arm()
	})
}

// adjust sets GOGC for the next cycle from the live heap the last
// collection left.
func (t *tuner) adjust() {
	metrics.Read(t.samples)
	p := goalPercent(t.floor, t.percent, t.samples[0].Value.Uint64(), t.samples[1].Value.Uint64(), t.samples[2].Value.Uint64())
	if p != t.last {
		t.last = p
		debug.SetGCPercent(p)
	}
}

// goalPercent returns the GOGC that puts the next heap goal, live +
// (live + stacks + globals) × GOGC/100, at the floor, and never below
// percent. When the live heap is tiny, the runtime's own minimum goal
// (runtimeMinimum, scaled by GOGC) is what bounds it.
func goalPercent(floor uint64, percent int, live, stacks, globals uint64) int {
	scan := live + stacks + globals
	if scan == 0 || live >= floor {
		return percent
	}
	p := (floor - live) * 100 / scan
	p = min(p, floor*100/runtimeMinimum)
	return int(max(uint64(percent), p))
}
