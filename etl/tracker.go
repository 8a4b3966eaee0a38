package etl

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/etlhq/etl/etl/store"
)

// A partition is done, and committed to the checkpoint, once
//   - every stateful stage downstream of its source has handled its mark
//     (the stage's changes for the partition are sealed), and
//   - every sink downstream of its source that no replaying stage feeds
//     has handled its mark (made it durable).
//
// Stages and sinks behind a stage that Replays do not hold the checkpoint
// back: on a resumed run the replaying stage emits its restored records
// again, so whatever they hold (convoso's lookups in flight, the queue the
// redial_queue sink writes at the end) is rebuilt from the checkpoint.
// This keeps the checkpoint as close behind the fetch as the stateful
// stages allow: a crash loses only the partitions in flight.

// ack tells the tracker that a stage handled a partition's mark; delta is
// a stateful stage's changes for that partition (nil when none).
type ack struct {
	mark  *Mark
	from  Addr
	delta *delta
}

// partitionTracker collects acks and commits each partition that is done,
// with its stages' changes, in one transaction.
type partitionTracker struct {
	cp    *Checkpoint
	store *store.Store // nil: nothing is committed (plan, or no state)
	opts  RunOptions
	// expected holds, per source, the stages whose acks complete one of
	// its partitions.
	expected map[Addr]map[Addr]bool
	// unsafe holds sources with a buffering sink that nothing replays to:
	// their partitions are reported but never saved as done.
	unsafe  map[Addr]bool
	pending map[Addr]map[string]*pendingPartition
	caches  []*table
	// tables are every stage's tables; wipe says the first commit deletes
	// the old state (a fresh run).
	tables []*table
	wipe   bool
	// signals tells sources their partitions are done (Env.AwaitDone).
	signals *doneSignals
	// saved and lastSaved count what this run checkpointed; commitBytes
	// are the sizes of its commits, for the benchmarks.
	saved       int
	lastSaved   string
	commitBytes []int
}

type pendingPartition struct {
	mark   *Mark
	acked  map[Addr]bool
	deltas []*delta
}

func newPartitionTracker(p *Pipeline, stages []*stage, cp *Checkpoint, st *store.Store, signals *doneSignals, opts RunOptions) *partitionTracker {
	t := &partitionTracker{cp: cp, store: st, opts: opts, signals: signals, expected: map[Addr]map[Addr]bool{}, unsafe: p.unsafeSources(),
		pending: map[Addr]map[string]*pendingPartition{}}
	if opts.Plan {
		t.store = nil
	}
	t.wipe = opts.Fresh && t.store != nil
	for _, s := range stages {
		b := s.block
		if s.caches != nil {
			t.caches = append(t.caches, s.caches)
		}
		for _, tb := range []*table{s.state, s.caches} {
			if tb != nil {
				t.tables = append(t.tables, tb)
			}
		}
		if !s.acks() {
			continue
		}
		src := b.source().Addr
		if t.expected[src] == nil {
			t.expected[src] = map[Addr]bool{}
		}
		t.expected[src][b.Addr] = true
	}
	for _, s := range stages {
		if src := s.block.Addr; s.in == nil && len(t.expected[src]) == 0 {
			// Nothing after the source holds its partitions (no sink
			// reads it: an unused source): a partition is done once the
			// source has ended it.
			s.ackSelf = true
			t.expected[src] = map[Addr]bool{src: true}
		}
	}
	return t
}

// acks reports whether the stage's handling of a mark completes its
// partition: a stateful stage, or a sink that no replaying stage feeds.
func (s *stage) acks() bool {
	if s.state != nil || s.ackSelf {
		return true
	}
	return s.block.Addr.Kind == KindSink && !s.block.behindReplay()
}

// behindReplay reports whether a stage upstream of b Replays.
func (b *Block) behindReplay() bool { return b.replayer() != nil }

// replayer returns the nearest stage upstream of b that Replays, or nil.
func (b *Block) replayer() *Block {
	for up := b.Input; up != nil; up = up.Input {
		if up.Plugin != nil && up.Plugin.Replays {
			return up
		}
	}
	return nil
}

func (t *partitionTracker) ack(a ack) error {
	m := a.mark
	parts := t.pending[m.Source]
	if parts == nil {
		parts = map[string]*pendingPartition{}
		t.pending[m.Source] = parts
	}
	pp := parts[m.Partition]
	if pp == nil {
		pp = &pendingPartition{mark: m, acked: map[Addr]bool{}}
		parts[m.Partition] = pp
	}
	pp.acked[a.from] = true
	if a.delta != nil {
		pp.deltas = append(pp.deltas, a.delta)
	}
	if len(pp.acked) < len(t.expected[m.Source]) {
		return nil
	}
	delete(parts, m.Partition)
	// A stage has one input, so its marks, and its deltas, come from one
	// source in that source's order: committing partitions as they are
	// done commits each table's changes in the order they were made.
	if err := t.commit(pp); err != nil {
		return err
	}
	t.signals.signal(m.Source, m.Partition)
	return nil
}

// doneSignals tells sources when their partitions are done: a channel per
// partition, closed by the tracker.
type doneSignals struct {
	mu   sync.Mutex
	done map[string]chan struct{}
}

func (d *doneSignals) ch(src Addr, partition string) chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := src.String() + "\x00" + partition
	c, ok := d.done[key]
	if !ok {
		c = make(chan struct{})
		d.done[key] = c
	}
	return c
}

// signal closes the partition's channel, once.
func (d *doneSignals) signal(src Addr, partition string) {
	c := d.ch(src, partition)
	select {
	case <-c:
	default:
		close(c)
	}
}

// await is Env.AwaitDone for the source src.
func (d *doneSignals) await(src Addr) func(ctx context.Context, partition string) error {
	return func(ctx context.Context, partition string) error {
		select {
		case <-d.ch(src, partition):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// commit makes pp's partition done: its stages' changes, the caches'
// changes so far and the partition's record, in one synced transaction.
func (t *partitionTracker) commit(pp *pendingPartition) error {
	m := pp.mark
	src := m.Source.String()
	if t.unsafe[m.Source] || m.Open {
		// Not durable (see checkResumable), or not over (Mark.Open):
		// report it, do not save it. Its changes stay pending in their
		// tables (this run reads them) and are never committed.
		t.opts.Events.Report(Event{Time: time.Now().UTC(), Type: EventPartition, Block: src, Partition: m.Partition,
			Data: map[string]any{"incomplete": m.Incomplete, "open": m.Open, "info": m.Info, "checkpoint": false}})
		return nil
	}
	done := PartitionDone{Name: m.Partition, Incomplete: m.Incomplete, Info: m.Info}
	again := t.cp.Done(src, m.Partition) // a source that read a done partition again
	now := time.Now().UTC()
	if t.store != nil {
		// The caches' answers go with the partition's changes.
		deltas := append(slices.Clip(pp.deltas), t.sealCaches()...)
		b, err := t.newBatch(deltas)
		if err == nil && !again {
			if err = t.writeDone(b, src, done, now); err != nil {
				b.Close()
			}
		}
		if err == nil {
			t.commitBytes = append(t.commitBytes, b.Len())
			err = b.Commit(true)
		}
		if err != nil {
			return fmt.Errorf("saving checkpoint after %s %s: %w", src, m.Partition, err)
		}
		t.markCommitted(deltas)
		t.saved++
		t.lastSaved = m.Partition
	}
	if !again {
		t.cp.Sources[src] = append(t.cp.Sources[src], done)
	}
	t.cp.Updated = now
	msg := ""
	if pl, ok := t.opts.Events.(*partitionLines); !ok || !pl.described(m.Partition) {
		msg = fmt.Sprintf("%s  done (%s)", m.Partition, src)
		if m.Incomplete {
			msg += "  INCOMPLETE"
		}
	}
	t.opts.Events.Report(Event{
		Time: now, Type: EventPartition, Block: src, Partition: m.Partition, Message: msg,
		Data: map[string]any{"incomplete": m.Incomplete, "info": m.Info, "checkpoint": true},
	})
	return nil
}

// sealCaches seals the changes the caches have had since their last
// commit, for the next one.
func (t *partitionTracker) sealCaches() []*delta {
	var sealed []*delta
	for _, c := range t.caches {
		if d := c.seal(); d != nil {
			sealed = append(sealed, d)
		}
	}
	return sealed
}

// writeDone adds the partition's record and the checkpoint's header to b.
func (t *partitionTracker) writeDone(b *store.Batch, src string, done PartitionDone, now time.Time) error {
	data, err := json.Marshal(done)
	if err != nil {
		return err
	}
	if err := b.Set(doneKey(src, len(t.cp.Sources[src])), data); err != nil {
		return err
	}
	head := *t.cp
	head.Updated = now
	meta, err := json.Marshal(head)
	if err != nil {
		return err
	}
	return b.Set(metaKey, meta)
}

func (t *partitionTracker) markCommitted(deltas []*delta) {
	if t.wipe {
		// The old state is gone with this commit: the tables read the
		// store again, before their pending changes are dropped.
		t.wipe = false
		for _, tb := range t.tables {
			tb.setBase(t.store)
		}
	}
	for _, d := range deltas {
		d.committed()
	}
}

// newBatch starts a commit of the deltas' changes: a batch that holds
// them, sized for them at once (growing a date's megabytes by copying was
// a fifth of the commits' CPU at 50,000 phones). The first commit of a
// fresh run starts by deleting the old state, in the same transaction:
// until this run has something to checkpoint, the old checkpoint stays (a
// fresh run stopped by a wrong key at its first request keeps it).
func (t *partitionTracker) newBatch(deltas []*delta) (*store.Batch, error) {
	size := 1 << 10 // the done record and the header
	for _, d := range deltas {
		size += d.size()
	}
	b := t.store.NewBatch(size)
	if t.wipe {
		for _, p := range [][]byte{metaKey, donePrefix, statePrefix, cachePrefix} {
			if err := b.DeletePrefix(p); err != nil {
				b.Close()
				return nil, err
			}
		}
	}
	for _, d := range deltas {
		if err := d.write(b); err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

// finish brings the caches up to date when the run ends: a completed run
// empties them (running it again asks afresh); a failed or interrupted one
// commits the answers obtained since the last commit, so that a resumed
// run reuses them.
func (t *partitionTracker) finish(completed bool) error {
	if !completed {
		return t.flushCaches()
	}
	if t.store == nil || (len(t.caches) == 0 && !t.wipe) {
		return nil
	}
	b, err := t.newBatch(nil)
	if err != nil {
		return err
	}
	for _, c := range t.caches {
		if err := b.DeletePrefix(c.prefix); err != nil {
			b.Close()
			return err
		}
	}
	if err := b.Commit(true); err != nil {
		return err
	}
	t.markCommitted(nil)
	return nil
}

// flushCaches commits the caches' changes made since the last commit. The
// tracker calls it on a timer too (RunOptions.CacheFlush), so that a
// process killed while lookups go on after the last partition loses at
// most that interval's answers.
func (t *partitionTracker) flushCaches() error {
	if t.store == nil || !slices.ContainsFunc(t.caches, (*table).changed) {
		return nil
	}
	deltas := t.sealCaches()
	b, err := t.newBatch(deltas)
	if err != nil {
		return err
	}
	if err := b.Commit(true); err != nil {
		return fmt.Errorf("saving the answers obtained in this run: %w", err)
	}
	t.markCommitted(deltas)
	return nil
}
