package cli

import (
	"io"
	"math"
	"sync"
	"sync/atomic"

	"github.com/etlhq/etl/etl"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// liveView is the status on a terminal: a bar per block the progress
// names (a source's partitions, a lookup's keys) with its counts and API
// traffic, and a line with the elapsed time and the time left, redrawn in
// place by mpb. Lines written through it (Write) scroll above. Nothing is
// drawn before the first progress event: a run that fails at its preflight
// leaves no status behind.
type liveView struct {
	w    io.Writer
	last atomic.Pointer[etl.Progress]

	mu     sync.Mutex
	p      *mpb.Progress // nil until the first progress
	footer *mpb.Bar
	bars   map[string]*mpb.Bar
	// order is the blocks in the order their bars were added.
	order []string
}

func newLiveView(w io.Writer) *liveView {
	return &liveView{w: w, bars: map[string]*mpb.Bar{}}
}

// start makes the status: the clock line at the bottom. v.mu is held.
func (v *liveView) start() {
	v.p = mpb.New(mpb.WithOutput(v.w), mpb.WithAutoRefresh())
	v.footer = v.p.New(0, mpb.NopStyle(), mpb.BarPriority(math.MaxInt32), mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
		return clockText(*v.last.Load())
	})))
}

// Write prints b above the status, or as is before there is one.
func (v *liveView) Write(b []byte) (int, error) {
	v.mu.Lock()
	p := v.p
	v.mu.Unlock()
	if p == nil {
		return v.w.Write(b)
	}
	return p.Write(b)
}

func (v *liveView) show(p etl.Progress) {
	v.last.Store(&p)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.p == nil {
		v.start()
	}
	for _, b := range p.Blocks {
		bar, ok := v.bars[b.Block]
		if !ok {
			bar = v.addBar(b.Block)
		}
		var done, total int64
		switch {
		case b.Partitions != nil:
			done = b.Partitions.Done
			if b.Partitions.Total != nil {
				total = *b.Partitions.Total
			}
		case b.Keys != nil:
			done, total = b.Keys.Done, b.Keys.Known
		}
		bar.SetTotal(total, false)
		bar.SetCurrent(done)
	}
}

// addBar adds the bar of a block: its name and counts before, its API
// traffic after, both read from the last progress.
func (v *liveView) addBar(block string) *mpb.Bar {
	find := func() (etl.BlockProgress, bool) {
		p := v.last.Load()
		if p == nil {
			return etl.BlockProgress{}, false
		}
		for _, b := range p.Blocks {
			if b.Block == block {
				return b, true
			}
		}
		return etl.BlockProgress{}, false
	}
	col := decor.WC{C: decor.DSyncWidthR | decor.DextraSpace}
	bar := v.p.AddBar(0, mpb.BarPriority(len(v.order)),
		mpb.PrependDecorators(
			decor.Name(block, col),
			decor.Any(func(decor.Statistics) string {
				b, _ := find()
				return doneText(b)
			}, col),
		),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			b, _ := find()
			return activityText(b)
		}, decor.WC{C: decor.DSyncWidthR | decor.DextraSpace})),
	)
	v.bars[block] = bar
	v.order = append(v.order, block)
	return bar
}

// stop completes every bar, which draws the last state, and waits for
// mpb to give the terminal back.
func (v *liveView) stop() {
	v.mu.Lock()
	p := v.p
	for _, b := range v.bars {
		b.SetTotal(-1, true)
	}
	if p != nil {
		v.footer.SetTotal(-1, true)
	}
	v.mu.Unlock()
	if p != nil {
		p.Wait()
	}
}
