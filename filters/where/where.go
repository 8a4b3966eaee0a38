package where

import (
	"context"
	"fmt"
	"strings"

	"github.com/etlhq/etl/etl"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Where is the where stage. It is used from the stage's goroutine only.
type Where struct {
	cfg   *Config
	env   etl.Env
	fault etl.RecordFault // a bad condition with on_error = "fail"
}

// New returns a where stage.
func New(cfg *Config, env etl.Env) *Where { return &Where{cfg: cfg, env: env} }

// Process emits rec when its condition is true.
func (w *Where) Process(_ context.Context, rec etl.Record, out etl.Output) error {
	if !w.fault.Next() {
		return nil
	}
	v, err := w.cfg.Condition.Eval(rec)
	if err == nil && v.Type() == cty.Bool && v.IsKnown() && !v.IsNull() && !v.IsMarked() {
		// A known, unmarked bool is cty.True or cty.False as a value:
		// comparing it is v.True() without the Equals that True calls.
		if v == cty.True {
			return out.Emit(rec)
		}
		out.Drop(w.cfg.Reason)
		return nil
	}
	reason, problem := classify(v, err)
	if w.cfg.OnError == OnErrorDrop {
		out.Drop(reason)
		return nil
	}
	w.fault.Fail(fmt.Errorf("the condition at %s %s. Fix the condition (coalesce(record.FIELD, false) gives null fields a value), or set on_error = \"drop\" to drop such records",
		pos(w.cfg.Condition.Range()), problem), etl.DescribeFields(rec, w.cfg.Condition.Fields(), w.env.Unmask))
	return nil
}

// classify says why a condition's value v (or its error) is not a bool:
// the drop reason and the phrase an error uses.
func classify(v cty.Value, err error) (reason, problem string) {
	switch {
	case err != nil:
		return "condition error", "failed: " + strings.TrimSuffix(err.Error(), ".")
	case v.IsNull():
		return "condition null", "is null, not a bool"
	case !v.IsKnown() || v.IsMarked():
		return "condition not a bool", "is not a known bool"
	}
	return "condition not a bool", fmt.Sprintf("is %s, not a bool", v.Type().FriendlyName())
}

// EndPartition fails the run when a record of the partition had a bad
// condition, naming the partition.
func (w *Where) EndPartition(_ context.Context, m *etl.Mark, _ etl.Output) error {
	return w.fault.EndPartition(m)
}

// Finish fails the run for a bad condition of records that came after the
// last partition's mark.
func (w *Where) Finish(context.Context, etl.Output) error { return w.fault.Finish() }

// pos renders a range's start as file:line:col.
func pos(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}
