// Package where provides the "where" filter: it keeps the records for
// which a per-record condition is true and drops the others, counted under
// a reason the user names.
//
//	filter "where" "not_answered" {
//	  input     = source.bland_calls.calls
//	  condition = record.answered_by != "human" || record.call_length < 0.5
//	  reason    = "answered by a person"   # default "condition false"
//	  on_error  = "fail"                   # or "drop"
//	}
//
// # Errors
//
// A condition must be a bool. One that is null, of another type, or that
// fails to evaluate (a number compared with a string, say) fails the run
// with on_error = "fail", the default; with on_error = "drop" the record is
// dropped under the reason "condition null", "condition not a bool" or
// "condition error", so that the report counts them apart from the records
// the condition rejected.
//
// The error names the record's partition, its place in it and the values
// the condition read (strings masked to their last four characters unless
// --unmask: they may be phones or names). A record's partition is the one
// whose mark follows it, as for a stateful stage's changes, so the error is
// raised when that mark arrives: the rest of the partition is read and
// dropped first, and the run then fails before the partition is done.
//
// # Fields
//
// The filter reads records only through its condition and passes them on
// unchanged, so the source builds only the fields the condition and the
// blocks after it read.
package where
