package main

import (
	"testing"
	"time"

	"github.com/etlhq/etl/filters/convoso/convosotest"
)

// TestPhoneRateEndsAtTheLastFirstAsk: the rate counts the requests (retries
// included) up to the first request about the last phone asked, not the
// retries after it, which wait for their own Retry-After.
func TestPhoneRateEndsAtTheLastFirstAsk(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int, phone string) convosotest.Request {
		return convosotest.Request{Time: t0.Add(time.Duration(ms) * time.Millisecond), Path: convosotest.LeadsPath, Phone: phone}
	}
	reqs := []convosotest.Request{
		{Time: t0.Add(-time.Second), Path: convosotest.StatusPath}, // the preflight: not about a phone
		at(0, "a"), at(100, "b"), at(200, "a"), at(400, "c"), at(500, "d"),
		at(1500, "b"), at(2500, "c"), // retries after every phone was asked
	}
	span, rate := phoneRate(reqs)
	if span != 500*time.Millisecond || rate != 8 { // 5 requests in 0-500 ms: 4 intervals / 0.5 s
		t.Errorf("phoneRate = %s, %.1f/s; want 500ms, 8.0/s", span, rate)
	}
	if span, rate := phoneRate(reqs[:2]); span != 0 || rate != 0 {
		t.Errorf("one request: %s, %.1f/s; want 0, 0", span, rate)
	}
}
