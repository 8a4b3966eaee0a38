package etltest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/etlhq/etl/etl"
)

// List is a source of fixed records for tests of the shipped transforms
// and filters: partition "pNN" holds Parts[NN]. Like a real source it
// builds only the fields downstream reads (Env.Fields), and it keeps what
// it was asked for, so that a test can check the projection that reached
// it.
type List struct {
	// Parts are the partitions' records.
	Parts [][]etl.Record
	// Fields are the fields it declares, for validate, as they are when
	// Register is called; nil means unknown.
	Fields []etl.Field

	mu   sync.Mutex
	asks []map[string]bool
}

// Asked returns the Env.Fields of every list source built so far, sorted
// (nil for "any field").
func (l *List) Asked() [][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out [][]string
	for _, a := range l.asks {
		if a == nil {
			out = append(out, nil)
			continue
		}
		out = append(out, slices.Sorted(maps.Keys(a)))
	}
	return out
}

// ListConfig is the list block: no attributes.
type ListConfig struct{}

// Register adds l as the "list" source to r.
func (l *List) Register(r *etl.Registry) {
	etl.RegisterSource(r, etl.Spec[ListConfig]{Type: "list", Summary: "Emits a test's records.", Fields: l.Fields},
		func(_ *ListConfig, env etl.Env) (etl.Source, error) {
			l.mu.Lock()
			l.asks = append(l.asks, env.Fields)
			l.mu.Unlock()
			return &listSource{l: l, env: env}, nil
		})
}

type listSource struct {
	l   *List
	env etl.Env
}

// Read emits each partition's records, projected to Env.Fields, and its
// mark.
func (s *listSource) Read(_ context.Context, out etl.Output) error {
	for i, part := range s.l.Parts {
		name := fmt.Sprintf("p%02d", i)
		if s.env.Done != nil && s.env.Done(name) {
			continue
		}
		for _, r := range part {
			if s.env.Fields != nil {
				p := etl.Record{}
				for k, v := range r {
					if s.env.Fields[k] {
						p[k] = v
					}
				}
				r = p
			}
			if err := out.Emit(r); err != nil {
				return err
			}
		}
		if err := out.EndPartition(&etl.Mark{Source: s.env.Addr, Partition: name}); err != nil {
			return err
		}
	}
	return nil
}

var _ etl.Source = (*listSource)(nil)
