// Package convosotest is an in-process fake of the parts of the Convoso API
// that the convoso_status filter uses, in the manner of net/http/httptest:
// lead search (/v1/leads/search), DNC search (/v1/dnc/search) and the
// status catalogue (/v1/status/search), GET with query parameters or POST
// form-encoded, each checking auth_token.
//
// It answers like Convoso does: numbers mostly as JSON strings, errors as
// HTTP 200 with {"success": false, "code": …, "text": …}. Faults are
// injectable: latency, a 500 answered once for chosen phones, answers of
// success:false for chosen phones, and a requests-per-second limit above
// which it answers 429 with Retry-After. Every request is logged.
//
// Data is either set explicitly (SetLeads, AddDNC) or seeded for a list of
// phones (Seed): each phone gets a deterministic profile from a hash of
// the number, so the demo and end-to-end tests can start the fake with the
// phones their Bland data holds and ask Expect what the filter must do
// with each.
package convosotest
