package bland

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/zclconf/go-cty/cty"
)

// lister lists one date's calls: the API client, or in a test the calls
// its mock gives (etl.Mockable).
type lister interface {
	FetchDate(ctx context.Context, date string, deliver func([]Call) error) (*Day, error)
}

// mockDoc is what `etl plugins bland_calls` says of the mock.
const mockDoc = `calls: the calls of each date, by date (YYYY-MM-DD, from start_date to end_date);
a date not named has none. A call has the API's fields: call_id, created_at
(required), to, from, inbound, batch_id, status, answered_by, call_length,
metadata. The source's own logic runs on them: phones normalised, invalid
ones counted, repeated call ids dropped.
  mock "source.bland_calls.calls" {
    calls = { "2025-12-01" = [{ call_id = "c1", created_at = "2025-12-01T15:00:00Z", to = "+15615550100" }] }
  }`

// mockData is a bland_calls mock: the calls of each date, as the API
// would list them.
//
//	mock "source.bland_calls.calls" {
//	  calls = { "2025-12-01" = [{ call_id = "c1", created_at = "2025-12-01T15:00:00Z", to = "+15615550100" }] }
//	}
type mockData struct {
	Calls map[string][]mockCall `json:"calls"`
}

// mockCall is one call of a mock, with the API's field names.
type mockCall struct {
	CallID     string          `json:"call_id"`
	CreatedAt  string          `json:"created_at"`
	To         string          `json:"to"`
	From       string          `json:"from"`
	Inbound    bool            `json:"inbound"`
	BatchID    string          `json:"batch_id"`
	Status     string          `json:"status"`
	AnsweredBy string          `json:"answered_by"`
	CallLength *float64        `json:"call_length"`
	Metadata   json.RawMessage `json:"metadata"`
}

// Mock makes the source list the mock's calls instead of asking Bland: the
// source's own logic (dates in order, phones normalised and invalid ones
// counted, duplicate call ids dropped) runs on them. A date the mock does
// not name has no calls; without a mock every date fails, naming the block
// that needs one.
func (s *Source) Mock(m etl.Mock) error {
	if m.Data == cty.NilVal {
		s.client = notMocked{}
		return nil
	}
	var d mockData
	if err := etl.DecodeMock(m.Data, &d); err != nil {
		return err
	}
	days := map[string][]Call{}
	for _, date := range slices.Sorted(maps.Keys(d.Calls)) {
		if _, err := time.Parse(time.DateOnly, date); err != nil || !s.cfg.HasPartition(date) {
			return fmt.Errorf("calls[%q]: not a date from start_date %s to end_date %s (YYYY-MM-DD), which the source lists", date, s.cfg.StartDate, s.cfg.EndDate)
		}
		for i, mc := range d.Calls[date] {
			c, err := mc.call()
			if err != nil {
				return fmt.Errorf("calls[%q][%d]: %w", date, i, err)
			}
			days[date] = append(days[date], c)
		}
	}
	s.client = mockLister(days)
	return nil
}

// call checks a mock call as the API decoder checks a listed one.
func (mc mockCall) call() (Call, error) {
	if mc.CallID == "" {
		return Call{}, fmt.Errorf("no call_id")
	}
	t, err := parseCreated(mc.CreatedAt)
	if err != nil {
		return Call{}, fmt.Errorf("call %s: %w", mc.CallID, err)
	}
	c := Call{ID: mc.CallID, CreatedAt: t, To: mc.To, From: mc.From, Inbound: mc.Inbound, BatchID: mc.BatchID,
		Status: mc.Status, AnsweredBy: mc.AnsweredBy}
	if mc.CallLength != nil {
		c.CallLength, c.HasLength = *mc.CallLength, true
	}
	if len(mc.Metadata) > 0 && string(mc.Metadata) != "null" {
		c.Metadata = mc.Metadata
	}
	return c, nil
}

// mockLister lists a mock's calls, one request per date.
type mockLister map[string][]Call

// FetchDate delivers the date's calls, each call id once, as the client
// does.
func (m mockLister) FetchDate(_ context.Context, date string, deliver func([]Call) error) (*Day, error) {
	day := &Day{Date: date, Requests: 1, Pages: 1, TotalCount: len(m[date])}
	seen := map[string]bool{}
	var calls []Call
	for _, c := range m[date] {
		if seen[c.ID] {
			day.Duplicates++
			continue
		}
		seen[c.ID] = true
		calls = append(calls, c)
	}
	day.Calls = len(calls)
	if len(calls) == 0 {
		return day, nil
	}
	return day, deliver(calls)
}

// notMocked is the lister of a test that gives the source no mock.
type notMocked struct{}

// FetchDate fails: the test reached the API.
func (notMocked) FetchDate(_ context.Context, date string, _ func([]Call) error) (*Day, error) {
	return nil, fmt.Errorf("date %s: GET %s: %w", date, callsPath, etl.ErrNotMocked)
}
