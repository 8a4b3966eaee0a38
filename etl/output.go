package etl

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
)

// blockStats are the counts of one block, updated from its goroutine and
// read by the report.
type blockStats struct {
	in, out atomic.Int64

	mu      sync.Mutex
	dropped map[string]int64
	counts  map[string]int64
}

func (s *blockStats) drop(reason string) {
	s.mu.Lock()
	if s.dropped == nil {
		s.dropped = map[string]int64{}
	}
	s.dropped[reason]++
	s.mu.Unlock()
}

func (s *blockStats) count(name string, n int64) {
	s.mu.Lock()
	if s.counts == nil {
		s.counts = map[string]int64{}
	}
	s.counts[name] += n
	s.mu.Unlock()
}

func (s *blockStats) snapshot() (dropped, counts map[string]int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.dropped), maps.Clone(s.counts)
}

// output is the engine's Output for one stage: it batches emitted records
// and fans batches out to every consumer's channel. A sink's output has no
// consumers: its marks go to the engine's acknowledgement channel instead.
type output struct {
	ctx       context.Context
	addr      Addr
	consumers []chan Batch
	acks      chan<- *Mark // sinks only
	batchSize int
	buf       []Record
	stats     *blockStats
	// stateful is snapshotted as each mark passes; nil when the stage is
	// not stateful or the run saves no checkpoint (plan mode).
	stateful Stateful
	// snapshotSlots bounds this stage's snapshots in flight (travelling
	// with their marks towards the sinks): a slot is taken before a
	// snapshot and given back when its partition is checkpointed. A stage
	// whose snapshots are large (dedupe: the whole kept set) then waits at
	// a partition boundary rather than piling copies up behind a slow sink.
	snapshotSlots chan struct{}
	// held tracks the run's snapshots, so that those on marks a cancelled
	// run drops are released all the same.
	held *snapshotSet
	// ended holds the partitions a source has ended: a name may end once
	// (the tracker counts acknowledgements per partition name). Nil for
	// stages that are not sources.
	ended map[string]bool
}

var _ Output = (*output)(nil)

func (o *output) Emit(rec Record) error {
	o.stats.out.Add(1)
	if len(o.consumers) == 0 {
		return o.ctx.Err()
	}
	if o.buf == nil {
		o.buf = make([]Record, 0, o.batchSize)
	}
	o.buf = append(o.buf, rec)
	if len(o.buf) >= o.batchSize {
		return o.flush(nil)
	}
	return nil
}

func (o *output) Drop(reason string)         { o.stats.drop(reason) }
func (o *output) Count(name string, n int64) { o.stats.count(name, n) }

// EndPartition snapshots the stage's state into the mark and sends the
// pending records followed by the mark.
func (o *output) EndPartition(m *Mark) error {
	if o.ended != nil {
		if o.ended[m.Partition] {
			return fmt.Errorf("plugin bug: partition %q ended twice", m.Partition)
		}
		o.ended[m.Partition] = true
		m.Source = o.addr // the engine, not the plugin, says whose partition it is
	}
	if o.stateful != nil {
		select {
		case o.snapshotSlots <- struct{}{}:
		case <-o.ctx.Done():
			return o.ctx.Err()
		}
		var snap Snapshot
		if ss, ok := o.stateful.(SnapshotStreamer); ok {
			s, err := ss.SnapshotStream()
			if err != nil {
				return err
			}
			snap = s
		} else {
			data, err := o.stateful.Snapshot()
			if err != nil {
				return err
			}
			snap = BytesSnapshot(data)
		}
		m = m.withSnapshot(o.addr, o.held.hold(snap))
	}
	if o.acks != nil {
		select {
		case o.acks <- m:
			return nil
		case <-o.ctx.Done():
			return o.ctx.Err()
		}
	}
	return o.flush(m)
}

// flush sends the buffered records (and m, if any) to every consumer. The
// record slice is shared: stages never modify what they receive. Each
// consumer gets its own copy of the mark, because snapshots taken on one
// path must not show up on another.
func (o *output) flush(m *Mark) error {
	if len(o.buf) == 0 && m == nil {
		return nil
	}
	for i, ch := range o.consumers {
		b := Batch{Records: o.buf}
		if m != nil {
			b.Mark = m
			if i > 0 {
				b.Mark = m.clone()
			}
		}
		select {
		case ch <- b:
		case <-o.ctx.Done():
			return o.ctx.Err()
		}
	}
	o.buf = nil
	return nil
}

func (m *Mark) clone() *Mark {
	c := *m
	c.snapshots = maps.Clone(m.snapshots)
	return &c
}

func (m *Mark) withSnapshot(addr Addr, snap Snapshot) *Mark {
	c := m.clone()
	if c.snapshots == nil {
		c.snapshots = map[Addr]Snapshot{}
	}
	c.snapshots[addr] = snap
	return c
}

// snapshotSet holds the snapshots a run took and has not released yet.
// Marks carrying snapshots may be dropped when a run is cancelled (in a
// channel, in a select that gave up); the run releases what is left here
// at its end, so that a spill file's reference is never lost.
type snapshotSet struct {
	mu   sync.Mutex
	live map[*heldSnapshot]struct{}
}

// heldSnapshot is a snapshot registered in a snapshotSet; its Release is
// idempotent.
type heldSnapshot struct {
	Snapshot
	set  *snapshotSet
	once sync.Once
}

// Release releases the snapshot once, whoever asks first.
func (h *heldSnapshot) Release() {
	h.once.Do(func() {
		h.set.mu.Lock()
		delete(h.set.live, h)
		h.set.mu.Unlock()
		h.Snapshot.Release()
	})
}

// hold registers snap; a nil set holds nothing.
func (s *snapshotSet) hold(snap Snapshot) Snapshot {
	if s == nil {
		return snap
	}
	h := &heldSnapshot{Snapshot: snap, set: s}
	s.mu.Lock()
	if s.live == nil {
		s.live = map[*heldSnapshot]struct{}{}
	}
	s.live[h] = struct{}{}
	s.mu.Unlock()
	return h
}

// releaseAll releases every snapshot still held.
func (s *snapshotSet) releaseAll() {
	s.mu.Lock()
	left := make([]*heldSnapshot, 0, len(s.live))
	for h := range s.live {
		left = append(left, h)
	}
	s.mu.Unlock()
	for _, h := range left {
		h.Release()
	}
}
