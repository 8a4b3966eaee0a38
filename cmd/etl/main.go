// Command etl runs declarative ETL pipelines written in HCL.
//
//	etl run pipelines/backfill.hcl       run it
//	etl plan pipelines/backfill.hcl      read everything, write nothing, show the changes
//	etl validate pipelines/backfill.hcl  check it without any network
//	etl plugins [NAME]                   list plugins, or show one's attributes
//	etl fmt [--check] FILE...            canonical formatting
//	etl demo                             the backfill against built-in fake APIs
//
// Exit status: 0 success (plan: no changes), 1 error, 2 plan with
// --detailed-exitcode and changes, 64 usage error, 130 interrupted.
// The commands live in package cli so that end-to-end tests can run them
// in a subprocess of the test binary.
package main

import (
	"os"

	"github.com/etlhq/etl/cmd/etl/cli"
	"github.com/etlhq/etl/cmd/etl/gctune"
	"github.com/etlhq/etl/etl"
)

// defaultGOGC is the collector's target unless GOGC is set: the heap may
// grow 40% over the live data before a collection, rather than Go's 100%.
// A pipeline holds its state compact, in its store or in spill files, so
// its live heap is small and steady; the backfill at 50,000 phones peaks
// at 79-81 MB resident with 100%, 68-71 MB with 60% and 62-63 MB with 40%,
// for 12% more CPU than at 100% (docs/architecture.md, "Where the scale
// run's memory is"). GOGC and
// GOMEMLIMIT work as in any Go program; setting GOGC also turns the heap
// floor off.
const defaultGOGC = 40

// heapFloor is the smallest heap goal (package gctune): below it the
// collector does not run. A pipeline with a small live heap, a file
// streamed through where and map, then collects every 16 MB of allocation
// instead of every 2 MB; that takes the 1,000,000-record file bench from
// 9.0 s to 3.6 s of CPU, for 13 MB more peak RSS (51 MB). 24 MB gave 10%
// less CPU but took the backfill at 5,000 phones to 67 MB.
const heapFloor = 16 << 20

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		gctune.Start(heapFloor, defaultGOGC)
	}
	// No profiling here: a binary that links runtime/pprof keeps the
	// runtime's memory profile on, whose table of sampled allocations is
	// 1.4 MB of every run's memory. pipelines/internal/fakeapis/etlprof
	// is this command with CPU and heap profiles.
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr, os.Environ(), etl.Default))
}
