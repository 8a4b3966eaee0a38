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
// The file is the user's as much as the sink's: it is read when the sink is
// built, before any source starts (so before any API request), and one that
// is not a stats file (a JSON array of rows, each with a date) stops run and
// plan with an error naming the file, what is wrong with it and the fix
// (move it away); it is left byte-identical. The first time a run replaces
// the file, the version it started with is kept as <path>.bak; the run's
// later writes (one per date, so that a crash loses no finished date) leave
// that backup alone, and a run whose rows are already in the file writes
// nothing.
//
// The sink is stateful: its checkpoint holds the rows so far and the set of
// keys seen, so that a resumed run carries on the cumulative counts and
// rewrites the file identically. With key = record.phone that state holds
// phone numbers: cumulative counts cannot be computed without them. The
// checkpoint file must be protected like the data files.
package stats
