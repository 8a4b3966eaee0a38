// Package apifault is what the API fakes (blandtest, convosotest) share to
// misbehave the way real APIs do under load: a latency drawn uniformly
// between a minimum and a maximum, and every Nth request answered 500, or
// 429 with Retry-After: 1. Counting requests rather than drawing faults at
// random makes a benchmark's faults the same from run to run.
package apifault

import (
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"
)

// Faults describes how a fake misbehaves. The zero value answers at once
// and never fails.
type Faults struct {
	// Latency delays every answer; with LatencyMax above it, each answer
	// waits a uniform random time in [Latency, LatencyMax].
	Latency, LatencyMax time.Duration
	// Every500 and Every429, when positive, answer every Nth request
	// (counted from 1 over all the fake's requests) 500, or 429 with
	// Retry-After: 1. A request picked by both answers 429.
	Every500, Every429 int
}

// Delay returns one answer's latency.
func (f Faults) Delay() time.Duration {
	if f.LatencyMax <= f.Latency {
		return f.Latency
	}
	return f.Latency + rand.N(f.LatencyMax-f.Latency+1)
}

// Counter numbers a fake's requests for Faults.Status.
type Counter struct{ n atomic.Int64 }

// Status counts one request and returns the status it must answer
// instead of its data: 429, 500, or 0 for none.
func (f Faults) Status(c *Counter) int {
	if f.Every429 <= 0 && f.Every500 <= 0 {
		return 0
	}
	n := c.n.Add(1)
	switch {
	case f.Every429 > 0 && n%int64(f.Every429) == 0:
		return http.StatusTooManyRequests
	case f.Every500 > 0 && n%int64(f.Every500) == 0:
		return http.StatusInternalServerError
	}
	return 0
}

// RetryAfter is the Retry-After header a 429 from Status carries.
const RetryAfter = "1"
