package etltest

import (
	"maps"
	"slices"

	"github.com/etlhq/etl/etl"
)

// MemTable is an etl.Table in a map, for driving a stateful stage's
// UseState and Process directly, without an engine or a store. Values are
// copied in; Scan goes in key order.
type MemTable map[string][]byte

var _ etl.Table = MemTable(nil)

// Get returns the value of key.
func (m MemTable) Get(k []byte) ([]byte, bool, error) {
	v, ok := m[string(k)]
	return slices.Clone(v), ok, nil
}

// Set sets the value of key.
func (m MemTable) Set(k, v []byte) error { m[string(k)] = slices.Clone(v); return nil }

// Delete removes key.
func (m MemTable) Delete(k []byte) error { delete(m, string(k)); return nil }

// Scan calls fn for every key in key order.
func (m MemTable) Scan(fn func(k, v []byte) error) error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if err := fn([]byte(k), m[k]); err != nil {
			return err
		}
	}
	return nil
}
