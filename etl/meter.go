package etl

import (
	"sync"
	"sync/atomic"
)

// Meter counts what a stage has done so far, for the run's periodic
// progress events (see Progress): partitions for a source, keys for a
// stage that looks keys up, and the requests, retries, 429s and bytes of
// the API it talks to. Every stage's Env carries one; the shared helpers
// count into it (etl/retry counts a client's requests and bytes,
// etl/lookup a lookup stage's keys), so a plugin built on them shows its
// progress without code of its own. A source that knows how many
// partitions it will produce says so with ExpectPartitions.
//
// The methods are safe for concurrent use and do nothing on a nil Meter
// (an Env made by hand in a test).
type Meter struct {
	partitionsTotal atomic.Int64 // -1 until ExpectPartitions
	partitionsDone  atomic.Int64
	keysKnown       atomic.Int64
	keysDone        atomic.Int64
	keyed           atomic.Bool
	bytes           atomic.Int64
	requests        atomic.Int64
	retries         atomic.Int64
	rateLimited     atomic.Int64

	mu                      sync.Mutex
	partitionUnit, keysUnit string
}

// NewMeter returns a Meter with nothing counted and no partition total.
func NewMeter() *Meter {
	m := &Meter{}
	m.partitionsTotal.Store(-1)
	return m
}

// ExpectPartitions states how many partitions the source will end in this
// run (those a resumed run skips excluded), and what they are called in
// the plural ("dates"): the progress then shows done out of total, and the
// run's ETA can be estimated.
func (m *Meter) ExpectPartitions(n int, unit string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.partitionUnit = unit
	m.mu.Unlock()
	m.partitionsTotal.Store(int64(n))
}

// partitionEnded counts a partition the source ended (the engine calls it).
func (m *Meter) partitionEnded() {
	if m != nil {
		m.partitionsDone.Add(1)
	}
}

// UseKeys says the stage looks keys up, and what they are called in the
// plural ("phones"): the progress shows keys answered out of keys known.
func (m *Meter) UseKeys(unit string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.keysUnit = unit
	m.mu.Unlock()
	m.keyed.Store(true)
}

// KeyKnown counts a key seen for the first time in this run.
func (m *Meter) KeyKnown() {
	if m != nil {
		m.keysKnown.Add(1)
	}
}

// KeyDone counts a key answered (looked up, or answered by a run being
// resumed).
func (m *Meter) KeyDone() {
	if m != nil {
		m.keysDone.Add(1)
	}
}

// Attempt counts one request sent: status is the HTTP status (0 when no
// answer came), retry says another attempt of the same request follows.
func (m *Meter) Attempt(status int, retry bool) {
	if m == nil {
		return
	}
	m.requests.Add(1)
	if retry {
		m.retries.Add(1)
	}
	if status == 429 {
		m.rateLimited.Add(1)
	}
}

// AddBytes counts n bytes read from outside.
func (m *Meter) AddBytes(n int64) {
	if m != nil {
		m.bytes.Add(n)
	}
}

// MeterReading is a Meter's counts at one moment.
type MeterReading struct {
	// PartitionsTotal is -1 until the source states it.
	PartitionsTotal, PartitionsDone int64
	KeysKnown, KeysDone             int64
	// Keyed says the stage looks keys up (UseKeys).
	Keyed                  bool
	Bytes, Requests        int64
	Retries, RateLimited   int64
	PartitionUnit, KeyUnit string
}

// Read returns the counts so far.
func (m *Meter) Read() MeterReading {
	m.mu.Lock()
	pu, ku := m.partitionUnit, m.keysUnit
	m.mu.Unlock()
	return MeterReading{
		PartitionsTotal: m.partitionsTotal.Load(), PartitionsDone: m.partitionsDone.Load(),
		KeysKnown: m.keysKnown.Load(), KeysDone: m.keysDone.Load(), Keyed: m.keyed.Load(),
		Bytes: m.bytes.Load(), Requests: m.requests.Load(), Retries: m.retries.Load(), RateLimited: m.rateLimited.Load(),
		PartitionUnit: pu, KeyUnit: ku,
	}
}
