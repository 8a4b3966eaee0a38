// Package etltest provides small in-memory plugins for testing the engine
// and benchmarking it: a counting source, a per-record transform, a filter
// and a collecting sink. Register them into a registry of your own with
// Register.
package etltest

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/zclconf/go-cty/cty"
)

// GenConfig configures the gen source: Partitions × PerPartition records
// {id, key, n, partition}, key cycling through Keys values.
type GenConfig struct {
	Partitions   int `hcl:"partitions,optional" doc:"Number of partitions."`
	PerPartition int `hcl:"per_partition,optional" doc:"Records per partition."`
	Keys         int `hcl:"keys,optional" doc:"Distinct keys (key = id mod keys)."`
	// FailAfter makes Read fail after emitting this many records (0: never).
	FailAfter int `hcl:"fail_after,optional" doc:"Fail after this many records (0 = never)."`
	// Delay is slept before each partition: a slow source for signal tests.
	Delay time.Duration `hcl:"delay,optional" doc:"Pause before each partition."`
}

// Fingerprint: a checkpoint of gen is only valid for the same partition size.
func (c *GenConfig) Fingerprint() map[string]string {
	return map[string]string{"per_partition": strconv.Itoa(c.PerPartition), "keys": strconv.Itoa(c.Keys)}
}

// Gen is the gen source.
type Gen struct {
	cfg GenConfig
	env etl.Env
	// Emitted counts records emitted, for backpressure tests.
	Emitted *int64
	mu      *sync.Mutex
}

// Read emits the records, a mark after each partition.
func (g *Gen) Read(ctx context.Context, out etl.Output) error {
	todo := 0
	for p := 0; p < g.cfg.Partitions; p++ {
		if !g.done(p) {
			todo++
		}
	}
	g.env.Meter.ExpectPartitions(todo, "partitions")
	id := 0
	for p := 0; p < g.cfg.Partitions; p++ {
		name := genPartition(p)
		part := cty.StringVal(name)
		if g.done(p) {
			id += g.cfg.PerPartition
			continue
		}
		if g.cfg.Delay > 0 {
			select {
			case <-time.After(g.cfg.Delay):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		for i := 0; i < g.cfg.PerPartition; i++ {
			if g.cfg.FailAfter > 0 && id >= g.cfg.FailAfter {
				return fmt.Errorf("gen failed after %d records", id)
			}
			rec := etl.Record{
				"id":        cty.NumberIntVal(int64(id)),
				"key":       cty.StringVal("k" + strconv.Itoa(id%max(g.cfg.Keys, 1))),
				"partition": part,
			}
			if err := out.Emit(rec); err != nil {
				return err
			}
			if g.Emitted != nil {
				g.mu.Lock()
				*g.Emitted++
				g.mu.Unlock()
			}
			id++
		}
		if err := out.EndPartition(&etl.Mark{Source: g.env.Addr, Partition: name}); err != nil {
			return err
		}
	}
	return nil
}

func genPartition(p int) string { return fmt.Sprintf("p%03d", p) }

// done reports whether partition p is done in the checkpoint resumed.
func (g *Gen) done(p int) bool { return g.env.Done != nil && g.env.Done(genPartition(p)) }

// MapConfig configures the map transform: it sets field to the value of
// the per-record expression value.
type MapConfig struct {
	Field string   `hcl:"field" doc:"Field to set."`
	Value etl.Expr `hcl:"value" doc:"Per-record value."`
}

// DeclaredFields says the map transform adds Field.
func (c *MapConfig) DeclaredFields() []etl.Field { return []etl.Field{{Name: c.Field}} }

// Map is the map transform.
type Map struct{ cfg MapConfig }

// Process sets the field.
func (m *Map) Process(_ context.Context, rec etl.Record, out etl.Output) error {
	v, err := m.cfg.Value.Eval(rec)
	if err != nil {
		return err
	}
	return out.Emit(rec.With(etl.Record{m.cfg.Field: v}))
}

// WhereConfig configures the where filter: records whose condition is true
// pass.
type WhereConfig struct {
	Condition etl.Expr `hcl:"condition" doc:"Keep records for which this is true."`
}

// Where is the where filter.
type Where struct{ cfg WhereConfig }

// Process keeps or drops rec.
func (w *Where) Process(_ context.Context, rec etl.Record, out etl.Output) error {
	v, err := w.cfg.Condition.Eval(rec)
	if err != nil {
		return err
	}
	if v.IsNull() || v.Type() != cty.Bool || !v.True() {
		out.Drop("condition false")
		return nil
	}
	return out.Emit(rec)
}

// CollectConfig configures the collect sink.
type CollectConfig struct {
	Name string `hcl:"name,optional" doc:"Name under which the records are kept in the Collector."`
}

// Collector keeps what collect sinks received, by sink name.
type Collector struct {
	mu      sync.Mutex
	Records map[string][]etl.Record
	Marks   map[string][]string
	// Block, when non-nil, is read before every write: a test can hold the
	// sink still to check backpressure.
	Block chan struct{}
	// Finished counts the collect sinks that reached the end of input.
	Finished int
	// OnFinish, when non-nil, is called at the end of each collect sink's
	// Finish: a test can cancel the run right after the output is written.
	OnFinish func()
}

type collect struct {
	n    int // records this instance wrote
	name string
	c    *Collector
	env  etl.Env
}

func (s *collect) Write(ctx context.Context, rec etl.Record) error {
	if s.c.Block != nil {
		select {
		case <-s.c.Block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.c.Records[s.name] = append(s.c.Records[s.name], rec)
	s.n++
	return nil
}

func (s *collect) EndPartition(_ context.Context, m *etl.Mark, _ etl.Output) error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.c.Marks[s.name] = append(s.c.Marks[s.name], m.Partition)
	return nil
}

func (s *collect) Finish(context.Context, etl.Output) error {
	s.c.mu.Lock()
	s.c.Finished++
	onFinish := s.c.OnFinish
	s.c.mu.Unlock()
	if onFinish != nil {
		onFinish()
	}
	return nil
}

func (s *collect) Change() etl.Change {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	n := s.n
	verb := "wrote"
	if s.env.Plan {
		verb = "would write"
	}
	return etl.Change{Changed: n > 0, Summary: fmt.Sprintf("%s %d records", verb, n)}
}

// Plugins are the test plugins. Gen records are counted into emitted when
// it is non-nil; collect sinks write into c.
func Register(r *etl.Registry, c *Collector, emitted *int64) {
	RegisterEnds(r, c, emitted)
	RegisterMap(r)
	etl.RegisterProcessor(r, etl.KindFilter, etl.Spec[WhereConfig]{
		Type: "where", Summary: "Keeps records for which a condition holds.", ReadsDeclaredFields: true,
	}, func(cfg *WhereConfig, _ etl.Env) (etl.Processor, error) { return &Where{cfg: *cfg}, nil })
}

// RegisterMap registers only the map transform.
func RegisterMap(r *etl.Registry) {
	etl.RegisterProcessor(r, etl.KindTransform, etl.Spec[MapConfig]{
		Type: "map", Summary: "Sets a field from a per-record expression.", ReadsDeclaredFields: true,
	}, func(cfg *MapConfig, _ etl.Env) (etl.Processor, error) { return &Map{cfg: *cfg}, nil })
}

// RegisterEnds registers only the gen source and the collect sink, for
// tests of the shipped transforms and filters, whose types (map, where)
// the test ones would take.
func RegisterEnds(r *etl.Registry, c *Collector, emitted *int64) {
	if c.Records == nil {
		c.Records = map[string][]etl.Record{}
		c.Marks = map[string][]string{}
	}
	etl.RegisterSource(r, etl.Spec[GenConfig]{
		Type: "gen", Summary: "Generates numbered records in partitions.",
		Config: func() *GenConfig { return &GenConfig{Partitions: 1, PerPartition: 10, Keys: 10} },
		Fields: []etl.Field{{Name: "id", Type: cty.Number}, {Name: "key", Type: cty.String}, {Name: "partition", Type: cty.String}},
	}, func(cfg *GenConfig, env etl.Env) (etl.Source, error) {
		return &Gen{cfg: *cfg, env: env, Emitted: emitted, mu: &genMu}, nil
	})
	etl.RegisterSink(r, etl.Spec[CollectConfig]{
		Type: "collect", Summary: "Keeps records in memory.",
		Config: func() *CollectConfig { return &CollectConfig{Name: "default"} },
	}, func(cfg *CollectConfig, env etl.Env) (etl.Sink, error) {
		return &collect{name: cfg.Name, c: c, env: env}, nil
	})
}

// Interface guards: a hook whose signature drifts fails to compile.
var (
	_ etl.Fingerprinter  = (*GenConfig)(nil)
	_ etl.Source         = (*Gen)(nil)
	_ etl.FieldDeclarer  = (*MapConfig)(nil)
	_ etl.Processor      = (*Map)(nil)
	_ etl.Processor      = (*Where)(nil)
	_ etl.Sink           = (*collect)(nil)
	_ etl.PartitionEnder = (*collect)(nil)
	_ etl.Finisher       = (*collect)(nil)
	_ etl.Changer        = (*collect)(nil)
)

// Count reads a counter that Gen updates, under Gen's lock.
func Count(n *int64) int64 {
	genMu.Lock()
	defer genMu.Unlock()
	return *n
}

var genMu sync.Mutex
