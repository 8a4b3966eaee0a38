// Package lookup is the engine's facility for a stage that makes a keyed,
// concurrent, possibly slow call per record (convoso_status asks Convoso
// about each record's phone). The stage gives its domain as three
// functions: the key of a record, the call for a key, and what a record
// becomes given its key's answer. Lookup.Stream is then the stage's
// etl.Streamer body, and owns the rest:
//
//   - Per-key coalescing: each key is looked up once per run; records of a
//     key wait for its one answer, and a record of a key already answered
//     leaves at once.
//   - The in-flight window: up to Concurrency requests are in flight while
//     keys wait. The Lookup is a retry.Gate: a client whose Gate it is
//     holds a place only while an attempt is on the wire, so a request
//     backing off or honouring Retry-After holds up no other key. Twice
//     Concurrency keys are looked up at once, so that keys waiting to retry
//     leave the window full.
//   - Completion order: a record leaves as soon as its key is answered,
//     whatever came before it. Records of one key keep their input order. A
//     partition's mark leaves after every record of its partition (and
//     after the marks before it), so checkpoints stay exact.
//   - A memory budget instead of a window: input is read ahead while fewer
//     than Waiting records wait for an answer, so the source runs at its
//     own speed within a fixed amount of memory rather than at the
//     lookups' speed.
//   - Cancellation: the first error (a call's, an emit's, the context's)
//     stops every call; answers obtained before it are kept (Range), so a
//     stage that saves them (etl.Cacher) loses none.
//
// Retries and rate limits are the client's (etl/retry, shared by every API
// block); a stage passes its Lookup as the client's Gate.
//
// Answers are kept for the whole run, one per key: keep them small (a
// verdict, not the response they came from).
package lookup
