package redialqueue

import (
	"fmt"
	"slices"

	"github.com/etlhq/etl/etl/phone"

	"github.com/etlhq/etl/etl/spill"
)

// pendingSet holds the entry of the last record per phone until the merge.
// The entries (compact JSON, a few hundred bytes each) wait in a spill file;
// memory holds per phone only where its entry is, so that 50,000 phones
// cost a few MB. A phone updated again (dedupe_latest emitting updates)
// points to its newer entry; the older one stays in the file unread.
type pendingSet struct {
	dir   string
	file  *spill.File
	where map[phone.Number]place
}

type place struct {
	off int64
	n   uint32
}

func newPendingSet(dir string) *pendingSet {
	return &pendingSet{dir: dir, where: map[phone.Number]place{}}
}

// set makes b the entry of ph.
func (p *pendingSet) set(ph string, b []byte) error {
	if p.file == nil {
		f, err := spill.New(p.dir)
		if err != nil {
			return err
		}
		p.file = f
	}
	num, ok := phone.ParseNumber(ph)
	if !ok {
		return fmt.Errorf("queue entry for %q: not a normalized phone", phone.Mask(ph))
	}
	off, err := p.file.Append(b)
	if err != nil {
		return err
	}
	p.where[num] = place{off, uint32(len(b))}
	return nil
}

// get returns ph's entry.
func (p *pendingSet) get(ph string) ([]byte, error) {
	num, _ := phone.ParseNumber(ph)
	at, ok := p.where[num]
	if !ok {
		return nil, fmt.Errorf("no pending entry for %s", phone.Mask(ph))
	}
	b := make([]byte, at.n)
	return b, p.file.ReadAt(b, at.off)
}

// phones returns the phones, sorted.
func (p *pendingSet) phones() []string {
	nums := make([]phone.Number, 0, len(p.where))
	for n := range p.where {
		nums = append(nums, n)
	}
	slices.Sort(nums) // ten digits each: numeric order is text order
	keys := make([]string, len(nums))
	for i, n := range nums {
		keys[i] = n.String()
	}
	return keys
}

// close lets the spill file go.
func (p *pendingSet) close() error {
	if p.file == nil {
		return nil
	}
	f := p.file
	p.file = nil
	return f.Release()
}
