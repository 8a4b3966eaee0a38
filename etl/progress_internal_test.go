package etl

import (
	"math"
	"testing"
	"time"
)

func ptr(n int64) *int64 { return &n }

func TestEstimate(t *testing.T) {
	src := func(done int64, total *int64) BlockProgress {
		return BlockProgress{Partitions: &PartitionProgress{Done: done, Total: total}}
	}
	keys := func(done, known int64) BlockProgress {
		return BlockProgress{Keys: &KeyProgress{Done: done, Known: known}}
	}
	cases := []struct {
		name     string
		elapsed  float64
		blocks   []BlockProgress
		keyRates []float64
		want     float64
		ok       bool
	}{
		{"total unknown", 10, []BlockProgress{src(3, nil)}, nil, 0, false},
		{"nothing done yet", 10, []BlockProgress{src(0, ptr(10))}, nil, 0, false},
		{"a quarter in 10 s", 10, []BlockProgress{src(5, ptr(20))}, nil, 30, true},
		{"all done", 10, []BlockProgress{src(20, ptr(20))}, nil, 0, true},
		// Half the dates brought 1,000 phones: 2,000 expected, 1,500 to
		// go at 10 a second, longer than the dates' 10 s.
		{"lookups behind", 10, []BlockProgress{src(5, ptr(10)), keys(500, 1000)}, []float64{10}, 150, true},
		{"lookups with no rate yet", 10, []BlockProgress{src(5, ptr(10)), keys(0, 1000)}, []float64{0}, 0, false},
		{"lookups only left", 60, []BlockProgress{src(10, ptr(10)), keys(900, 1000)}, []float64{20}, 5, true},
		{"two sources, one unknown", 10, []BlockProgress{src(1, ptr(2)), src(1, nil)}, nil, 0, false},
		{"two sources", 10, []BlockProgress{src(1, ptr(2)), src(1, ptr(2))}, nil, 10, true},
	}
	for _, tc := range cases {
		got, ok := estimate(tc.elapsed, tc.blocks, tc.keyRates)
		if ok != tc.ok || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: estimate = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// TestProgressRates: rates are over the last RateWindow, or since the
// start while the run is younger.
func TestProgressRates(t *testing.T) {
	m := NewMeter()
	m.UseKeys("phones")
	s := &stage{block: &Block{Addr: Addr{Kind: KindFilter, Type: "lookup", Name: "l"}}, env: Env{Meter: m}, in: make(chan Batch)}
	start := time.Unix(1000, 0)
	pr := &progressReporter{start: start, stages: []*stage{s}}
	at := func(sec float64) time.Time { return start.Add(time.Duration(sec * float64(time.Second))) }

	for range 20 {
		m.Attempt(200, false)
	}
	p := pr.progress(at(2), false)
	if got := p.Blocks[0].RequestsPerSecond; got != 10 {
		t.Errorf("after 2 s: %v requests/s, want 10 (20 since the start)", got)
	}
	// 20 s at 10/s, then 10 s at 1/s: the rate shows the last 10 s.
	for sec := 3; sec <= 20; sec++ {
		for range 10 {
			m.Attempt(200, false)
		}
		pr.progress(at(float64(sec)), false)
	}
	for sec := 21; sec <= 30; sec++ {
		m.Attempt(429, true)
		p = pr.progress(at(float64(sec)), false)
	}
	b := p.Blocks[0]
	if b.RequestsPerSecond != 1 {
		t.Errorf("after a slow 10 s: %v requests/s, want 1", b.RequestsPerSecond)
	}
	if b.Requests != 20+18*10+10 || b.Retries != 10 || b.RateLimited != 10 {
		t.Errorf("counts %+v", b)
	}
	if b.Keys == nil || b.Keys.Unit != "phones" || b.Partitions != nil {
		t.Errorf("keys %+v partitions %+v, want keys only", b.Keys, b.Partitions)
	}
}
