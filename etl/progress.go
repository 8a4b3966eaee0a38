package etl

import (
	"encoding/json"
	"time"
)

// Progress is the data of the run's periodic progress event: an
// EventProgress without a Block, sent every RunOptions.ProgressEvery while
// the stages run and once more, Final, when they stop. Its JSON form, the
// event's "data" in `--output json`, is a contract (README, "Progress
// events"): fields are added, never renamed.
type Progress struct {
	// ElapsedSeconds is the time since the run started.
	ElapsedSeconds float64 `json:"elapsed_seconds"`
	// ETASeconds estimates the time left; null until it can be estimated
	// (every source has said how many partitions it will end, one has
	// ended, and the lookups have a rate). 0 in the final event.
	ETASeconds *float64 `json:"eta_seconds"`
	// Final is true in the event sent when the stages have stopped.
	Final bool `json:"final"`
	// Blocks holds the sources and the blocks that look keys up or send
	// requests, in pipeline order.
	Blocks []BlockProgress `json:"blocks"`
}

// BlockProgress is one block's progress. Rates are over the last
// RateWindow (the whole run while it is shorter).
type BlockProgress struct {
	// Block is the block's address, e.g. source.bland_calls.calls.
	Block string `json:"block"`
	// Partitions is set for a source: partitions ended out of those it
	// will end in this run.
	Partitions *PartitionProgress `json:"partitions,omitempty"`
	// Keys is set for a block that looks keys up: keys answered out of
	// keys known so far (it grows while input arrives).
	Keys *KeyProgress `json:"keys,omitempty"`
	// Bytes read from outside, and their rate.
	Bytes          int64   `json:"bytes"`
	BytesPerSecond float64 `json:"bytes_per_second"`
	// Requests sent (retries included), and their rate.
	Requests          int64   `json:"requests"`
	RequestsPerSecond float64 `json:"requests_per_second"`
	// Retries counts attempts that were retried.
	Retries int64 `json:"retries"`
	// RateLimited counts answers 429 Too Many Requests.
	RateLimited int64 `json:"rate_limited"`
}

// PartitionProgress counts a source's partitions.
type PartitionProgress struct {
	Done int64 `json:"done"`
	// Total is null until the source says (Meter.ExpectPartitions).
	Total *int64 `json:"total"`
	// Unit is what a partition is, in the plural ("dates"); "" when the
	// source does not say.
	Unit string `json:"unit,omitempty"`
}

// KeyProgress counts a lookup stage's keys.
type KeyProgress struct {
	Done  int64  `json:"done"`
	Known int64  `json:"known"`
	Unit  string `json:"unit,omitempty"` // "phones"
}

// RateWindow is the span the rates of a progress event are measured over:
// long enough to smooth a rate limiter's steps, short enough to follow a
// change (a throttle after 429s).
const RateWindow = 10 * time.Second

// Data returns p as an event's Data.
func (p Progress) Data() map[string]any {
	var eta any // a nil *float64 in an interface would not encode as null
	if p.ETASeconds != nil {
		eta = *p.ETASeconds
	}
	return map[string]any{"elapsed_seconds": p.ElapsedSeconds, "eta_seconds": eta, FinalProgress: p.Final, "blocks": p.Blocks}
}

// ProgressOf returns the run's progress an event carries: ok is false for
// any other event (a block's own progress line has a Block). It reads
// events made in this process and events decoded from `--output json`
// alike.
func ProgressOf(e Event) (p Progress, ok bool) {
	if e.Type != EventProgress || e.Block != "" || e.Data == nil {
		return Progress{}, false
	}
	if _, has := e.Data["elapsed_seconds"]; !has {
		return Progress{}, false
	}
	b, err := json.Marshal(e.Data)
	if err != nil {
		return Progress{}, false
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return Progress{}, false
	}
	return p, true
}

// progressSample is the counts that rates are measured from, per block.
type progressSample struct {
	at                        time.Time
	bytes, requests, keysDone []int64
}

// progressReporter builds the run's progress events from the stages'
// meters.
type progressReporter struct {
	start   time.Time
	stages  []*stage
	samples []progressSample // the last RateWindow's, oldest first
}

// shown reports whether a stage's progress is worth showing: a source, or
// a stage that looks keys up or talks to an API.
func shown(s *stage, r MeterReading) bool {
	return s.in == nil || r.Keyed || r.Requests > 0 || r.Bytes > 0
}

// progress returns the progress at now.
func (pr *progressReporter) progress(now time.Time, final bool) Progress {
	cur := progressSample{at: now}
	readings := make([]MeterReading, len(pr.stages))
	for i, s := range pr.stages {
		r := s.env.Meter.Read()
		readings[i] = r
		cur.bytes = append(cur.bytes, r.Bytes)
		cur.requests = append(cur.requests, r.Requests)
		cur.keysDone = append(cur.keysDone, r.KeysDone)
	}
	// The base is the run's start (nothing counted) until a sample is a
	// RateWindow old; then the newest sample that is.
	for len(pr.samples) > 1 && now.Sub(pr.samples[1].at) >= RateWindow {
		pr.samples = pr.samples[1:]
	}
	base := progressSample{at: pr.start, bytes: make([]int64, len(pr.stages)), requests: make([]int64, len(pr.stages)), keysDone: make([]int64, len(pr.stages))}
	if len(pr.samples) > 0 && now.Sub(pr.samples[0].at) >= RateWindow {
		base = pr.samples[0]
	}
	pr.samples = append(pr.samples, cur)
	span := now.Sub(base.at).Seconds()
	rate := func(n, was int64) float64 {
		if span <= 0 {
			return 0
		}
		return float64(n-was) / span
	}
	p := Progress{ElapsedSeconds: now.Sub(pr.start).Seconds(), Final: final}
	var keyRates []float64
	for i, s := range pr.stages {
		r := readings[i]
		if !shown(s, r) {
			continue
		}
		bp := BlockProgress{
			Block: s.block.Addr.String(), Bytes: r.Bytes, BytesPerSecond: rate(r.Bytes, base.bytes[i]),
			Requests: r.Requests, RequestsPerSecond: rate(r.Requests, base.requests[i]), Retries: r.Retries, RateLimited: r.RateLimited,
		}
		if s.in == nil {
			pp := &PartitionProgress{Done: r.PartitionsDone, Unit: r.PartitionUnit}
			if r.PartitionsTotal >= 0 {
				total := r.PartitionsTotal
				pp.Total = &total
			}
			bp.Partitions = pp
		}
		if r.Keyed {
			bp.Keys = &KeyProgress{Done: r.KeysDone, Known: r.KeysKnown, Unit: r.KeyUnit}
			keyRates = append(keyRates, rate(r.KeysDone, base.keysDone[i]))
		}
		p.Blocks = append(p.Blocks, bp)
	}
	if final {
		zero := 0.0
		p.ETASeconds = &zero
	} else if eta, ok := estimate(p.ElapsedSeconds, p.Blocks, keyRates); ok {
		p.ETASeconds = &eta
	}
	return p
}

// estimate guesses the seconds left: the longest of the sources' time
// left (at their average partition rate so far, which settles as soon as
// the totals are known) and each lookup stage's (keys still to answer,
// counting the keys the partitions left will bring in the proportion seen
// so far, at the recent answer rate). keyRates are the keyed blocks' rates,
// in order. ok is false while a total or a rate is unknown.
func estimate(elapsed float64, blocks []BlockProgress, keyRates []float64) (float64, bool) {
	var done, total int64
	for _, b := range blocks {
		if b.Partitions == nil {
			continue
		}
		if b.Partitions.Total == nil {
			return 0, false
		}
		done += b.Partitions.Done
		total += *b.Partitions.Total
	}
	frac := 1.0
	left := 0.0
	if done < total {
		if done == 0 {
			return 0, false
		}
		frac = float64(done) / float64(total)
		left = elapsed * float64(total-done) / float64(done)
	}
	k := 0
	for _, b := range blocks {
		if b.Keys == nil {
			continue
		}
		rate := keyRates[k]
		k++
		todo := float64(b.Keys.Known)/frac - float64(b.Keys.Done)
		if todo <= 0 {
			continue
		}
		if rate <= 0 {
			return 0, false
		}
		left = max(left, todo/rate)
	}
	return left, true
}

// startProgress sends a progress event every opts.ProgressEvery until the
// returned function is called, which sends the final one. Nothing is sent
// when ProgressEvery is 0.
func startProgress(stages []*stage, opts RunOptions, start time.Time) (stop func()) {
	if opts.ProgressEvery <= 0 {
		return func() {}
	}
	pr := &progressReporter{start: start, stages: stages}
	send := func(now time.Time, final bool) {
		opts.Events.Report(Event{Time: now.UTC(), Type: EventProgress, Data: pr.progress(now, final).Data()})
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(opts.ProgressEvery)
		defer tick.Stop()
		for {
			select {
			case now := <-tick.C:
				send(now, false)
			case <-quit:
				send(time.Now(), true)
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}
