package etl_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
	"github.com/zclconf/go-cty/cty"
)

// UpperConfig is decoded from the block; its tags drive decoding, docs and
// masking. (This is the plugin of the README's "Writing a plugin".)
type UpperConfig struct {
	Field string   `hcl:"field" doc:"Field to write."`
	Value etl.Expr `hcl:"value" doc:"Per-record value to upper-case."`
}

type upperStage struct{ cfg UpperConfig }

// Process is called for each record; emit zero, one or many.
func (s *upperStage) Process(ctx context.Context, rec etl.Record, out etl.Output) error {
	v, ok, err := s.cfg.Value.EvalString(rec)
	if err != nil {
		return err
	}
	if !ok {
		out.Drop("null value") // counted in the report, with the reason
		return nil
	}
	return out.Emit(rec.With(etl.Record{s.cfg.Field: cty.StringVal(strings.ToUpper(v))}))
}

// Interface guard: the compiler checks that upperStage is a Processor.
var _ etl.Processor = (*upperStage)(nil)

// registerUpper adds the upper transform to r. A plugin package calls it
// with etl.Default from init.
func registerUpper(r *etl.Registry) {
	etl.RegisterProcessor(r, etl.KindTransform, etl.Spec[UpperConfig]{
		Type:    "upper",
		Summary: "Upper-cases a per-record value into a field.",
		Config:  func() *UpperConfig { return &UpperConfig{} }, // defaults go here
	}, func(cfg *UpperConfig, env etl.Env) (etl.Processor, error) {
		return &upperStage{cfg: *cfg}, nil
	})
}

// This example registers a transform into a registry of its own and runs
// a pipeline that uses it.
func ExampleRegisterProcessor() {
	reg := etl.NewRegistry()
	registerUpper(reg)
	c := &etltest.Collector{}
	etltest.Register(reg, c, nil)

	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "p.hcl")
	os.WriteFile(path, []byte(`
source "gen" "g" {
  per_partition = 3
}
transform "upper" "u" {
  input = source.gen.g
  field = "shout"
  value = record.key
}
sink "collect" "c" {
  input = transform.upper.u
}
`), 0o644)
	p, diags := etl.Load(path, etl.LoadOptions{Registry: reg})
	if diags.HasErrors() {
		fmt.Println(diags)
		return
	}
	if _, err := p.Run(context.Background(), etl.RunOptions{}); err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range c.Records["default"] {
		fmt.Println(r.String("shout"))
	}
	// Output:
	// K0
	// K1
	// K2
}
