package etl

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// blockStats are the counts of one block, updated from its goroutine and
// read by the report.
type blockStats struct {
	in, out atomic.Int64
	// waitIn and waitOut are nanoseconds spent waiting for input and for
	// consumers to take output; start and end (Unix nanoseconds) bound
	// the block's goroutine.
	waitIn, waitOut atomic.Int64
	start, end      atomic.Int64

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

// began and ended record the block's goroutine's start and end.
func (s *blockStats) began() { s.start.Store(time.Now().UnixNano()) }
func (s *blockStats) ended() { s.end.Store(time.Now().UnixNano()) }

// elapsed is how long the block ran: until now when it has not ended.
func (s *blockStats) elapsed() time.Duration {
	start, end := s.start.Load(), s.end.Load()
	if start == 0 {
		return 0
	}
	if end == 0 {
		end = time.Now().UnixNano()
	}
	return time.Duration(end - start)
}

// waited adds the time since t to *w: a wait for input or output, timed
// per batch (not per record), so the clock costs nothing measurable.
func waited(w *atomic.Int64, t time.Time) { w.Add(int64(time.Since(t))) }

func (s *blockStats) snapshot() (dropped, counts map[string]int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.dropped), maps.Clone(s.counts)
}

// output is the engine's Output for one stage: it batches emitted records
// and fans batches out to every consumer's channel.
type output struct {
	ctx       context.Context
	addr      Addr
	consumers []chan Batch
	// acks, when set, receives the stage's acknowledgement of each mark
	// it handled (see partitionTracker), with state's changes for the
	// partition when the stage is stateful.
	acks      chan<- ack
	state     *table
	sink      bool
	batchSize int
	buf       []Record
	stats     *blockStats
	// ended holds the partitions a source has ended: a name may end once
	// (the tracker counts acknowledgements per partition name). Nil for
	// stages that are not sources.
	ended map[string]bool
	// meter counts the partitions a source ends (see Meter).
	meter *Meter
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

// EndPartition seals the stage's changes for the partition, acknowledges
// the mark to the tracker and sends the pending records followed by the
// mark downstream.
func (o *output) EndPartition(m *Mark) error {
	if o.ended != nil {
		if o.ended[m.Partition] {
			return fmt.Errorf("plugin bug: partition %q ended twice", m.Partition)
		}
		o.ended[m.Partition] = true
		o.meter.partitionEnded()
		c := *m
		c.Source = o.addr // the engine, not the plugin, says whose partition it is
		m = &c
	}
	if o.acks != nil {
		var d *delta
		if o.state != nil {
			d = o.state.seal()
		}
		select {
		case o.acks <- ack{mark: m, from: o.addr, delta: d}:
		case <-o.ctx.Done():
			return o.ctx.Err()
		}
	}
	if o.sink {
		return nil
	}
	return o.flush(m)
}

// flush sends the buffered records (and m, if any) to every consumer. The
// record slice and the mark are shared: stages never modify what they
// receive.
func (o *output) flush(m *Mark) error {
	if len(o.buf) == 0 && m == nil {
		return nil
	}
	t := time.Now()
	defer waited(&o.stats.waitOut, t)
	for _, ch := range o.consumers {
		select {
		case ch <- Batch{Records: o.buf, Mark: m}:
		case <-o.ctx.Done():
			return o.ctx.Err()
		}
	}
	o.buf = nil
	return nil
}
