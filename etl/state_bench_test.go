package etl_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/store"
)

// keeper is a stateful transform that keeps a 150-byte value per key (as
// dedupe_latest keeps a record per phone). With rewrite set it writes its
// whole state again at every partition's end: what a checkpoint that
// saves the whole state costs, the baseline of BenchmarkStateCommits.
type keeper struct {
	t       etl.Table
	kept    map[string]bool
	rewrite bool
	value   []byte
}

func (k *keeper) UseState(t etl.Table) error { k.t = t; return nil }

func (k *keeper) Process(_ context.Context, rec etl.Record, out etl.Output) error {
	key := rec.Get("key").AsString()
	k.kept[key] = true
	return k.t.Set([]byte(key), k.value)
}

func (k *keeper) EndPartition(context.Context, *etl.Mark, etl.Output) error {
	if !k.rewrite {
		return nil
	}
	for key := range k.kept {
		if err := k.t.Set([]byte(key), k.value); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkStateCommits runs the year of state through the engine
// and an on-disk store: 365 partitions of 500 records over 50,000 keys,
// each partition committed (synced) once done. "incremental" commits what
// the partition changed; "whole-state" rewrites every key kept so far at
// each partition, as a whole-state checkpoint does. Reports the median
// bytes committed per partition.
func BenchmarkStateCommits(b *testing.B) {
	for _, mode := range []string{"incremental", "whole-state"} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				reg, _ := testRegistry(b)
				etl.RegisterProcessor(reg, etl.KindTransform, etl.Spec[struct{}]{Type: "keep", Summary: "Keeps a value per key."},
					func(*struct{}, etl.Env) (etl.Processor, error) {
						return &keeper{kept: map[string]bool{}, rewrite: mode == "whole-state", value: make([]byte, 150)}, nil
					})
				p := load(b, reg, `
source "gen" "year" {
  partitions    = 365
  per_partition = 500
  keys          = 50000
}
transform "keep" "k" {
  input = source.gen.year
}
sink "collect" "c" {
  input = transform.keep.k
}
`)
				st, err := store.Open(filepath.Join(b.TempDir(), "state"), store.Options{})
				if err != nil {
					b.Fatal(err)
				}
				res, err := p.Run(context.Background(), etl.RunOptions{State: st})
				st.Close()
				if err != nil {
					b.Fatal(err)
				}
				if res.Saved != 365 {
					b.Fatalf("%d partitions saved", res.Saved)
				}
				sizes := slices.Sorted(slices.Values(res.CommitBytes))
				b.ReportMetric(float64(sizes[len(sizes)/2]), "bytes/partition")
			}
		})
	}
}
