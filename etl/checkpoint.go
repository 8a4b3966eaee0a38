package etl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"
)

// CheckpointVersion is the format version of checkpoint files.
const CheckpointVersion = 1

// Checkpoint is what a run has durably finished: the partitions each source
// completed and the state of each stateful stage after the last of them.
// It is JSON so that `etl state show` and people can read it; it holds no
// secret (secret attributes never reach a fingerprint).
type Checkpoint struct {
	Version  int       `json:"version"`
	Pipeline string    `json:"pipeline"`
	Updated  time.Time `json:"updated"`
	// Fingerprint holds, per block, the settings that give the saved state
	// its meaning; a run refuses a checkpoint whose fingerprint differs.
	Fingerprint map[string]map[string]string `json:"fingerprint"`
	// Sources maps a source's address to its finished partitions, in order.
	Sources map[string][]PartitionDone `json:"sources"`
	// Stages maps a stateful stage's address to its snapshot, as loaded
	// from the file. A running pipeline's snapshots are in snapshots (see
	// StageState), written into the file by SaveCheckpoint.
	Stages map[string]json.RawMessage `json:"stages,omitempty"`
	// Caches maps a stage's address to the answers it obtained during a
	// run that has not completed (see Cacher): a resumed run reuses them.
	// A completed run's checkpoint holds none.
	Caches map[string]json.RawMessage `json:"caches,omitempty"`

	snapshots map[string]Snapshot
}

// StageState returns the saved state of a stateful stage, or nil.
func (c *Checkpoint) StageState(addr string) ([]byte, error) {
	if s, ok := c.snapshots[addr]; ok {
		var buf bytes.Buffer
		if _, err := s.WriteTo(&buf); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	return c.Stages[addr], nil
}

// Materialize writes the running pipeline's snapshots that c holds into
// c.Stages. A RunOptions.Save callback that keeps its checkpoint beyond the
// call must materialize it first: the engine releases the snapshots after
// the call (a stage's may be offsets into a spill file).
func (c *Checkpoint) Materialize() error {
	for addr := range c.snapshots {
		b, err := c.StageState(addr)
		if err != nil {
			return err
		}
		if c.Stages == nil {
			c.Stages = map[string]json.RawMessage{}
		}
		c.Stages[addr] = b
	}
	c.snapshots = nil
	return nil
}

// setSnapshot makes snap addr's state, releasing the one it replaces.
func (c *Checkpoint) setSnapshot(addr string, snap Snapshot) {
	if c.snapshots == nil {
		c.snapshots = map[string]Snapshot{}
	}
	// Each partition brings a new snapshot object: the one replaced is
	// done with. (Not compared: a BytesSnapshot is a slice, and comparing
	// interfaces holding slices panics.)
	if old, ok := c.snapshots[addr]; ok {
		old.Release()
	}
	c.snapshots[addr] = snap
	delete(c.Stages, addr)
}

// releaseSnapshots releases every snapshot c holds.
func (c *Checkpoint) releaseSnapshots() {
	for addr, s := range c.snapshots {
		s.Release()
		delete(c.snapshots, addr)
	}
}

// PartitionDone records a finished partition.
type PartitionDone struct {
	Name       string           `json:"name"`
	Incomplete bool             `json:"incomplete,omitempty"`
	Info       map[string]int64 `json:"info,omitempty"`
}

// NewCheckpoint returns an empty checkpoint for p.
func NewCheckpoint(p *Pipeline) *Checkpoint {
	return &Checkpoint{
		Version:     CheckpointVersion,
		Pipeline:    p.Path,
		Fingerprint: Fingerprint(p),
		Sources:     map[string][]PartitionDone{},
		Stages:      map[string]json.RawMessage{},
	}
}

// Fingerprint collects the fingerprints of p's blocks that have one, each
// with the chain of blocks upstream of it: a stage inserted before a
// stateful one (a filter before dedupe) changes what its saved state means.
func Fingerprint(p *Pipeline) map[string]map[string]string {
	fp := map[string]map[string]string{}
	for _, b := range p.Blocks {
		f, ok := b.Config.(Fingerprinter)
		if !ok {
			continue
		}
		m := maps.Clone(f.Fingerprint())
		if m == nil {
			m = map[string]string{}
		}
		var chain []string
		for up := b.Input; up != nil; up = up.Input {
			chain = append([]string{up.Addr.String()}, chain...)
		}
		if len(chain) > 0 {
			m["(upstream)"] = strings.Join(chain, " → ")
		}
		fp[b.Addr.String()] = m
	}
	for _, b := range p.Blocks {
		if b.Input != nil {
			continue
		}
		if need := sourceFields(p, b); need != nil {
			m := fp[b.Addr.String()]
			if m == nil {
				m = map[string]string{}
				fp[b.Addr.String()] = m
			}
			m[fieldsKey] = fieldsFingerprint(need)
		}
	}
	return fp
}

// Compare says how p differs from the pipeline that wrote the checkpoint,
// one line per changed setting; nil when the checkpoint applies.
func (c *Checkpoint) Compare(p *Pipeline) []string {
	var diffs []string
	now := Fingerprint(p)
	for _, addr := range sortedKeys(union(c.Fingerprint, now)) {
		old, cur := c.Fingerprint[addr], now[addr]
		switch {
		case old == nil:
			diffs = append(diffs, fmt.Sprintf("%s is new", addr))
		case cur == nil:
			diffs = append(diffs, fmt.Sprintf("%s was removed", addr))
		default:
			for _, k := range sortedKeys(union(old, cur)) {
				if k == fieldsKey {
					if missing := fieldsMissing(old, cur); missing != "" {
						diffs = append(diffs, fmt.Sprintf("%s: the pipeline now reads record fields the saved records lack: %s (a fresh start fetches every partition again)",
							addr, missing))
					}
					continue
				}
				if old[k] != cur[k] {
					diffs = append(diffs, fmt.Sprintf("%s: %s was %q, now %q", addr, k, old[k], cur[k]))
				}
			}
		}
	}
	for _, b := range p.Blocks {
		set, ok := b.Config.(PartitionSet)
		if !ok {
			continue
		}
		var outside []string
		for _, d := range c.Sources[b.Addr.String()] {
			if !set.HasPartition(d.Name) {
				outside = append(outside, d.Name)
			}
		}
		if len(outside) > 0 {
			diffs = append(diffs, fmt.Sprintf("%s: the checkpoint holds %d partition(s) this pipeline no longer reads (%s … %s), e.g. a narrower date range",
				b.Addr, len(outside), outside[0], outside[len(outside)-1]))
		}
	}
	return diffs
}

// fieldsKey is the fingerprint entry of a source's projection.
const fieldsKey = "(fields)"

// fieldsMissing names the fields the current projection asks for that
// records built with the old one lack, "" when there are none. No entry
// means every field (a checkpoint written before projections existed, or a
// pipeline where some block may read any field).
func fieldsMissing(old, cur map[string]string) string {
	o, oldSome := old[fieldsKey]
	c, curSome := cur[fieldsKey]
	switch {
	case !oldSome:
		return ""
	case !curSome:
		return "any field (a block may now read any)"
	}
	have := map[string]bool{}
	for _, f := range strings.Split(o, ",") {
		have[f] = true
	}
	var missing []string
	for _, f := range strings.Split(c, ",") {
		if f != "" && !have[f] {
			missing = append(missing, f)
		}
	}
	return strings.Join(missing, ", ")
}

func union[V any](a, b map[string]V) map[string]V {
	u := make(map[string]V, len(a)+len(b))
	for k, v := range a {
		u[k] = v
	}
	for k, v := range b {
		u[k] = v
	}
	return u
}

// Done reports whether source finished partition.
func (c *Checkpoint) Done(source, partition string) bool {
	for _, d := range c.Sources[source] {
		if d.Name == partition {
			return true
		}
	}
	return false
}

func (c *Checkpoint) doneFunc(source Addr) func(string) bool {
	done := map[string]bool{}
	for _, d := range c.Sources[source.String()] {
		done[d.Name] = true
	}
	return func(p string) bool { return done[p] }
}

// doneCount lists finished partitions as "source partition".
func (c *Checkpoint) doneCount() []string {
	var all []string
	for src, parts := range c.Sources {
		for _, p := range parts {
			all = append(all, src+" "+p.Name)
		}
	}
	sort.Strings(all)
	return all
}

// partitionTracker collects the marks that sinks acknowledge and completes
// a partition once every sink downstream of its source has made it
// durable: only then is the checkpoint saved (state follows data).
type partitionTracker struct {
	cp       *Checkpoint
	opts     RunOptions
	expected map[Addr]int // source → sinks downstream of it
	// unsafe holds sources with a buffering sink that nothing replays to:
	// their partitions are reported but never saved as done.
	unsafe  map[Addr]bool
	pending map[Addr]map[string]*pendingPartition
	// saved and lastSaved count what this run checkpointed.
	saved     int
	lastSaved string
	// slots are the stateful stages' snapshot slots, given back as their
	// partitions complete.
	slots map[Addr]chan struct{}
	// cachers are the stages whose caches every save carries.
	cachers map[string]Cacher
}

type pendingPartition struct {
	acks      int
	snapshots map[Addr]Snapshot
}

func newPartitionTracker(p *Pipeline, cp *Checkpoint, opts RunOptions) *partitionTracker {
	t := &partitionTracker{cp: cp, opts: opts, expected: map[Addr]int{}, unsafe: map[Addr]bool{}, pending: map[Addr]map[string]*pendingPartition{}}
	for _, b := range p.Blocks {
		if b.Addr.Kind != KindSink {
			continue
		}
		src := b.source()
		t.expected[src.Addr]++
		if b.Plugin.Buffers && !b.resumable() {
			t.unsafe[src.Addr] = true
		}
	}
	return t
}

func (t *partitionTracker) ack(m *Mark) error {
	parts := t.pending[m.Source]
	if parts == nil {
		parts = map[string]*pendingPartition{}
		t.pending[m.Source] = parts
	}
	pp := parts[m.Partition]
	if pp == nil {
		pp = &pendingPartition{snapshots: map[Addr]Snapshot{}}
		parts[m.Partition] = pp
	}
	pp.acks++
	for a, s := range m.snapshots {
		pp.snapshots[a] = s
	}
	if pp.acks < t.expected[m.Source] {
		return nil
	}
	delete(parts, m.Partition)
	for a := range pp.snapshots {
		if ch := t.slots[a]; ch != nil {
			<-ch
		}
	}
	src := m.Source.String()
	if t.unsafe[m.Source] {
		// Not durable (see checkResumable): report it, do not save it.
		for _, s := range pp.snapshots {
			s.Release()
		}
		t.opts.Events.Report(Event{Time: time.Now().UTC(), Type: EventPartition, Block: src, Partition: m.Partition,
			Data: map[string]any{"incomplete": m.Incomplete, "info": m.Info, "checkpoint": false}})
		return nil
	}
	t.cp.Sources[src] = append(t.cp.Sources[src], PartitionDone{Name: m.Partition, Incomplete: m.Incomplete, Info: m.Info})
	for a, s := range pp.snapshots {
		t.cp.setSnapshot(a.String(), s)
	}
	t.cp.Updated = time.Now().UTC()
	msg := ""
	if pl, ok := t.opts.Events.(*partitionLines); !ok || !pl.described(m.Partition) {
		msg = fmt.Sprintf("%s  done (%s)", m.Partition, src)
		if m.Incomplete {
			msg += "  INCOMPLETE"
		}
	}
	t.opts.Events.Report(Event{
		Time: t.cp.Updated, Type: EventPartition, Block: src, Partition: m.Partition, Message: msg,
		Data: map[string]any{"incomplete": m.Incomplete, "info": m.Info, "checkpoint": true},
	})
	if t.opts.Plan || t.opts.Save == nil {
		return nil
	}
	saved := *t.cp // Save may keep it: the tracker clears its own state below
	saved.Stages = maps.Clone(t.cp.Stages)
	saved.Sources = maps.Clone(t.cp.Sources)
	saved.snapshots = maps.Clone(t.cp.snapshots)
	caches, err := collectCaches(t.cachers)
	if err != nil {
		return err
	}
	saved.Caches = caches
	if err := t.opts.Save(&saved); err != nil {
		return fmt.Errorf("saving checkpoint after %s %s: %w", src, m.Partition, err)
	}
	t.saved++
	t.lastSaved = m.Partition
	if len(t.expected) == 1 {
		// With one source, every partition brings fresh snapshots of every
		// stateful stage: holding the saved ones (the whole dedupe state)
		// until the next save would only double the memory.
		clear(t.cp.Stages)
		t.cp.releaseSnapshots()
	}
	return nil
}

// release frees the snapshots the tracker still holds at the end of a run:
// those of the checkpoint and of partitions that never completed.
func (t *partitionTracker) release() {
	t.cp.releaseSnapshots()
	for _, parts := range t.pending {
		for _, pp := range parts {
			for _, s := range pp.snapshots {
				s.Release()
			}
		}
	}
	clear(t.pending)
}

// Summary is a one-line account of the checkpoint: "source.x.y: 12
// partitions done (2025-12-01 … 2025-12-12)".
func (c *Checkpoint) Summary() string {
	var lines []string
	for _, src := range sortedKeys(c.Sources) {
		parts := c.Sources[src]
		if len(parts) == 0 {
			continue
		}
		lines = append(lines, fmt.Sprintf("%s: %d partitions done (%s … %s)", src, len(parts), parts[0].Name, parts[len(parts)-1].Name))
	}
	return strings.Join(lines, "; ")
}
