package redialqueue

import (
	"slices"

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
	where map[string]place
}

type place struct {
	off int64
	n   uint32
}

func newPendingSet(dir string) *pendingSet {
	return &pendingSet{dir: dir, where: map[string]place{}}
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
	off, err := p.file.Append(b)
	if err != nil {
		return err
	}
	p.where[ph] = place{off, uint32(len(b))}
	return nil
}

// get returns ph's entry.
func (p *pendingSet) get(ph string) ([]byte, error) {
	at := p.where[ph]
	b := make([]byte, at.n)
	return b, p.file.ReadAt(b, at.off)
}

// phones returns the phones, sorted.
func (p *pendingSet) phones() []string {
	keys := make([]string, 0, len(p.where))
	for k := range p.where {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (p *pendingSet) len() int { return len(p.where) }

// close lets the spill file go.
func (p *pendingSet) close() error {
	if p.file == nil {
		return nil
	}
	f := p.file
	p.file = nil
	return f.Release()
}
