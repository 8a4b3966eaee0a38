package lookup

import (
	"context"

	"github.com/etlhq/etl/etl"
	"golang.org/x/sync/errgroup"
)

// run is one Stream: loop is its one goroutine that reads input, starts
// calls and emits; the calls report to done.
type run[K comparable, A any] struct {
	l   *Lookup[K, A]
	g   *errgroup.Group
	out etl.Output
	in  <-chan etl.Batch

	done chan result[K, A]
	// keys hands keys to the callers: goroutines started as needed, up to
	// the calls that may run at once, that each call key after key (a
	// goroutine per call grew a fresh stack for every one: 0.6 s of the
	// 50,000-phone backfill's CPU went to copying stacks).
	keys    chan K
	callers int
	running int
	queue   []K          // keys waiting for a call to start
	waiting map[K][]held // records waiting for their key, in input order
	held    int          // records in waiting

	// Partition tracking: epoch n is the records between mark n-1 and
	// mark n. open[i] counts the waiting records of epoch base+i; marks
	// are the marks not sent yet, marks[0] ending epoch base.
	open  []int
	base  int
	marks []*etl.Mark
}

// held is a record waiting for its key's answer, with its epoch.
type held struct {
	rec   etl.Record
	epoch int
}

type result[K comparable, A any] struct {
	key K
	a   A
}

func (r *run[K, A]) loop(ctx context.Context) error {
	maxRunning := 2 * r.l.opts.Concurrency
	in := r.in
	for {
		for len(r.queue) > 0 && r.running < maxRunning {
			r.start(ctx, r.queue[0])
			r.queue = r.queue[1:]
		}
		if in == nil && r.running == 0 {
			return r.sendMarks() // every record has left
		}
		recv := in
		if r.held >= r.l.opts.Waiting {
			recv = nil // over budget: let answers drain first
		}
		select {
		case b, ok := <-recv:
			if !ok {
				in = nil
				continue
			}
			if err := r.batch(b); err != nil {
				return err
			}
		case res := <-r.done:
			r.running--
			if err := r.answered(res); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// start hands key to a caller, starting one when none is idle. running
// counts the keys handed out and not yet answered, one per busy caller
// (a caller's result never waits: done holds as many as may run), so
// callers − running callers are idle, waiting for a key.
func (r *run[K, A]) start(ctx context.Context, key K) {
	if r.callers == r.running {
		r.callers++
		r.g.Go(func() error { return r.call(ctx) })
	}
	r.running++
	r.keys <- key
}

// call is a caller: it calls each key's lookup, until keys is closed.
func (r *run[K, A]) call(ctx context.Context) error {
	for key := range r.keys {
		a, err := r.l.funcs.Call(ctx, key)
		if err != nil {
			return err
		}
		r.l.settle(key, a) // kept even if the run stops before it is sent
		r.l.opts.Meter.KeyDone()
		r.done <- result[K, A]{key, a}
	}
	return nil
}

// batch takes a batch of input: each record leaves at once when its key
// is answered, else waits; a mark ends the current epoch.
func (r *run[K, A]) batch(b etl.Batch) error {
	epoch := r.base + len(r.open) - 1
	for _, rec := range b.Records {
		key, drop, err := r.l.funcs.Key(rec)
		if err != nil {
			return err
		}
		if drop != "" {
			r.out.Drop(drop)
			continue
		}
		if _, ok := r.waiting[key]; ok {
			// Asked already; the answer may be in, but the records
			// before this one leave first.
			r.out.Count(CountReused, 1)
		} else if a, ok, resumed := r.l.use(key); ok {
			if resumed {
				// Answered by the run being resumed: known and done.
				r.l.opts.Meter.KeyKnown()
				r.l.opts.Meter.KeyDone()
				r.out.Count(CountResumed, 1)
			} else {
				r.out.Count(CountReused, 1)
			}
			if err := r.l.funcs.Emit(rec, a, r.out); err != nil {
				return err
			}
			continue
		} else {
			r.queue = append(r.queue, key)
			r.l.opts.Meter.KeyKnown()
		}
		r.waiting[key] = append(r.waiting[key], held{rec, epoch})
		r.held++
		r.open[len(r.open)-1]++
	}
	if b.Mark != nil {
		r.marks = append(r.marks, b.Mark)
		r.open = append(r.open, 0)
		return r.sendMarks()
	}
	return nil
}

// answered sends the records that waited for res's key.
func (r *run[K, A]) answered(res result[K, A]) error {
	recs := r.waiting[res.key]
	delete(r.waiting, res.key)
	for _, h := range recs {
		r.held--
		r.open[h.epoch-r.base]--
		if err := r.l.funcs.Emit(h.rec, res.a, r.out); err != nil {
			return err
		}
	}
	return r.sendMarks()
}

// sendMarks sends, in order, the marks whose partitions have no record
// left waiting.
func (r *run[K, A]) sendMarks() error {
	for len(r.marks) > 0 && r.open[0] == 0 {
		if err := r.out.EndPartition(r.marks[0]); err != nil {
			return err
		}
		r.marks, r.open = r.marks[1:], r.open[1:]
		r.base++
	}
	return nil
}
