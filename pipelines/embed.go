// Package pipelines holds the pipelines that ship with etl, embedded so
// that `etl demo` can run the backfill from any directory.
package pipelines

import _ "embed"

// Backfill is pipelines/backfill.hcl.
//
//go:embed backfill.hcl
var Backfill []byte
