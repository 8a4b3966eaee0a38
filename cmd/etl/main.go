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

func main() {
	gctune.StartDefault()
	// No profiling here: a binary that links runtime/pprof keeps the
	// runtime's memory profile on, whose table of sampled allocations is
	// 1.4 MB of every run's memory. pipelines/internal/fakeapis/etlprof
	// is this command with CPU and heap profiles.
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr, os.Environ(), etl.Default))
}
