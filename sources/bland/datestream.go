package bland

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/etlhq/etl/etl/spill"

	"github.com/etlhq/etl/etl/lenprefix"
)

// dateStream hands one date's calls from its fetch to Read as they are
// decoded, and then the fetch's outcome.
//
// Until Read starts taking (the date is not yet the one being emitted: up
// to concurrency-1 dates wait so), calls are kept packed: their fields
// back to back in 64 KB chunks, about 200 bytes a call instead of 400 as
// Call values with a string allocation per field. Once the chunks of all
// waiting dates fill the budget's memory, further full chunks go to a
// spill file: however many calls a date has, waiting dates hold a bounded
// amount of memory.
type dateStream struct {
	budget *waitBudget
	mu     sync.Mutex
	taking bool          // Read has started on this date: calls stay unpacked
	packed []packedChunk // calls of the waiting date, in chunks
	calls  []Call        // calls put since taking began
	done   bool
	day    *Day
	err    error
	wake   chan struct{} // a token when calls or the outcome arrived
	// unpacked is take's buffer for a chunk's calls, reused: only the
	// reader's goroutine touches it.
	unpacked []Call
}

// packedChunk is a chunk of packed calls, in memory or in the spill file.
type packedChunk struct {
	data []byte // nil once spilled
	off  int64
	n    int
	size int64 // as counted in the budget
	kept bool  // counted in the budget's memory (a full chunk kept)
}

// packChunk is the size of the chunks packed calls go in.
const packChunk = 64 << 10

func newDateStream(budget *waitBudget) *dateStream {
	return &dateStream{budget: budget, wake: make(chan struct{}, 1)}
}

// waitingBudget is how many bytes of packed calls may wait before Read
// stops starting dates: about one date of 10,000 calls.
const waitingBudget = 2 << 20

// waitBudget counts the bytes of packed calls waiting, over all dates, and
// holds the spill file of the chunks that do not fit in memory.
type waitBudget struct {
	mu      sync.Mutex
	bytes   int64 // waiting, in memory or spilled
	mem     int64 // waiting in memory
	limit   int64 // for both
	dir     string
	file    *spill.File
	drained chan struct{} // a token when bytes went down
}

func newWaitBudget(limit int64, scratchDir string) *waitBudget {
	return &waitBudget{limit: limit, dir: scratchDir, drained: make(chan struct{}, 1)}
}

// keep accounts a full chunk of n bytes and says whether it stays in
// memory; if not, the caller spills it.
func (b *waitBudget) keep(n int64) bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.mem+n <= b.limit {
		b.mem += n
		return true
	}
	return false
}

// spill writes a chunk to the spill file and returns its offset.
func (b *waitBudget) spill(chunk []byte) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.file == nil {
		f, err := spill.New(b.dir)
		if err != nil {
			return 0, err
		}
		b.file = f
	}
	return b.file.Append(chunk)
}

// load reads a spilled chunk back.
func (b *waitBudget) load(c packedChunk) ([]byte, error) {
	b.mu.Lock()
	f := b.file
	b.mu.Unlock()
	buf := make([]byte, c.n)
	return buf, f.ReadAt(buf, c.off)
}

// close lets the spill file go.
func (b *waitBudget) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.file != nil {
		b.file.Release()
		b.file = nil
	}
}

// release gives back a chunk taken from memory; kept says whether it was
// counted in memory (a full chunk that was kept, not the one being filled
// nor one whose spill failed).
func (b *waitBudget) release(n int64, kept bool) {
	if b == nil {
		return
	}
	b.mu.Lock()
	if kept {
		b.mem -= n
	}
	b.mu.Unlock()
	b.add(-n)
}

func (b *waitBudget) add(n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.bytes += n
	b.mu.Unlock()
	if n < 0 {
		select {
		case b.drained <- struct{}{}:
		default:
		}
	}
}

// wait returns once the bytes waiting are under the limit.
func (b *waitBudget) wait(ctx context.Context) error {
	for {
		b.mu.Lock()
		under := b.bytes < b.limit
		b.mu.Unlock()
		if under {
			return nil
		}
		select {
		case <-b.drained:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// put adds a batch of calls; it is FetchDate's deliver.
func (d *dateStream) put(batch []Call) error {
	d.mu.Lock()
	var err error
	if d.taking {
		d.calls = append(d.calls, batch...)
	} else {
		for i := range batch {
			if err = d.pack(&batch[i]); err != nil {
				break
			}
		}
	}
	d.mu.Unlock()
	d.notify()
	return err
}

// pack appends c to the last chunk, starting a new one when it is full;
// a full chunk stays in memory if the budget allows, else it is spilled.
func (d *dateStream) pack(c *Call) error {
	n := len(d.packed)
	if n == 0 || len(d.packed[n-1].data) > packChunk-packedSize(c) {
		if n > 0 {
			if err := d.settleChunk(&d.packed[n-1]); err != nil {
				return err
			}
		}
		size := max(packChunk, packedSize(c))
		d.packed = append(d.packed, packedChunk{data: make([]byte, 0, size), size: int64(size)})
		d.budget.add(int64(size))
		n++
	}
	d.packed[n-1].data = appendPacked(d.packed[n-1].data, c)
	return nil
}

// settleChunk keeps a full chunk in memory or spills it.
func (d *dateStream) settleChunk(c *packedChunk) error {
	if d.budget.keep(c.size) {
		c.kept = true
		return nil
	}
	off, err := d.budget.spill(c.data)
	if err != nil {
		return fmt.Errorf("spilling waiting calls: %w", err)
	}
	c.off, c.n, c.data = off, len(c.data), nil
	return nil
}

// finish records the fetch's outcome.
func (d *dateStream) finish(day *Day, err error) {
	d.mu.Lock()
	d.day, d.err, d.done = day, err, true
	d.mu.Unlock()
	d.notify()
}

func (d *dateStream) notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// take waits for calls or the outcome and returns the calls that arrived
// since the last take, and whether the fetch has finished (its outcome is
// then in day and err). Packed calls come back a chunk at a time.
func (d *dateStream) take(ctx context.Context) ([]Call, bool, error) {
	for {
		d.mu.Lock()
		d.taking = true
		if len(d.packed) > 0 {
			chunk := d.packed[0]
			d.packed[0] = packedChunk{}
			d.packed = d.packed[1:]
			done := d.done && len(d.packed) == 0 && len(d.calls) == 0
			d.mu.Unlock()
			data := chunk.data
			if data == nil {
				var err error
				if data, err = d.budget.load(chunk); err != nil {
					return nil, false, err
				}
				d.budget.add(-chunk.size)
			} else {
				d.budget.release(chunk.size, chunk.kept)
			}
			calls, err := unpackAll(d.unpacked, data)
			d.unpacked = calls
			return calls, done, err
		}
		calls, done := d.calls, d.done
		d.calls = nil
		d.mu.Unlock()
		if len(calls) > 0 || done {
			return calls, done, nil
		}
		select {
		case <-d.wake:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}

// Packed form: the six strings and the metadata with uvarint lengths,
// created_at as varint seconds and uvarint nanoseconds, a flags byte, and
// the call length's float bits when present.
const (
	flagInbound = 1 << iota
	flagLength
	flagMetadata
)

func packedSize(c *Call) int {
	return 6*binary.MaxVarintLen32 + len(c.ID) + len(c.To) + len(c.From) + len(c.BatchID) + len(c.Status) + len(c.AnsweredBy) +
		2*binary.MaxVarintLen64 + 1 + 8 + binary.MaxVarintLen32 + len(c.Metadata)
}

func appendPacked(b []byte, c *Call) []byte {
	for _, s := range [...]string{c.ID, c.To, c.From, c.BatchID, c.Status, c.AnsweredBy} {
		b = lenprefix.Append(b, s)
	}
	b = binary.AppendVarint(b, c.CreatedAt.Unix())
	b = binary.AppendUvarint(b, uint64(c.CreatedAt.Nanosecond()))
	var flags byte
	if c.Inbound {
		flags |= flagInbound
	}
	if c.HasLength {
		flags |= flagLength
	}
	if c.Metadata != nil {
		flags |= flagMetadata
	}
	b = append(b, flags)
	if c.HasLength {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(c.CallLength))
	}
	if c.Metadata != nil {
		b = lenprefix.Append(b, c.Metadata)
	}
	return b
}

var errPacked = errors.New("bland: corrupt packed call (a bug)")

// unpackAll decodes a chunk of packed calls, appending them to dst[:0]
// (the reader's buffer from the last chunk: its calls have become records
// by the time it takes the next).
func unpackAll(dst []Call, b []byte) ([]Call, error) {
	calls := dst[:0]
	for len(b) > 0 {
		calls = append(calls, Call{})
		var err error
		if b, err = unpack(b, &calls[len(calls)-1]); err != nil {
			return nil, err
		}
	}
	return calls, nil
}

// unpack decodes the call at the start of b into c and returns the rest.
// The call's strings are cut from one string of its packed bytes: one
// allocation a call instead of one a field.
func unpack(b []byte, c *Call) ([]byte, error) {
	start := b
	var spans [6][2]int // each string's offset in start and length
	bytesField := func() (f []byte, ok bool) {
		f, b, ok = lenprefix.Cut(b)
		return f, ok
	}
	for i := range spans {
		f, ok := bytesField()
		if !ok {
			return nil, errPacked
		}
		spans[i] = [2]int{len(start) - len(b) - len(f), len(f)}
	}
	strs := string(start[:len(start)-len(b)])
	for i, dst := range [...]*string{&c.ID, &c.To, &c.From, &c.BatchID, &c.Status, &c.AnsweredBy} {
		*dst = strs[spans[i][0] : spans[i][0]+spans[i][1]]
	}
	sec, w := binary.Varint(b)
	if w <= 0 {
		return nil, errPacked
	}
	b = b[w:]
	nsec, w := binary.Uvarint(b)
	if w <= 0 || len(b) < w+1 {
		return nil, errPacked
	}
	b = b[w:]
	c.CreatedAt = time.Unix(sec, int64(nsec)).UTC()
	flags := b[0]
	b = b[1:]
	c.Inbound = flags&flagInbound != 0
	if flags&flagLength != 0 {
		if len(b) < 8 {
			return nil, errPacked
		}
		c.CallLength, c.HasLength = math.Float64frombits(binary.LittleEndian.Uint64(b)), true
		b = b[8:]
	}
	if flags&flagMetadata != 0 {
		f, ok := bytesField()
		if !ok {
			return nil, errPacked
		}
		c.Metadata = append([]byte(nil), f...)
	}
	return b, nil
}
