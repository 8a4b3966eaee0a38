// Package stats provides the "stats" sink: per-partition (per-date) call
// counts and distinct-key counts, written as a JSON array of rows after
// every partition and reported on the console in the shape of the original
// backfill script.
//
//	sink "stats" "daily" {
//	  input = source.bland_calls.calls
//	  key   = record.phone
//	  path  = "${var.data_dir}/backfill-stats.json"
//	}
//
// The sink is stateful: its checkpoint holds the rows so far and the set of
// keys seen, so that a resumed run carries on the cumulative counts and
// rewrites the file identically. With key = record.phone that state holds
// phone numbers: cumulative counts cannot be computed without them. The
// checkpoint file must be protected like the data files.
package stats
