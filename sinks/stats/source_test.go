package stats

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/etlhq/etl/etl"
	"github.com/zclconf/go-cty/cty"
)

// daysConfig configures the test source "days": one partition per element
// of days, each {date, phones (null = a call without a valid phone),
// incomplete, bytes, invalid}; bytes and invalid go into Mark.Info when set.
type daysConfig struct {
	Days cty.Value `hcl:"days"`
}

// reads counts calls of the test source's Read, to prove a run stopped
// before any source started.
var reads atomic.Int64

type days struct {
	cfg daysConfig
	env etl.Env
}

func (d *days) Read(_ context.Context, out etl.Output) error {
	reads.Add(1)
	for it := d.cfg.Days.ElementIterator(); it.Next(); {
		_, day := it.Element()
		date := day.GetAttr("date").AsString()
		if d.env.Done != nil && d.env.Done(date) {
			continue
		}
		n := 0
		for pit := day.GetAttr("phones").ElementIterator(); pit.Next(); {
			_, ph := pit.Element()
			rec := etl.Record{"call_id": cty.StringVal(fmt.Sprintf("%s-%d", date, n)), "phone": ph}
			if err := out.Emit(rec); err != nil {
				return err
			}
			n++
		}
		m := &etl.Mark{Source: d.env.Addr, Partition: date}
		if day.Type().HasAttribute("incomplete") {
			m.Incomplete = day.GetAttr("incomplete").True()
		}
		for _, key := range []etl.InfoKey{etl.InfoBytes, etl.InfoInvalidPhones} {
			if day.Type().HasAttribute(key.Name()) {
				v, _ := day.GetAttr(key.Name()).AsBigFloat().Int64()
				key.Set(m, v)
			}
		}
		if err := out.EndPartition(m); err != nil {
			return err
		}
	}
	return nil
}

func registerDays(r *etl.Registry) {
	etl.RegisterSource(r, etl.Spec[daysConfig]{Type: "days", Summary: "Test source: given phones per date."},
		func(cfg *daysConfig, env etl.Env) (etl.Source, error) {
			return &days{cfg: *cfg, env: env}, nil
		})
}
