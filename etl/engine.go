package etl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/sync/errgroup"
)

// RunOptions are the settings of one run of a pipeline.
type RunOptions struct {
	// Plan reports the change each sink would make and writes nothing.
	Plan bool
	// ShowEntries and Unmask are passed to sinks (see Env).
	ShowEntries, Unmask bool
	// Events receives the run report; Discard when nil.
	Events Reporter
	// Logger is the base logger; slog.Default() when nil.
	Logger *slog.Logger
	// BatchSize is how many records travel together (default 256), and
	// Buffer how many batches each channel holds (default 4). Together they
	// bound memory: a stage runs at most Buffer×BatchSize records ahead of
	// each consumer.
	BatchSize, Buffer int
	// Resume restores stateful stages and tells sources which partitions
	// are done. Nil starts afresh.
	Resume *Checkpoint
	// ScratchDir is passed to stages (see Env.ScratchDir).
	ScratchDir string
	// Started, when set, is called once every stage is built and has
	// passed its preflight check, right before any record is read; an
	// error stops the run there.
	Started func() error
	// Save is called with the new checkpoint each time a partition has
	// passed every sink. Never called in plan mode. The stages' snapshots
	// in it are valid during the call (SaveCheckpoint writes them); to keep
	// the checkpoint, call its Materialize first.
	Save func(*Checkpoint) error
	// SaveCaches is called at the end of a run that saves checkpoints,
	// when a stage keeps a cache (see Cacher): with the caches when the
	// run failed or was interrupted, so that resuming reuses them; with nil
	// when it completed, so that a run of the finished pipeline asks
	// afresh. It must set the caches of the checkpoint last saved and keep
	// the rest of it; with none saved yet, save fresh with the caches.
	// etl.SaveCaches does this for a checkpoint file.
	SaveCaches func(caches map[string]json.RawMessage, fresh *Checkpoint) error
	// DrainTimeout bounds how long a run that lost a source keeps going to
	// checkpoint the partitions already read (default 30 s).
	DrainTimeout time.Duration
}

// Result sums up a run.
type Result struct {
	Blocks  []BlockResult
	Changes []Change
	Elapsed time.Duration
	// Resumed counts the partitions the checkpoint already held.
	Resumed int
	// Saved counts the partitions this run checkpointed; LastSaved names
	// the last of them ("2025-12-16"), for "stopped after ..." messages.
	Saved     int
	LastSaved string
}

// Changed reports whether any sink made, or in plan mode would make, a
// change.
func (r *Result) Changed() bool {
	for _, c := range r.Changes {
		if c.Changed {
			return true
		}
	}
	return false
}

// BlockResult holds a block's counts at the end of a run.
type BlockResult struct {
	Addr    Addr
	In, Out int64
	Dropped map[string]int64
	Counts  map[string]int64
	// Skipped lists what the block skipped instead of failing (see
	// Skipper), as the report shows it.
	Skipped []string
}

// Skipped returns how many items the run's blocks skipped instead of
// failing (see Skipper): a run that skipped any completed, but not whole.
func (r *Result) Skipped() int {
	n := 0
	for _, b := range r.Blocks {
		n += len(b.Skipped)
	}
	return n
}

// Change is what a sink did, or would do in plan mode.
type Change struct {
	Block Addr
	// Changed is false when the sink's output is already up to date.
	Changed bool
	// Summary is one line: "+145 entries, 12 already queued".
	Summary string
	// Details are extra lines (entries listed by --show-entries).
	Details []string
}

// Changer is implemented by sinks: after Finish, the change they made (or
// would make, in plan mode).
type Changer interface {
	Change() Change
}

// StageError is a runtime error of one block, reported once with the
// block's address and where it is declared.
type StageError struct {
	Addr  Addr
	Range hcl.Range
	Err   error
}

// Error renders "addr (file:line:col): cause".
func (e *StageError) Error() string {
	return fmt.Sprintf("%s (%s): %v", e.Addr, pos(e.Range), e.Err)
}

// Unwrap returns the cause.
func (e *StageError) Unwrap() error { return e.Err }

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
	// finished is set once the stage has handled its whole input and, if
	// it is a Finisher, Finish returned: for a sink, its output is written.
	finished atomic.Bool
}

// Run runs the pipeline until its sources are exhausted, an error occurs or
// ctx is cancelled. A cancelled run returns ctx's error; every other error is
// a *StageError.
func (p *Pipeline) Run(ctx context.Context, opts RunOptions) (*Result, error) {
	start := time.Now()
	if opts.Events == nil {
		opts.Events = Discard
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 256
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 4
	}
	opts.Events = &partitionLines{Reporter: opts.Events, reported: map[string]bool{}}
	cp := opts.Resume
	if cp == nil {
		cp = NewCheckpoint(p)
	}
	resumed := len(cp.doneCount())

	slots := map[Addr]chan struct{}{}
	resumedCaches := len(cp.Caches) > 0
	stages, err := p.build(opts, cp, slots)
	defer func() {
		for _, s := range stages {
			if s.closer != nil {
				if cerr := s.closer.Close(); cerr != nil {
					opts.Logger.Error("close failed", "block", s.block.Addr.String(), "err", cerr)
				}
			}
		}
	}()
	if err != nil {
		return nil, err
	}
	for _, s := range stages {
		if pf, ok := s.impl.(Preflighter); ok {
			if err := pf.Preflight(ctx); err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, &StageError{Addr: s.block.Addr, Range: s.block.DefRange, Err: err}
			}
		}
	}
	if opts.Started != nil {
		if err := opts.Started(); err != nil {
			return nil, err
		}
	}

	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 30 * time.Second
	}
	drainCtx, cancelDrain := context.WithCancel(ctx)
	defer cancelDrain()
	rs := &runState{cancel: cancelDrain, drainTimeout: opts.DrainTimeout}
	defer rs.stop()
	g, gctx := errgroup.WithContext(drainCtx)
	acks := make(chan *Mark, len(stages))
	held := &snapshotSet{}
	for _, s := range stages {
		s.out.ctx = gctx
		s.out.held = held
		s.rs = rs
		if s.block.Addr.Kind == KindSink {
			s.out.acks = acks
		}
	}
	tracker := newPartitionTracker(p, cp, opts)
	tracker.slots = slots
	tracker.cachers = cachers(stages)
	defer tracker.release()
	sinkCount := 0
	for _, s := range stages {
		if s.block.Addr.Kind == KindSink {
			sinkCount++
		}
	}
	// Buffered: a sink must be able to report its end after the tracker
	// has stopped on an error.
	sinksDone := make(chan struct{}, sinkCount)
	for _, s := range stages {
		s := s
		run := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
				}
				if err != nil && !errors.Is(err, context.Canceled) {
					err = &StageError{Addr: s.block.Addr, Range: s.block.DefRange, Err: err}
				}
				if err != nil && s.in == nil && !errors.Is(err, context.Canceled) && gctx.Err() == nil {
					// A source failed: keep the error for the end and let
					// what it already read drain through every stage, so
					// that finished partitions reach the checkpoint. No
					// stage finishes (no sink writes a partial result).
					rs.abort(err)
					err = s.closeOutputs(gctx)
				}
			}()
			return s.run(gctx)
		}
		if s.block.Addr.Kind == KindSink {
			g.Go(func() error {
				defer func() { sinksDone <- struct{}{} }()
				return run()
			})
			continue
		}
		g.Go(run)
	}
	g.Go(func() (err error) {
		defer func() {
			// A bug here must fail the run, not kill the process with
			// the checkpoint half-handled.
			if r := recover(); r != nil {
				err = fmt.Errorf("panic in the partition tracker: %v\n%s", r, debug.Stack())
			}
		}()
		finished := 0
		for finished < sinkCount {
			select {
			case m := <-acks:
				if err := tracker.ack(m); err != nil {
					return err
				}
			case <-sinksDone:
				finished++
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		// Marks sent before the last sink finished are still queued.
		return drainAcks(acks, tracker)
	})
	err = g.Wait()
	completed := rs.err == nil && allSinksFinished(stages) && (err == nil || errors.Is(err, context.Canceled))
	if completed {
		// Every sink has written its output, so a signal that came since
		// does not make this an interrupted run (which would tell the
		// user to resume a finished one). Checkpoint the partitions whose
		// marks the tracker had not yet taken.
		err = drainAcks(acks, tracker)
	}
	// Snapshots on marks a cancelled run dropped (in channels, in the acks
	// queue) are released here; those the tracker holds, by it as well.
	held.releaseAll()
	if rs.err != nil && ctx.Err() == nil {
		// The source's failure is the cause; an error of another stage
		// while draining (or the drain's timeout) came after it.
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, rs.err) {
			opts.Logger.Error("error while draining after a source failed", "err", err)
		}
		err = rs.err
	}
	if err == nil && !completed {
		err = ctx.Err()
	}

	if cerr := p.saveCaches(opts, tracker, err, resumedCaches); cerr != nil {
		if err != nil {
			opts.Logger.Error("saving the answers obtained with the checkpoint", "err", cerr)
		} else {
			err = cerr
		}
	}

	res := &Result{Elapsed: time.Since(start), Resumed: resumed, Saved: tracker.saved, LastSaved: tracker.lastSaved}
	for _, s := range stages {
		dropped, counts := s.stats.snapshot()
		br := BlockResult{Addr: s.block.Addr, In: s.stats.in.Load(), Out: s.stats.out.Load(), Dropped: dropped, Counts: counts}
		if sk, ok := s.impl.(Skipper); ok {
			br.Skipped = sk.Skipped()
		}
		res.Blocks = append(res.Blocks, br)
		if c, ok := s.impl.(Changer); ok && err == nil {
			ch := c.Change()
			ch.Block = s.block.Addr
			res.Changes = append(res.Changes, ch)
		}
	}
	return res, err
}

// drainAcks hands the tracker the marks still queued in acks.
func drainAcks(acks <-chan *Mark, tracker *partitionTracker) error {
	for {
		select {
		case m := <-acks:
			if err := tracker.ack(m); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// allSinksFinished reports whether every sink handled its whole input and
// wrote its output.
func allSinksFinished(stages []*stage) bool {
	for _, s := range stages {
		if s.block.Addr.Kind == KindSink && !s.finished.Load() {
			return false
		}
	}
	return true
}

// snapshotsInFlight is how many snapshots of one stateful stage may travel
// towards the sinks at once (see output.snapshotSlots).
const snapshotsInFlight = 2

// build constructs every stage and its channels. slots receives the
// snapshot slots of the stateful stages, for the partition tracker.
func (p *Pipeline) build(opts RunOptions, cp *Checkpoint, slots map[Addr]chan struct{}) ([]*stage, error) {
	byBlock := map[*Block]*stage{}
	var stages []*stage
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
		}
		impl, err := b.Plugin.build(b.Config, env)
		if err != nil {
			return stages, &StageError{Addr: b.Addr, Range: b.DefRange, Err: err}
		}
		s := &stage{block: b, impl: impl, env: env, stats: &blockStats{}}
		s.closer, _ = impl.(Closer)
		stages = append(stages, s)
		byBlock[b] = s
		s.out = &output{addr: b.Addr, batchSize: opts.BatchSize, stats: s.stats}
		if b.Input == nil {
			s.out.ended = map[string]bool{}
		}
		if err := loadCache(b, impl, cp); err != nil {
			return stages, err
		}
		if st, ok := impl.(Stateful); ok {
			if !opts.Plan && opts.Save != nil && (b.Addr.Kind == KindSink || b.feedsSink()) {
				// Snapshots cost: take them only to save them, and only
				// where a sink's acknowledgement will bring them back.
				s.out.stateful = st
				s.out.snapshotSlots = make(chan struct{}, snapshotsInFlight)
				slots[b.Addr] = s.out.snapshotSlots
			}
			data, err := cp.StageState(b.Addr.String())
			if err != nil {
				return stages, &StageError{Addr: b.Addr, Range: b.DefRange, Err: fmt.Errorf("reading checkpoint: %w", err)}
			}
			if data != nil {
				if s.out.stateful != nil && p.sourceCount() == 1 {
					// Every checkpoint this run saves brings a fresh snapshot
					// of the stage (one source: each partition passes it):
					// the restored bytes (dedupe's whole state) need not
					// stay in memory for the rest of the run.
					delete(cp.Stages, b.Addr.String())
				}
				if err := st.Restore(data); err != nil {
					return stages, &StageError{Addr: b.Addr, Range: b.DefRange, Err: fmt.Errorf("restoring checkpoint: %w", err)}
				}
			}
		}
		if b.Input != nil {
			s.in = make(chan Batch, opts.Buffer)
			up := byBlock[b.Input]
			up.out.consumers = append(up.out.consumers, s.in)
		}
	}
	return stages, nil
}

// sourceCount returns how many sources p has.
func (p *Pipeline) sourceCount() int {
	n := 0
	for _, b := range p.Blocks {
		if b.Input == nil {
			n++
		}
	}
	return n
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
		select {
		case b, ok = <-s.in:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !ok {
			// End of input; a cancelled run is not an end of input.
			return ctx.Err()
		}
		s.stats.in.Add(int64(len(b.Records)))
		for _, rec := range b.Records {
			var err error
			if proc != nil {
				err = proc.Process(ctx, rec, s.out)
			} else {
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
			select {
			case b, ok := <-s.in:
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

// partitionLines wraps the run's reporter to note which partitions a stage
// has already described (the stats sink prints a line per date), so that
// the engine prints its own generic "partition done" line only for the
// others.
type partitionLines struct {
	Reporter
	mu       sync.Mutex
	reported map[string]bool
}

func (p *partitionLines) Report(e Event) {
	if e.Type == EventPartition && e.Message != "" {
		p.mu.Lock()
		p.reported[e.Partition] = true
		p.mu.Unlock()
	}
	p.Reporter.Report(e)
}

// described reports whether a stage printed a line for the partition.
func (p *partitionLines) described(partition string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reported[partition]
}
