package etl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/etlhq/etl/etl/store"
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
	// BatchSize is how many records travel together (default 128), and
	// Buffer how many batches each channel holds (default 2). Together they
	// bound memory: a stage runs at most Buffer×BatchSize records ahead of
	// each consumer. The defaults are the smallest that left the benchmarks'
	// time unchanged (docs/architecture.md).
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
	// Stdout is passed to stages (see Env.Stdout); os.Stdout when nil.
	Stdout io.Writer
	// DrainTimeout bounds how long a run that lost a source keeps going to
	// checkpoint the partitions already read (default 30 s).
	DrainTimeout time.Duration
	// CacheFlush is how often the caches' new answers are committed
	// between partitions (default 5 s; see Cacher).
	CacheFlush time.Duration
	// ProgressEvery is how often the run reports its progress while its
	// stages run: an EventProgress without a Block whose Data is a
	// Progress (see ProgressOf), and a final one when they stop. 0: never.
	ProgressEvery time.Duration
	// Test, when set, makes this a test run (see TestHooks); tests run
	// without State, and as plans unless they ask for a real write.
	Test *TestHooks
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
	p = p.forTest(opts.Test)
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
	if err := started(opts); err != nil {
		return nil, err
	}
	tracker := newPartitionTracker(p, stages, cp, opts.State, signals, opts)
	stopProgress := startProgress(stages, opts, start)
	completed, err := p.stream(ctx, stages, tracker, opts)
	stopProgress()
	if cerr := tracker.finish(completed); cerr != nil {
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
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 128
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 2
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
		if s.scratch != nil {
			if err := s.scratch.Close(); err != nil {
				log.Error("closing the scratch table failed", "block", s.block.Addr.String(), "err", err)
			}
		}
	}
}

// preflight runs every stage's Preflight check before any stage starts.
func preflight(ctx context.Context, stages []*stage) error {
	// At once: each check is a request to a different API, and a run waits
	// for the slowest of them rather than for their sum. The error shown is
	// the first block's in pipeline order, whichever answered first.
	errs := make([]error, len(stages))
	var wg sync.WaitGroup
	for i, s := range stages {
		if pf, ok := s.impl.(Preflighter); ok {
			wg.Go(func() { errs[i] = pf.Preflight(ctx) })
		}
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s := stages[i]
			return &StageError{Addr: s.block.Addr, Range: s.block.DefRange, Err: err}
		}
	}
	return nil
}

// started calls opts.Started. A fresh run deletes the old state with its
// first commit (see partitionTracker.newBatch), not here: a run stopped at
// its first request keeps it.
func started(opts RunOptions) error {
	if opts.Started != nil {
		return opts.Started()
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
