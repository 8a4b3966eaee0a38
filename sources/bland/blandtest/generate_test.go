package blandtest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestFormatting holds the hand-written formatting of ids and phones to
// the fmt formats it replaced, so that the generated data (and every
// figure and expectation computed from it) stays what it was.
func TestFormatting(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		a, b, c, d, e := rng.Uint32(), rng.Uint32(), rng.Uint32(), rng.Uint32(), rng.Uint64()
		want := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", a, b&0xffff, c&0xfff, d&0xfff, e&0xffffffffffff)
		if got := callID(a, b, c, d, e); got != want {
			t.Fatalf("callID(%d, %d, %d, %d, %d) = %q, want %q", a, b, c, d, e, got, want)
		}
	}
	for _, k := range []int{0, 1, 9, 10, 99, 9999, 10000, 49999, 123456, 7999999, 8000000} {
		want := fmt.Sprintf("%03d%03d%04d", 200+(k*37)%800, 200+(k/10000)%800, k%10000)
		if got := Phone(k); got != want {
			t.Errorf("Phone(%d) = %q, want %q", k, got, want)
		}
		p := want
		if got, want := formatPhone(k, 3), fmt.Sprintf("(%s) %s-%s", p[:3], p[3:6], p[6:]); got != want {
			t.Errorf("formatPhone(%d, 3) = %q, want %q", k, got, want)
		}
	}
}

// The server generates a date's calls at every request (it keeps none):
// generation must give the same calls every time, for the demo's traffic
// and for a uniform volume.
func TestGenerationIsRepeatable(t *testing.T) {
	uniform := Config{CallsPerDay: 500, PhonePool: 300, Seed: 9}
	for name, cfg := range map[string]Config{"demo": Demo(300, 2000), "uniform": uniform} {
		s := NewServer(cfg)
		for _, date := range []string{"2025-12-01", "2025-12-24", "2026-01-07"} {
			a, b := s.Calls(date), s.Calls(date)
			if len(a) == 0 || !slices.Equal(a, b) {
				t.Errorf("%s %s: %d calls, then %d different ones", name, date, len(a), len(b))
			}
		}
		s.Close()
	}
}
