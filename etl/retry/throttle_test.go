package retry

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// feed observes answers at rps for d from start, every nth a 429 (n = 0:
// none); it returns the time after the last.
func feed(th *Throttle, start time.Time, rps int, d time.Duration, every429 int) time.Time {
	step := time.Second / time.Duration(rps)
	now := start
	for i := 1; now.Sub(start) < d; i++ {
		status := 200
		if every429 > 0 && i%every429 == 0 {
			status = 429
		}
		th.Observe(status, now)
		now = now.Add(step)
	}
	return now
}

func TestThrottleIgnoresStray429s(t *testing.T) {
	th := NewThrottle()
	// 1 in 50 at 400/s: 8 429s a second, 2% of the answers.
	feed(th, time.Unix(0, 0), 400, 5*time.Second, 50)
	if !math.IsInf(th.Limit(), 1) {
		t.Errorf("limit %.1f/s after 2%% 429s; want none", th.Limit())
	}
}

func TestThrottleCutsAndRecovers(t *testing.T) {
	th := NewThrottle()
	// Sending 400/s, every other answer a 429: the API takes about 200/s.
	now := feed(th, time.Unix(0, 0), 400, 1500*time.Millisecond, 2)
	first := th.Limit()
	if first > 200 || first < 150 {
		t.Fatalf("limit %.1f/s after half the answers were 429s at 400/s; want 90%% of the ~200/s accepted", first)
	}
	// Still too fast for the API: cut again, but at most once a second.
	now = feed(th, now, 200, 500*time.Millisecond, 4)
	if th.Limit() != first {
		t.Errorf("limit changed within a second of the cut: %.1f → %.1f", first, th.Limit())
	}
	now = feed(th, now, 180, time.Second, 4)
	if th.Limit() >= first {
		t.Errorf("limit %.1f/s after more 429s; want below %.1f", th.Limit(), first)
	}
	// The API recovers: the limit rises a quarter a second, then goes.
	low := th.Limit()
	now = feed(th, now, 100, 3*time.Second, 0)
	if l := th.Limit(); l <= low {
		t.Errorf("limit %.1f/s after 3 s without a 429; want above %.1f", l, low)
	}
	feed(th, now, 100, 10*time.Second, 0)
	if !math.IsInf(th.Limit(), 1) {
		t.Errorf("limit %.1f/s after 13 s without a 429; want lifted", th.Limit())
	}
}

// Against an API that accepts 100 requests a second and answers 429
// beyond, 20 callers as fast as they can: once the Throttle has cut (after
// a second of answers), few answers are 429s. Without it, most are.
func TestThrottleAgainstRateLimitedAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 3 s")
	}
	lim := rate.NewLimiter(100, 10)
	var counting atomic.Bool
	var total, tooMany atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := lim.Allow()
		if counting.Load() {
			total.Add(1)
			if !ok {
				tooMany.Add(1)
			}
		}
		if !ok {
			w.WriteHeader(429)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	c := &Client{MaxRetries: 100, BackoffBase: time.Millisecond, BackoffMax: time.Millisecond, Throttle: NewThrottle()}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	time.AfterFunc(1500*time.Millisecond, func() { counting.Store(true) })
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
				c.Do(ctx, req, func(r *http.Response) error { return nil })
			}
		}()
	}
	wg.Wait()
	share := float64(tooMany.Load()) / float64(total.Load())
	if share > 0.15 || total.Load() < 100 {
		t.Errorf("%d answers in the last 1.5 s, %.0f%% of them 429s; want at least 100 and under 15%%", total.Load(), 100*share)
	}
	t.Logf("limit %.0f/s, %d answers in the last 1.5 s, %.0f%% 429s", c.Throttle.Limit(), total.Load(), 100*share)
}
