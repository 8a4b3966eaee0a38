package lookup

import (
	"context"
	"sync"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/retry"
	"golang.org/x/sync/errgroup"
)

// Funcs are a stage's domain.
type Funcs[K comparable, A any] struct {
	// Key returns rec's key, or a drop reason ("no phone") for a record
	// that has none: it is counted as dropped and never looked up. An
	// error stops the run.
	Key func(rec etl.Record) (key K, drop string, err error)
	// Call looks key up. It is called once per key per run, from many
	// goroutines at once; an error stops the run (a stage that would
	// rather skip a key returns an answer that says so).
	Call func(ctx context.Context, key K) (A, error)
	// Emit sends what rec becomes given its key's answer: out.Emit,
	// out.Drop, or nothing. It is called from one goroutine.
	Emit func(rec etl.Record, answer A, out etl.Output) error
}

// Options size a Lookup.
type Options struct {
	// Concurrency is how many requests may be in flight (default 1).
	Concurrency int
	// Waiting bounds the records held waiting for their key's answer
	// (default DefaultWaiting): input is not read while that many wait.
	Waiting int
	// Meter, when set (the stage's Env.Meter), counts the keys known and
	// answered for the run's progress events; Unit names the keys in the
	// plural ("phones").
	Meter *etl.Meter
	Unit  string
}

// DefaultWaiting is the default of Options.Waiting: at a few hundred bytes
// a record, about 2 MB held so that the source is not slowed by lookups.
// (16,384 cost 15-18 MB of peak RSS in the backfill at 50,000 phones, and
// the latency benchmarks, scripts/bench_flow.sh, are no faster with it.)
const DefaultWaiting = 4096

// Counters the Lookup adds to the stage's report.
const (
	// CountReused counts records whose key was answered, or being looked
	// up, already.
	CountReused = "lookups reused"
	// CountResumed counts keys answered by Seed (a resumed run's saved
	// answers), once each, when a record first uses them.
	CountResumed = "lookups resumed"
)

// Lookup runs a stage's calls; make one with New.
type Lookup[K comparable, A any] struct {
	opts  Options
	funcs Funcs[K, A]
	gate  chan struct{}

	mu sync.Mutex
	// answers holds values, not pointers: with a key and an answer that
	// hold no pointer (a phone number, convoso's verdict), the map is
	// memory the collector never scans.
	answers map[K]answer[A]
}

// answer is a key's answer; used says a record of this run used it.
type answer[A any] struct {
	a    A
	used bool
}

var _ retry.Gate = (*Lookup[int, int])(nil)

// New returns a Lookup with the stage's functions.
func New[K comparable, A any](opts Options, funcs Funcs[K, A]) *Lookup[K, A] {
	opts.Concurrency = max(opts.Concurrency, 1)
	if opts.Waiting <= 0 {
		opts.Waiting = DefaultWaiting
	}
	opts.Meter.UseKeys(opts.Unit)
	return &Lookup[K, A]{opts: opts, funcs: funcs, gate: make(chan struct{}, opts.Concurrency), answers: map[K]answer[A]{}}
}

// Acquire takes a place among the requests in flight (retry.Gate).
func (l *Lookup[K, A]) Acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err // a stopping run starts no request, even with a place free
	}
	select {
	case l.gate <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Release gives back a place Acquire took.
func (l *Lookup[K, A]) Release() { <-l.gate }

// Seed gives key an answer obtained before the run (a resumed run's):
// its records use it without a call. Call Seed before Stream.
func (l *Lookup[K, A]) Seed(key K, a A) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.answers[key] = answer[A]{a: a}
}

// Range calls fn with every answer, seeded or obtained, and whether a
// record of this run used it. Safe while Stream runs; fn must not call
// the Lookup.
func (l *Lookup[K, A]) Range(fn func(key K, a A, used bool)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, ans := range l.answers {
		fn(k, ans.a, ans.used)
	}
}

// Len returns the number of answers, seeded or obtained.
func (l *Lookup[K, A]) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.answers)
}

// Stream is the stage's etl.Streamer body: it reads in, looks each
// record's key up, and emits through out, forwarding every mark after
// its partition's records.
func (l *Lookup[K, A]) Stream(ctx context.Context, in <-chan etl.Batch, out etl.Output) error {
	g, gctx := errgroup.WithContext(ctx)
	r := &run[K, A]{l: l, g: g, out: out, in: in,
		done:    make(chan result[K, A], 2*l.opts.Concurrency),
		keys:    make(chan K),
		waiting: map[K][]held{},
		open:    []int{0},
	}
	g.Go(func() error {
		defer close(r.keys) // the callers end with the loop
		return r.loop(gctx)
	})
	return g.Wait()
}

// use returns key's answer, marking it used; ok is false when it has none.
// resumed says it was seeded and this is its first use.
func (l *Lookup[K, A]) use(key K) (a A, ok, resumed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ans, ok := l.answers[key]
	if !ok {
		return a, false, false
	}
	resumed = !ans.used
	if resumed {
		ans.used = true
		l.answers[key] = ans
	}
	return ans.a, true, resumed
}

// settle keeps key's answer, obtained by this run.
func (l *Lookup[K, A]) settle(key K, a A) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.answers[key] = answer[A]{a: a, used: true}
}
