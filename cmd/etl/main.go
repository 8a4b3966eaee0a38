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
package main

import (
	"os"
	_ "time/tzdata" // local_time() must work on hosts without a zone database

	"github.com/etlhq/etl/etl"
)

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr, os.Environ(), etl.Default))
}
