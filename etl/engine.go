package etl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/etlhq/etl/etl/store"
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
	// State is the store the run resumes from and commits each done
	// partition to (see package store). Nil runs without a checkpoint.
	// A plan reads it and never writes.
	State *store.Store
	// Fresh ignores what State holds; the run wipes it once it has
	// started (see Started), so that a fresh run stopped by a wrong key
	// keeps the old checkpoint.
	Fresh bool
	// ScratchDir is passed to stages (see Env.ScratchDir).
	ScratchDir string
	// Started, when set, is called once every stage is built and has
	// passed its preflight check, right before any record is read; an
	// error stops the run there.
	Started func() error
	// DrainTimeout bounds how long a run that lost a source keeps going to
	// checkpoint the partitions already read (default 30 s).
	DrainTimeout time.Duration
	// CacheFlush is how often the caches' new answers are committed
	// between partitions (default 5 s; see Cacher).
	CacheFlush time.Duration
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
	// CommitBytes are the sizes of this run's checkpoint commits, one per
	// partition saved: what each wrote to the state's log.
	CommitBytes []int
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
	// state and caches are the stage's tables when it is Stateful or a
	// Cacher.
	state, caches *table
	// ackSelf makes a source acknowledge its own marks (see
	// newPartitionTracker).
	ackSelf bool
	// finished is set once the stage has handled its whole input and, if
	// it is a Finisher, Finish returned: for a sink, its output is written.
	finished atomic.Bool
}

// Run runs the pipeline until its sources are exhausted, an error occurs or
// ctx is cancelled. A cancelled run returns ctx's error; every other error is
// a *StageError.
//
// Its steps: read the checkpoint, build the stages (each stateful one gets
// its table), preflight them, start (a fresh run wipes the old state),
// stream every record through, then sum up.
func (p *Pipeline) Run(ctx context.Context, opts RunOptions) (*Result, error) {
	start := time.Now()
	opts = withDefaults(opts)
	cp, err := p.checkpoint(opts)
	if err != nil {
		return nil, err
	}
	resumed := len(cp.doneCount())
	signals := &doneSignals{done: map[string]chan struct{}{}}
	stages, err := p.build(opts, cp, signals)
	defer closeStages(stages, opts.Logger)
	if err != nil {
		return nil, err
	}
	if err := preflight(ctx, stages); err != nil {
		return nil, err
	}
	if err := started(opts, stages); err != nil {
		return nil, err
	}
	tracker := newPartitionTracker(p, stages, cp, opts.State, signals, opts)
	completed, err := p.stream(ctx, stages, tracker, opts)
	if cerr := tracker.finish(completed, cacheAddrs(stages)); cerr != nil {
		if err != nil {
			opts.Logger.Error("saving the answers obtained with the checkpoint", "err", cerr)
		} else {
			err = cerr
		}
	}
	return result(stages, tracker, resumed, start, err), err
}

func withDefaults(opts RunOptions) RunOptions {
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
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 30 * time.Second
	}
	if opts.CacheFlush <= 0 {
		opts.CacheFlush = 5 * time.Second
	}
	opts.Events = &partitionLines{Reporter: opts.Events, reported: map[string]bool{}}
	return opts
}

// checkpoint reads what the state holds (an empty checkpoint for a fresh
// run or one without state).
func (p *Pipeline) checkpoint(opts RunOptions) (*Checkpoint, error) {
	if opts.State == nil || opts.Fresh {
		return NewCheckpoint(p), nil
	}
	cp, err := ReadCheckpoint(opts.State)
	if err != nil || cp != nil {
		return cp, err
	}
	return NewCheckpoint(p), nil
}

func closeStages(stages []*stage, log *slog.Logger) {
	for _, s := range stages {
		if s.closer != nil {
			if err := s.closer.Close(); err != nil {
				log.Error("close failed", "block", s.block.Addr.String(), "err", err)
			}
		}
	}
}

// preflight runs every stage's Preflight check before any stage starts.
func preflight(ctx context.Context, stages []*stage) error {
	for _, s := range stages {
		if pf, ok := s.impl.(Preflighter); ok {
			if err := pf.Preflight(ctx); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return &StageError{Addr: s.block.Addr, Range: s.block.DefRange, Err: err}
			}
		}
	}
	return nil
}

// started calls opts.Started and, for a fresh run, wipes the old state:
// only now, so that a run stopped by its preflight keeps it.
func started(opts RunOptions, stages []*stage) error {
	if opts.Started != nil {
		if err := opts.Started(); err != nil {
			return err
		}
	}
	if !opts.Fresh || opts.Plan || opts.State == nil {
		return nil
	}
	if err := wipe(opts.State); err != nil {
		return fmt.Errorf("removing the old checkpoint: %w", err)
	}
	for _, s := range stages {
		for _, t := range []*table{s.state, s.caches} {
			if t != nil {
				t.setBase(opts.State)
			}
		}
	}
	return nil
}

// stream runs one goroutine per stage and one for the tracker until the
// input ends, a stage fails or ctx is cancelled. completed reports that
// every sink wrote its output.
func (p *Pipeline) stream(ctx context.Context, stages []*stage, tracker *partitionTracker, opts RunOptions) (completed bool, err error) {
	drainCtx, cancelDrain := context.WithCancel(ctx)
	defer cancelDrain()
	rs := &runState{cancel: cancelDrain, drainTimeout: opts.DrainTimeout}
	defer rs.stop()
	g, gctx := errgroup.WithContext(drainCtx)
	acks := make(chan ack, len(stages))
	ackers := 0
	for _, s := range stages {
		s.out.ctx = gctx
		s.rs = rs
		if s.acks() {
			s.out.acks = acks
			ackers++
		}
	}
	// Buffered: a stage must be able to report its end after the tracker
	// has stopped on an error.
	ackersDone := make(chan struct{}, ackers)
	for _, s := range stages {
		g.Go(func() (err error) {
			if s.out.acks != nil {
				defer func() { ackersDone <- struct{}{} }()
			}
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
		})
	}
	g.Go(func() (err error) {
		defer func() {
			// A bug here must fail the run, not kill the process with
			// the checkpoint half-handled.
			if r := recover(); r != nil {
				err = fmt.Errorf("panic in the partition tracker: %v\n%s", r, debug.Stack())
			}
		}()
		flush := time.NewTicker(opts.CacheFlush)
		defer flush.Stop()
		for finished := 0; finished < ackers; {
			select {
			case <-flush.C:
				if err := tracker.flushCaches(); err != nil {
					return err
				}
			case a := <-acks:
				if err := tracker.ack(a); err != nil {
					return err
				}
			case <-ackersDone:
				finished++
			case <-gctx.Done():
				// A failed or interrupted run still commits what its
				// stages acknowledged before it stopped: durable work
				// that a resumed run need not redo.
				if err := drainAcks(acks, tracker); err != nil {
					return err
				}
				return gctx.Err()
			}
		}
		// Acks sent before the last stage ended are still queued.
		return drainAcks(acks, tracker)
	})
	err = g.Wait()
	completed = rs.err == nil && allSinksFinished(stages) && (err == nil || errors.Is(err, context.Canceled))
	if completed {
		// Every sink has written its output, so a signal that came since
		// does not make this an interrupted run (which would tell the
		// user to resume a finished one). Checkpoint the partitions whose
		// marks the tracker had not yet taken.
		err = drainAcks(acks, tracker)
	}
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
	return completed && err == nil, err
}

// result sums the run up.
func result(stages []*stage, tracker *partitionTracker, resumed int, start time.Time, err error) *Result {
	res := &Result{Elapsed: time.Since(start), Resumed: resumed, Saved: tracker.saved, LastSaved: tracker.lastSaved, CommitBytes: tracker.commitBytes}
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
	return res
}

// drainAcks hands the tracker the acks still queued.
func drainAcks(acks <-chan ack, tracker *partitionTracker) error {
	for {
		select {
		case a := <-acks:
			if err := tracker.ack(a); err != nil {
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

func cacheAddrs(stages []*stage) []Addr {
	var out []Addr
	for _, s := range stages {
		if s.caches != nil {
			out = append(out, s.block.Addr)
		}
	}
	return out
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
		}
		impl, err := b.Plugin.build(b.Config, env)
		if err != nil {
			return stages, &StageError{Addr: b.Addr, Range: b.DefRange, Err: err}
		}
		s := &stage{block: b, impl: impl, env: env, stats: &blockStats{}}
		s.closer, _ = impl.(Closer)
		stages = append(stages, s)
		byBlock[b] = s
		s.out = &output{addr: b.Addr, batchSize: opts.BatchSize, stats: s.stats, sink: b.Addr.Kind == KindSink}
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

// useTables gives a Stateful stage its table and a Cacher its cache. Their
// changes are committed only in a run with state whose source is safe to
// resume; otherwise they stay in memory (a plan, a test without state).
func (s *stage) useTables(opts RunOptions, unsafe bool) error {
	base := opts.State
	if opts.Fresh {
		base = nil // read as empty until the run wipes the old state
	}
	keepAll := opts.Plan || opts.State == nil
	addr := s.block.Addr.String()
	if st, ok := s.impl.(Stateful); ok {
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
