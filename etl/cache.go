package etl

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// A run's caches (see Cacher) live in the checkpoint beside the stages'
// states, but follow other rules: they are valid at any moment, so they
// are saved with every partition and once more when a run fails or is
// interrupted; and they belong to one run, so a completed run removes
// them. This file is that whole piece.

// loadCache gives a Cacher its cache from cp, and drops it from cp: each
// save brings the stage's current cache.
func loadCache(b *Block, impl any, cp *Checkpoint) error {
	c, ok := impl.(Cacher)
	if !ok {
		return nil
	}
	addr := b.Addr.String()
	data, ok := cp.Caches[addr]
	if !ok {
		return nil
	}
	delete(cp.Caches, addr)
	if err := c.LoadCache(data); err != nil {
		return &StageError{Addr: b.Addr, Range: b.DefRange, Err: fmt.Errorf("restoring the answers saved in the checkpoint: %w", err)}
	}
	return nil
}

// cachers returns the stages that keep a cache, by address.
func cachers(stages []*stage) map[string]Cacher {
	m := map[string]Cacher{}
	for _, s := range stages {
		if c, ok := s.impl.(Cacher); ok {
			m[s.block.Addr.String()] = c
		}
	}
	return m
}

// collectCaches asks each Cacher for its cache; nil when none has one.
func collectCaches(cs map[string]Cacher) (map[string]json.RawMessage, error) {
	var out map[string]json.RawMessage
	for _, addr := range slices.Sorted(maps.Keys(cs)) {
		data, err := cs[addr].SaveCache()
		if err != nil {
			return nil, fmt.Errorf("%s: saving its answers: %w", addr, err)
		}
		if len(data) == 0 {
			continue
		}
		if out == nil {
			out = map[string]json.RawMessage{}
		}
		out[addr] = data
	}
	return out, nil
}

// saveCaches brings the caches in the saved checkpoint up to date at the
// end of a run: those obtained so far when it failed or was interrupted
// (partitions saved after the last one would otherwise lose them), none
// when it completed. resumed says the checkpoint the run started from held
// caches.
func (p *Pipeline) saveCaches(opts RunOptions, t *partitionTracker, runErr error, resumed bool) error {
	if opts.Plan || opts.SaveCaches == nil || len(t.cachers) == 0 {
		return nil
	}
	if runErr == nil {
		if t.saved == 0 && !resumed {
			return nil // no checkpoint this pipeline wrote holds any
		}
		return opts.SaveCaches(nil, nil)
	}
	caches, err := collectCaches(t.cachers)
	if err != nil {
		return err
	}
	return opts.SaveCaches(caches, NewCheckpoint(p))
}
