package etl

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/etlhq/etl/etl/spill"
)

// stage is a block being run.
type stage struct {
	rs     *runState
	block  *Block
	impl   any
	env    Env
	in     chan Batch // nil for a source
	out    *output
	stats  *blockStats
	closer Closer
	// state and caches are the stage's tables when it is Stateful or a
	// Cacher.
	state, caches *table
	// scratch is the table of a Scratcher, emptied when the stage closes.
	scratch *spill.Map
	// ackSelf makes a source acknowledge its own marks (see
	// newPartitionTracker).
	ackSelf bool
	// tap, in a test run, sees each record a sink receives.
	tap func(Record)
	// finished is set once the stage has handled its whole input and, if
	// it is a Finisher, Finish returned: for a sink, its output is written.
	finished atomic.Bool
}

// build constructs every stage and its channels, and gives each stateful
// stage and Cacher its table.
func (p *Pipeline) build(opts RunOptions, cp *Checkpoint, signals *doneSignals) ([]*stage, error) {
	byBlock := map[*Block]*stage{}
	var stages []*stage
	unsafe := p.unsafeSources()
	for _, b := range p.Blocks {
		env := Env{
			Addr:        b.Addr,
			Plan:        opts.Plan,
			Dir:         p.Dir,
			ShowEntries: opts.ShowEntries,
			Unmask:      opts.Unmask,
			Logger:      opts.Logger.With("block", b.Addr.String()),
			Events:      opts.Events,
			ScratchDir:  opts.ScratchDir,
			Fields:      sourceFields(p, b),
			Done:        cp.doneFunc(b.Addr),
			AwaitDone:   signals.await(b.Addr),
			Meter:       NewMeter(),
			Stdout:      opts.Stdout,
		}
		impl, err := b.Plugin.build(b.Config, env)
		if err != nil {
			return stages, &StageError{Addr: b.Addr, Range: b.DefRange, Err: err}
		}
		s := &stage{block: b, impl: impl, env: env, stats: &blockStats{}}
		s.closer, _ = impl.(Closer)
		stages = append(stages, s)
		if err := opts.Test.mock(b, impl); err != nil {
			return stages, err
		}
		if opts.Test != nil && opts.Test.Tap != nil && b.Addr.Kind == KindSink {
			tap, addr := opts.Test.Tap, b.Addr
			s.tap = func(r Record) { tap(addr, r) }
		}
		byBlock[b] = s
		s.out = &output{addr: b.Addr, batchSize: opts.BatchSize, stats: s.stats, sink: b.Addr.Kind == KindSink, meter: env.Meter}
		if b.Input == nil {
			s.out.ended = map[string]bool{}
		}
		if err := s.useTables(opts, unsafe[b.source().Addr]); err != nil {
			return stages, &StageError{Addr: b.Addr, Range: b.DefRange, Err: err}
		}
		if b.Input != nil {
			s.in = make(chan Batch, opts.Buffer)
			up := byBlock[b.Input]
			up.out.consumers = append(up.out.consumers, s.in)
		}
	}
	return stages, nil
}

// useTables gives a Stateful stage its table, a Cacher its cache and a
// Scratcher its scratch table. The changes to the first two are committed
// only in a run with state whose source is safe to resume; otherwise they
// stay in memory (a plan, a test without state).
func (s *stage) useTables(opts RunOptions, unsafe bool) error {
	base := opts.State
	if opts.Fresh {
		base = nil // read as empty until the run wipes the old state
	}
	keepAll := opts.Plan || opts.State == nil
	addr := s.block.Addr.String()
	st, stateful := s.impl.(Stateful)
	if s.block.Plugin.Replays && !stateful {
		// A plugin bug: what follows it would not hold the checkpoint
		// back, with nothing to replay on resume.
		return fmt.Errorf("plugin bug: %s says it Replays but keeps no state (etl.Stateful)", s.block.Addr.Type)
	}
	if stateful {
		if up := s.block.replayer(); up != nil {
			// On resume the replaying stage emits its restored records
			// into this stage, whose restored state already counts them.
			return fmt.Errorf("a stateful stage cannot follow %s, which replays its restored records on resume: they would be counted twice. Feed it from %s instead (as the backfill's stats sink is fed from the source)",
				up.Addr, s.block.source().Addr)
		}
		s.state = newTable(base, addrPrefix(statePrefix, addr), keepAll || unsafe)
		s.out.state = s.state
		if err := st.UseState(s.state); err != nil {
			return fmt.Errorf("restoring its state from the checkpoint: %w", err)
		}
	}
	if c, ok := s.impl.(Cacher); ok {
		s.caches = newTable(base, addrPrefix(cachePrefix, addr), keepAll)
		if err := c.UseCache(s.caches); err != nil {
			return fmt.Errorf("restoring the answers saved in the checkpoint: %w", err)
		}
	}
	if sc, ok := s.impl.(Scratcher); ok {
		s.scratch = spill.NewMap(opts.ScratchDir)
		if err := sc.UseScratch(s.scratch); err != nil {
			return err
		}
	}
	return nil
}

// unsafeSources returns the sources with a buffering sink that nothing
// replays to (see checkResumable): their partitions are never saved.
func (p *Pipeline) unsafeSources() map[Addr]bool {
	unsafe := map[Addr]bool{}
	for _, b := range p.Blocks {
		if b.Addr.Kind == KindSink && b.Plugin.Buffers && !b.resumable() {
			unsafe[b.source().Addr] = true
		}
	}
	return unsafe
}

// sourceFields is Env.Fields for b: when b is a source, the fields it
// produces that downstream reads (all of them when it may read any, or
// when the plugin does not list its fields); nil otherwise.
func sourceFields(p *Pipeline, b *Block) map[string]bool {
	if b.Input != nil {
		return nil
	}
	need := p.neededFields(b)
	if need == nil || b.Plugin.Fields == nil {
		return need
	}
	// Fields read downstream that later stages add (convoso's lead_id)
	// are not the source's to build.
	own := map[string]bool{}
	for _, f := range b.Plugin.Fields {
		if need[f.Name] {
			own[f.Name] = true
		}
	}
	return own
}

// run is the stage's goroutine: it reads its input, calls the plugin, and
// closes its output only on success, so that consumers never mistake a
// failure upstream for the end of input.
func (s *stage) run(ctx context.Context) error {
	s.stats.began()
	defer s.stats.ended()
	out := s.out
	if r, ok := s.impl.(Restorer); ok {
		if err := r.Restored(ctx, out); err != nil {
			return err
		}
	}
	var err error
	switch impl := s.impl.(type) {
	case Source:
		err = impl.Read(ctx, out)
	case Streamer:
		in, ended := s.counted(ctx)
		err = impl.Stream(ctx, in, out)
		if err == nil && !ended.Load() && ctx.Err() == nil {
			// Returning early would leave the stage before it blocked
			// forever on a full channel: a plugin bug, reported as one.
			err = fmt.Errorf("plugin bug: Stream returned before its input ended")
		}
	default:
		err = s.loop(ctx)
	}
	if err != nil {
		return err
	}
	if s.rs.aborted.Load() {
		return s.closeOutputs(ctx)
	}
	if f, ok := s.impl.(Finisher); ok {
		var o Output = out
		if err := f.Finish(ctx, o); err != nil {
			return err
		}
	}
	s.finished.Store(true)
	return s.closeOutputs(ctx)
}

// closeOutputs sends what is buffered and closes the consumers' channels:
// the end of this stage's output.
func (s *stage) closeOutputs(ctx context.Context) error {
	if err := s.out.flush(nil); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, ch := range s.out.consumers {
		close(ch)
	}
	return nil
}

// runState is shared by the stages of one run.
type runState struct {
	// aborted is set when a source failed: stages drain their input and
	// close their outputs without finishing.
	aborted      atomic.Bool
	once         sync.Once
	err          error
	cancel       context.CancelFunc
	drainTimeout time.Duration
	mu           sync.Mutex
	timer        *time.Timer
}

// abort records the first source failure and bounds the drain.
func (rs *runState) abort(err error) {
	rs.once.Do(func() {
		rs.err = err
		rs.aborted.Store(true)
		rs.mu.Lock()
		rs.timer = time.AfterFunc(rs.drainTimeout, rs.cancel)
		rs.mu.Unlock()
	})
}

// stop releases the drain timer.
func (rs *runState) stop() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.timer != nil {
		rs.timer.Stop()
	}
}

// loop feeds a Processor or Sink record by record, and marks to
// PartitionEnder.
func (s *stage) loop(ctx context.Context) error {
	proc, _ := s.impl.(Processor)
	sink, _ := s.impl.(Sink)
	ender, _ := s.impl.(PartitionEnder)
	for {
		var b Batch
		var ok bool
		t := time.Now()
		select {
		case b, ok = <-s.in:
		case <-ctx.Done():
			return ctx.Err()
		}
		waited(&s.stats.waitIn, t)
		if !ok {
			// End of input; a cancelled run is not an end of input.
			return ctx.Err()
		}
		s.stats.in.Add(int64(len(b.Records)))
		for _, rec := range b.Records {
			var err error
			switch {
			case proc != nil:
				err = proc.Process(ctx, rec, s.out)
			case s.tap != nil:
				s.tap(rec)
				fallthrough
			default:
				err = sink.Write(ctx, rec)
			}
			if err != nil {
				return err
			}
		}
		if b.Mark != nil {
			if ender != nil {
				if err := ender.EndPartition(ctx, b.Mark, s.out); err != nil {
					return err
				}
			}
			if err := s.out.EndPartition(b.Mark); err != nil {
				return err
			}
		}
	}
}

// counted relays a Streamer's input, counting records in.
func (s *stage) counted(ctx context.Context) (<-chan Batch, *atomic.Bool) {
	ch := make(chan Batch)
	ended := &atomic.Bool{}
	go func() {
		for {
			// The relay waits here once the streamer has taken the last
			// batch: the streamer's wait for input.
			t := time.Now()
			select {
			case b, ok := <-s.in:
				waited(&s.stats.waitIn, t)
				if !ok {
					ended.Store(true)
					close(ch)
					return
				}
				s.stats.in.Add(int64(len(b.Records)))
				select {
				case ch <- b:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, ended
}
