// Package mapper provides the "map" transform: it sets fields from
// per-record expressions and drops fields, so that a pipeline reshapes its
// records in HCL.
//
//	transform "map" "shape" {
//	  input = source.bland_calls.calls
//	  set = {
//	    minutes = coalesce(record.call_length, 0)
//	    long    = record.minutes > 1          # reads the field set just above
//	    lead    = upper(record.phone)
//	  }
//	  drop = ["metadata", "raw_phone"]
//	}
//
// # Order
//
// The entries of set are evaluated for each record in the order written,
// and each sees in `record` the fields set by the entries before it; then
// the fields of drop are removed. The input record is never changed: the
// stage emits a copy.
//
// # Fields
//
// The fields set flow on to `etl validate`: a later block may read them,
// and a reference to a dropped field, or to one that nothing produces, is
// an error at its file:line:col. The transform reads records only through
// the entries of set, so the source builds only the fields those entries
// and the blocks after the map read, less those the map itself sets.
//
// # Errors
//
// An entry that fails to evaluate (a null number in arithmetic, say) fails
// the run with an error naming the field, the expression's place, the
// record's partition, its place in it and the values the entry read
// (strings masked unless --unmask). A null result is not an error: the
// field is set to null.
package mapper
