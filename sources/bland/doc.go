// Package bland is the bland_calls source: every Bland.ai call in a date
// range, one date at a time, as records.
//
// Each date is asked for in one request (GET /v1/calls?created_at=DATE),
// because Bland's page-based listing has been seen to return the same page
// over and over. When a date's total_count exceeds what came back, the
// source pages with from/to, deduplicating by call id; a page that brings
// nothing new fails the run (or, with on_incomplete = "warn", marks the
// date incomplete) rather than passing a short date silently. Its message
// says which way the listing fell short and advises raising limit or
// max_pages only when that would help (IncompleteError).
//
// The range is checked at load time (so by etl validate): no date after
// today in UTC (the clock is the package variable now, for tests), and no
// more than max_dates dates. Before its first request a run reports how
// many dates it will fetch, leaving out those the checkpoint holds, and so
// the least number of requests, which is what etl plan shows of the cost.
//
// Responses are decoded as a stream keeping only the fields records need
// (of those, only the ones some block downstream reads: Env.Fields), so a
// date of large calls costs little memory. The date being emitted streams:
// its records go out while its response is read. Dates fetched ahead wait
// packed, and past a budget in a spill file. Requests are retried with
// backoff (see package etl/retry); a retried response's calls already
// delivered are not delivered again. Each date is one partition, emitted in
// date order even when several dates are fetched at once, so a resumed run
// skips finished dates.
//
// Package blandtest is a fake of the API for tests and the demo.
package bland
