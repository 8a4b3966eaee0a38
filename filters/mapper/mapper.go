package mapper

import (
	"context"

	"github.com/etlhq/etl/etl"
)

// Map is the map stage. It is used from the stage's goroutine only.
type Map struct {
	cfg   *Config
	env   etl.Env
	reads []string        // the fields the entries read, for messages
	fault etl.RecordFault // an entry that failed to evaluate
}

// New returns a map stage.
func New(cfg *Config, env etl.Env) *Map {
	m := &Map{cfg: cfg, env: env}
	for _, as := range cfg.Set.List() {
		m.reads = append(m.reads, as.Expr.Fields()...)
	}
	return m
}

// Process emits a copy of rec with the fields set and dropped.
func (m *Map) Process(_ context.Context, rec etl.Record, out etl.Output) error {
	if !m.fault.Next() {
		return nil
	}
	res, err := m.cfg.Set.Apply(rec, m.cfg.Drop)
	if err != nil {
		m.fault.Fail(err, etl.DescribeFields(rec, m.reads, m.env.Unmask))
		return nil
	}
	return out.Emit(res)
}

// EndPartition fails the run when an entry failed on a record of the
// partition, naming the partition.
func (m *Map) EndPartition(_ context.Context, mk *etl.Mark, _ etl.Output) error {
	return m.fault.EndPartition(mk)
}

// Finish fails the run for an entry that failed on a record after the last
// partition's mark.
func (m *Map) Finish(context.Context, etl.Output) error { return m.fault.Finish() }
