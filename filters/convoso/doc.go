// Package convoso provides the "convoso_status" filter and its Convoso API
// client: it keeps the records whose phone Convoso may redial.
//
//	filter "convoso_status" "redialable" {
//	  input               = transform.dedupe_latest.latest_call
//	  auth_token          = env("CONVOSO_AUTH_TOKEN")
//	  phone               = record.phone
//	  exclude_statuses    = ["SALE", "DNC"]
//	  exclude_flags       = ["dnc"]   # statuses the catalogue flags DNC
//	  check_dnc_list      = true
//	  concurrency         = 50
//	  requests_per_second = 0
//	  on_not_found        = "drop"
//	  on_lookup_error     = "fail"  # or "skip": drop the phone, list it, exit 3
//	}
//
// # Rules
//
// A phone is excluded when ANY of its leads has an excluded status (a SALE
// on one list wins over a callback on another); the drop is counted as
// "excluded: STATUS", naming the alphabetically first excluded status the
// phone has. A phone without leads is "not found": dropped, or kept with
// lead_id = null when on_not_found = "keep". With check_dnc_list, a phone
// that would otherwise be kept is looked up on the global DNC list (one
// more request) and dropped as "on dnc list". A kept record gains lead_id,
// lead_status and list_id of the lead modified last (modified_at; the
// greater id on a tie) and lead_count.
//
// # Lookups
//
// Each distinct phone is looked up once per run; a record repeating a
// phone (dedupe_latest with emit = "updates") reuses the answer. The
// lookups are etl/lookup's: up to concurrency requests are in flight while
// phones wait, across batches and partitions, under requests_per_second; a
// request waiting to retry (a backoff, a Retry-After) holds up no other
// phone. Records leave as their phone is answered, not in input order (a
// phone's records keep theirs), and each partition mark after every record
// of its partition. Input is read ahead of the lookups while fewer than
// 4,096 records wait for their phone, so the source fetches at its own
// speed in a bounded amount of memory.
//
// Requests are POSTed form-encoded so that auth_token is never part of a
// URL, and are sent by etl/retry, the same retry policy as the Bland
// source: the first retry of a 5xx within 100 ms, Retry-After honoured by
// the request that got it only, and repeated 429s lowering the request
// rate until they stop. Convoso reports errors as HTTP 200 with
// "success": false: a refused token fails the run at once with Convoso's
// text; other such answers are retried, then fail the run naming the phone
// masked to its last four digits, and the code.
//
// # A lookup that keeps failing
//
// By default (on_lookup_error = "fail") a phone out of retries fails the
// run. The answers obtained so far are not lost: the filter is an
// etl.Cacher, and the verdict per phone goes into the checkpoint (with
// every save, and once more as the run stops), so resuming asks only about
// the phones not yet answered. A completed run's checkpoint keeps no
// answer, so running the pipeline again looks every phone up afresh.
// Answers decided under other settings (exclude_statuses edited in
// between) are not reused. With on_lookup_error = "skip", such a phone's
// records are dropped as "lookup failed", the phone is counted in the
// Convoso line and listed, masked, by Skipped (etl.Skipper), and etl
// exits 3; it is never saved as an answer. A refused token still fails
// the run.
//
// The convosotest package beside this one is a fake of the API for tests,
// the demo and benchmarks.
package convoso
