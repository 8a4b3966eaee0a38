package etl

import (
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"
)

// CheckpointVersion is the layout version of the state store.
const CheckpointVersion = 2

// Checkpoint is what a run has durably finished, as read from the state
// store: the partitions each source completed, with the settings that give
// the stages' saved state its meaning. The stages' keyed state stays in
// the store (see Table); it holds no secret (secret attributes never reach
// a fingerprint).
type Checkpoint struct {
	Version  int       `json:"version"`
	Pipeline string    `json:"pipeline"`
	Updated  time.Time `json:"updated"`
	// Fingerprint holds, per block, the settings that give the saved state
	// its meaning; a run refuses a checkpoint whose fingerprint differs.
	Fingerprint map[string]map[string]string `json:"fingerprint"`
	// Sources maps a source's address to its finished partitions, in order.
	Sources map[string][]PartitionDone `json:"-"`
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
