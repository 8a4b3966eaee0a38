package etl

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
)

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
	// Outcomes is what became of the items the block decided on (see
	// Outcomer); nil when it reports none.
	Outcomes *Outcomes
	// Elapsed is how long the block's goroutine ran; WaitIn the part of
	// it spent waiting for input from upstream, WaitOut the part spent
	// waiting for a consumer downstream to take its output. The rest is
	// the block's own work, the APIs it calls included.
	Elapsed, WaitIn, WaitOut time.Duration
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
	// Counts are the change's parts by what happened to the items
	// ("added" 145, "already queued" 12), in the order the sink gives.
	Counts []Count
	// Size is how many items the output holds before and after the
	// change; nil when the sink does not say.
	Size *Size
}

// Count is a named count, one of an ordered list (a chart's bars).
type Count struct {
	Name string `json:"name"`
	N    int64  `json:"count"`
}

// Size is how many items (Unit: "entries", "rows") an output holds before
// and after a change.
type Size struct {
	Unit   string `json:"unit"`
	Before int64  `json:"before"`
	After  int64  `json:"after"`
}

// Outcomes are what became of the distinct items a stage decided on (Of:
// "phones"), one count per outcome ("kept", "excluded: SALE", "not
// found"), in the order the stage gives.
type Outcomes struct {
	Of     string  `json:"of"`
	Counts []Count `json:"counts"`
}

// Outcomer is implemented by stages that decide on items (keep, exclude)
// and can say, after the run, how many ended which way. The report charts
// them; the engine knows nothing of what the outcomes mean.
type Outcomer interface {
	Outcomes() *Outcomes
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

// result sums the run up.
func result(stages []*stage, tracker *partitionTracker, resumed int, start time.Time, err error) *Result {
	res := &Result{Elapsed: time.Since(start), Resumed: resumed, Saved: tracker.saved, LastSaved: tracker.lastSaved, CommitBytes: tracker.commitBytes}
	for _, s := range stages {
		dropped, counts := s.stats.snapshot()
		br := BlockResult{Addr: s.block.Addr, In: s.stats.in.Load(), Out: s.stats.out.Load(), Dropped: dropped, Counts: counts,
			Elapsed: s.stats.elapsed(), WaitIn: time.Duration(s.stats.waitIn.Load()), WaitOut: time.Duration(s.stats.waitOut.Load())}
		if sk, ok := s.impl.(Skipper); ok {
			br.Skipped = sk.Skipped()
		}
		if oc, ok := s.impl.(Outcomer); ok && err == nil {
			br.Outcomes = oc.Outcomes()
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
