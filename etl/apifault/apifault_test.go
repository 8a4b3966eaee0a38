package apifault

import (
	"net/http"
	"testing"
	"time"
)

func TestStatusEveryNth(t *testing.T) {
	f := Faults{Every500: 20, Every429: 50}
	var c Counter
	got := map[int]int{}
	for range 1000 {
		got[f.Status(&c)]++
	}
	// 1000/50 = 20 429s; 1000/20 = 50 multiples of 20, 10 of them also
	// multiples of 50 (429 wins).
	if got[http.StatusTooManyRequests] != 20 || got[http.StatusInternalServerError] != 40 || got[0] != 940 {
		t.Errorf("statuses %v, want 20 429s, 40 500s, 940 answered", got)
	}
	if s := (Faults{}).Status(&c); s != 0 {
		t.Errorf("zero Faults answered %d", s)
	}
}

func TestDelayUniform(t *testing.T) {
	f := Faults{Latency: 20 * time.Millisecond, LatencyMax: 200 * time.Millisecond}
	var sum time.Duration
	const n = 4000
	for range n {
		d := f.Delay()
		if d < f.Latency || d > f.LatencyMax {
			t.Fatalf("delay %s outside [%s, %s]", d, f.Latency, f.LatencyMax)
		}
		sum += d
	}
	// The mean of U(20, 200) ms is 110 ms; 4000 draws put it within a few ms.
	if mean := sum / n; mean < 100*time.Millisecond || mean > 120*time.Millisecond {
		t.Errorf("mean delay %s, want about 110ms", mean)
	}
	if d := (Faults{Latency: 5 * time.Millisecond}).Delay(); d != 5*time.Millisecond {
		t.Errorf("fixed latency gave %s", d)
	}
}
