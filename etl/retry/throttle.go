package retry

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Throttle lowers a client's request rate while an API keeps answering 429,
// and lets it recover once the 429s stop, so that a rate-limited API is
// asked at about the rate it accepts instead of every request hitting its
// limit. Its zero value is not usable; a Client uses the one NewThrottle
// returns.
//
// The rule, over the last two seconds of answers:
//   - 429s that are fewer than 3, or under 10% of the answers, change
//     nothing: a stray 429 is answered by its own Retry-After (the request
//     that got it waits, the others go on);
//   - more, once a second of answers is in, cut the rate to 90% of the
//     rate the API accepted over that window (at least 1 a second), at
//     most once a second;
//   - each second without a 429 raises the rate by a quarter, and once it
//     is back above the rate sent when the first cut came, the limit is
//     lifted.
type Throttle struct {
	mu      sync.Mutex
	limiter *rate.Limiter
	// cur and prev count the answers of the current second and the one
	// before it.
	cur, prev bucket
	// cut is when the rate last changed; peak the sending rate observed
	// at the first cut (the limit is lifted above it).
	cut  time.Time
	peak float64
}

type bucket struct {
	start          time.Time
	total, tooMany int
}

// Throttle tuning (see the type's doc).
const (
	throttleMin429s = 3
	throttleShare   = 0.10
	throttleCutTo   = 0.9
	throttleRecover = 1.25
	throttleFloor   = 1.0 // requests a second
	throttleStep    = time.Second
)

// NewThrottle returns a Throttle that does not limit until 429s call for it.
func NewThrottle() *Throttle {
	return &Throttle{limiter: rate.NewLimiter(rate.Inf, 1)}
}

// Wait blocks until the current rate allows another request.
func (t *Throttle) Wait(ctx context.Context) error {
	return t.limiter.Wait(ctx)
}

// Limit returns the current rate in requests a second; +Inf when none.
func (t *Throttle) Limit() float64 {
	if l := t.limiter.Limit(); l != rate.Inf {
		return float64(l)
	}
	return math.Inf(1)
}

// Observe records one answer's HTTP status (0 when none came) at now.
func (t *Throttle) Observe(status int, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rotate(now)
	t.cur.total++
	if status == 429 {
		t.cur.tooMany++
		t.maybeCut(now)
		return
	}
	t.maybeRecover(now)
}

// rotate starts a new bucket each second.
func (t *Throttle) rotate(now time.Time) {
	switch age := now.Sub(t.cur.start); {
	case t.cur.start.IsZero() || age >= 2*throttleStep:
		t.prev, t.cur = bucket{}, bucket{start: now}
	case age >= throttleStep:
		t.prev, t.cur = t.cur, bucket{start: now}
	}
}

// window returns the answers and 429s of the last two buckets and the time
// they span.
func (t *Throttle) window(now time.Time) (total, tooMany int, span time.Duration) {
	start := t.cur.start
	if !t.prev.start.IsZero() {
		start = t.prev.start
	}
	return t.prev.total + t.cur.total, t.prev.tooMany + t.cur.tooMany, now.Sub(start)
}

// maybeCut lowers the rate when the window, a second long at least (so
// that a burst does not read as a rate), calls for it.
func (t *Throttle) maybeCut(now time.Time) {
	total, tooMany, span := t.window(now)
	if span < throttleStep || tooMany < throttleMin429s || float64(tooMany) < throttleShare*float64(total) || now.Sub(t.cut) < throttleStep {
		return
	}
	accepted := float64(total-tooMany) / span.Seconds()
	limit := t.Limit()
	if math.IsInf(limit, 1) {
		t.peak = float64(total) / span.Seconds()
		limit = accepted
	}
	limit = max(throttleFloor, throttleCutTo*min(limit, accepted))
	t.limiter.SetLimitAt(now, rate.Limit(limit))
	t.cut = now
}

func (t *Throttle) maybeRecover(now time.Time) {
	limit := t.Limit()
	if math.IsInf(limit, 1) || now.Sub(t.cut) < throttleStep {
		return
	}
	if _, tooMany, _ := t.window(now); tooMany > 0 {
		return
	}
	limit *= throttleRecover
	if limit >= t.peak {
		t.limiter.SetLimitAt(now, rate.Inf)
	} else {
		t.limiter.SetLimitAt(now, rate.Limit(limit))
	}
	t.cut = now
}
