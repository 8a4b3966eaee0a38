// Package blandtest is an in-process fake of the Bland.ai call-listing API
// (GET /v1/calls?created_at=YYYY-MM-DD), for tests, benchmarks and the demo,
// in the manner of net/http/httptest.
//
// It serves deterministic generated calls: the same Config gives the same
// calls, so a test can compute what a correct client must produce with
// Server.Calls and Server.Stats. The data is realistic in the ways that
// matter: mixed phone formats, both id field names (call_id and c_id),
// inbound calls, invalid phones, one exact duplicate per date, variable
// fractional seconds, unknown fields. By default every date has the same
// number of calls, which tests and benchmarks count on; Config.Traffic
// shapes them like a call center's instead (weekends, holidays, batch days
// of new leads, varying shares of invalid and inbound calls), the data of
// the demo (Demo). Faults can be injected per date:
// latency, error statuses (429 with Retry-After, 500, ...), a body cut off
// mid-JSON, and a truncated date whose paging is broken. Every request is
// logged, so tests can assert "exactly one request per date".
package blandtest
