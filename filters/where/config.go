package where

import (
	"fmt"

	"github.com/etlhq/etl/etl"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// What on_error may say.
const (
	OnErrorFail = "fail"
	OnErrorDrop = "drop"
)

// DefaultReason is the drop reason of a record whose condition is false
// when the block names none.
const DefaultReason = "condition false"

// Config is the where block.
type Config struct {
	Condition etl.Expr `hcl:"condition" doc:"Per-record bool: the records for which it is true are kept, the others dropped."`
	Reason    string   `hcl:"reason,optional" doc:"The reason the records the condition rejects are dropped under, as the report counts them, e.g. \"answered by a person\"."`
	OnError   string   `hcl:"on_error,optional" doc:"A condition that is null, not a bool, or fails to evaluate: \"fail\" the run (naming the record's partition), or \"drop\" the record, counted as \"condition null\", \"condition not a bool\" or \"condition error\"."`
}

// Validate checks on_error and reason, and a condition that does not read
// the record, whose value is known now.
func (c *Config) Validate(b *etl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if c.OnError != OnErrorFail && c.OnError != OnErrorDrop {
		diags = append(diags, b.Diag("on_error", "Invalid on_error",
			fmt.Sprintf("on_error must be %q or %q, not %q.", OnErrorFail, OnErrorDrop, c.OnError)))
	}
	if c.Reason == "" {
		diags = append(diags, b.Diag("reason", "Empty reason",
			fmt.Sprintf("reason names what the dropped records are counted under; leave it out for %q.", DefaultReason)))
	}
	if v, ok := c.Condition.Constant(); ok && b.Known("condition") && v.IsWhollyKnown() && (v.IsNull() || !v.Type().Equals(cty.Bool)) {
		diags = append(diags, b.Diag("condition", "Condition is not a bool",
			fmt.Sprintf("The condition is %s, not true or false; compare a field, e.g. record.status == \"completed\".", etl.Describe(v))))
	}
	return diags
}

// Fingerprint returns the condition and on_error: a checkpoint saved under
// another condition holds partitions filtered differently. The reason is
// only a label.
func (c *Config) Fingerprint() map[string]string {
	return map[string]string{"condition": c.Condition.Source(), "on_error": c.OnError}
}

// Register adds where to r.
func Register(r *etl.Registry) {
	etl.RegisterProcessor(r, etl.KindFilter, etl.Spec[Config]{
		Type:    "where",
		Summary: "Keeps the records for which a condition is true; drops the others under a reason.",
		Config:  func() *Config { return &Config{Reason: DefaultReason, OnError: OnErrorFail} },
		// Reads only its condition and emits its input records unchanged.
		ReadsDeclaredFields: true,
	}, func(cfg *Config, env etl.Env) (etl.Processor, error) {
		return New(cfg, env), nil
	})
}

// Interface guards: a hook whose signature drifts fails to compile.
var (
	_ etl.Validator      = (*Config)(nil)
	_ etl.Fingerprinter  = (*Config)(nil)
	_ etl.Processor      = (*Where)(nil)
	_ etl.PartitionEnder = (*Where)(nil)
	_ etl.Finisher       = (*Where)(nil)
)

func init() { Register(etl.Default) }
