// Package dedupe provides the "dedupe_latest" transform: it keeps one record
// per key, the one with the greatest order_by value.
//
//	transform "dedupe_latest" "latest_call" {
//	  input    = source.bland_calls.calls
//	  key      = record.phone        # records whose key is null are dropped
//	  order_by = record.created_at   # greatest wins
//	  emit     = "end"               # or "updates"
//	}
//
// # Ties
//
// When two records of a key have equal order_by values, the one with the
// greater tie_breaker value wins (a per-record expression such as
// record.call_id; null sorts before any value). Without a tie_breaker, or
// when the tie-breakers are equal too, the first record seen is kept: a
// later equal record is dropped as "not latest" and, with emit = "updates",
// sends no update. The source's order then decides, so name a tie_breaker
// when the input's order is not reproducible.
//
// # Emitting
//
// With emit = "end" the kept records are emitted once, at the end of input,
// sorted by key, so the output is reproducible. With emit = "updates" a
// record is emitted as soon as its key is first seen or becomes the key's
// latest, so downstream lookups can start while the source is still
// reading; the last update of each key is the record "end" would emit.
//
// # Memory and state
//
// The transform keeps one record per distinct key, never all the records,
// in its state table (etl.Table: the engine commits each partition's
// changes with the partition, in the state store), encoded after their
// rank, so a record is written once, when it becomes its key's latest.
// Memory holds per key only its order_by when that is a time, so that most
// comparisons need no read. Values round-trip exactly (strings, numbers,
// bools, typed nulls, lists, maps and objects). After a restore with emit =
// "updates" the restored records are emitted first, so that a resumed run's
// downstream sees every key (the transform Replays). It reads records only
// through key, order_by and tie_breaker, so sources upstream build only
// the fields downstream reads.
package dedupe
