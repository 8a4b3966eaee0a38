package redialqueue

import (
	"context"
	"sync/atomic"

	"github.com/etlhq/etl/etl"
	"github.com/zclconf/go-cty/cty"
)

// callsConfig configures the test source "calls": each element of calls is
// a record; consecutive records with the same "date" form a partition.
type callsConfig struct {
	Calls []map[string]string `hcl:"calls"`
}

// reads counts calls of the test source's Read, to prove a run stopped
// before any source started.
var reads atomic.Int64

type calls struct {
	cfg callsConfig
	env etl.Env
}

func (c *calls) Read(_ context.Context, out etl.Output) error {
	reads.Add(1)
	end := func(date string) error {
		return out.EndPartition(&etl.Mark{Source: c.env.Addr, Partition: date})
	}
	date := ""
	skipping := false
	for _, m := range c.cfg.Calls {
		if m["date"] != date {
			if date != "" && !skipping {
				if err := end(date); err != nil {
					return err
				}
			}
			date = m["date"]
			skipping = c.env.Done != nil && c.env.Done(date)
		}
		if skipping {
			continue
		}
		rec := etl.Record{}
		for k, v := range m {
			if v == "null" {
				rec[k] = cty.NullVal(cty.String)
				continue
			}
			rec[k] = cty.StringVal(v)
		}
		if err := out.Emit(rec); err != nil {
			return err
		}
	}
	if date != "" && !skipping {
		return end(date)
	}
	return nil
}

func registerCalls(r *etl.Registry) {
	etl.RegisterSource(r, etl.Spec[callsConfig]{Type: "calls", Summary: "Test source: given records."},
		func(cfg *callsConfig, env etl.Env) (etl.Source, error) {
			return &calls{cfg: *cfg, env: env}, nil
		})
}
