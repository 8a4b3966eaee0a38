package where

import (
	"context"
	"fmt"
	"strings"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/phone"
	"github.com/zclconf/go-cty/cty"
)

// Where is the where stage. It is used from the stage's goroutine only.
type Where struct {
	cfg *Config
	env etl.Env
	// seen counts the records of the current partition, to name a
	// record's place in an error.
	seen int64
	// failed holds the first bad condition of the current partition with
	// on_error = "fail", raised at the partition's mark.
	failed error
}

// New returns a where stage.
func New(cfg *Config, env etl.Env) *Where { return &Where{cfg: cfg, env: env} }

// Process emits rec when its condition is true.
func (w *Where) Process(_ context.Context, rec etl.Record, out etl.Output) error {
	w.seen++
	if w.failed != nil {
		return nil // the run fails at the mark; the rest of the partition goes nowhere
	}
	v, err := w.cfg.Condition.Eval(rec)
	if err == nil && v.Type() == cty.Bool && v.IsKnown() && !v.IsNull() && !v.IsMarked() {
		if v.True() {
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
	w.failed = fmt.Errorf("record %d (%s): the condition at %s %s. Fix the condition (coalesce(record.FIELD, false) gives null fields a value), or set on_error = \"drop\" to drop such records",
		w.seen, w.describe(rec), pos(w.cfg.Condition), problem)
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
	w.seen = 0
	if w.failed != nil {
		return fmt.Errorf("partition %s, %w", m.Partition, w.failed)
	}
	return nil
}

// Finish fails the run for a bad condition of records that came after the
// last partition's mark (emitted at the end of input by a stage upstream).
func (w *Where) Finish(context.Context, etl.Output) error {
	if w.failed != nil {
		return fmt.Errorf("at the end of input, after the last partition, %w", w.failed)
	}
	return nil
}

// describe renders the fields the condition reads, strings masked to their
// last four characters unless --unmask: they may be phones or names.
func (w *Where) describe(rec etl.Record) string {
	var parts []string
	seen := map[string]bool{}
	for _, f := range w.cfg.Condition.Fields() {
		if seen[f] {
			continue
		}
		seen[f] = true
		v := rec.Get(f)
		s := etl.Describe(v)
		if !w.env.Unmask && v.IsKnown() && !v.IsNull() && !v.IsMarked() && v.Type() == cty.String {
			s = fmt.Sprintf("%q", phone.Mask(v.AsString()))
		}
		parts = append(parts, f+" = "+s)
	}
	if len(parts) == 0 {
		return "the condition reads no field"
	}
	return strings.Join(parts, ", ")
}

// pos renders where an expression is written as file:line:col.
func pos(e etl.Expr) string {
	r := e.Range()
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}
