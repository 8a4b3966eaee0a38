package dedupe

import (
	"fmt"

	"github.com/etlhq/etl/etl"
	"github.com/hashicorp/hcl/v2"
)

// Emit modes.
const (
	EmitEnd     = "end"
	EmitUpdates = "updates"
)

// Config is the dedupe_latest block.
type Config struct {
	Key        etl.Expr `hcl:"key" doc:"Per-record key; one record is kept per key. Records whose key is null are dropped and counted."`
	OrderBy    etl.Expr `hcl:"order_by" doc:"Per-record value; the record with the greatest value (etl ordering: numbers, times, strings) is kept. Of records whose order_by (and tie_breaker) are equal, the first one seen is kept."`
	TieBreaker etl.Expr `hcl:"tie_breaker,optional" doc:"Per-record value breaking order_by ties, greatest wins (null sorts first), e.g. record.call_id. Without it, or when it ties too, the first record seen is kept."`
	Emit       string   `hcl:"emit,optional" doc:"\"end\": emit the kept records at end of input, sorted by key; \"updates\": emit a record whenever it becomes its key's latest."`
}

// Validate checks emit.
func (c *Config) Validate(b *etl.Block) hcl.Diagnostics {
	if c.Emit != EmitEnd && c.Emit != EmitUpdates {
		return hcl.Diagnostics{b.Diag("emit", "Invalid emit mode",
			fmt.Sprintf("emit must be %q or %q, not %q.", EmitEnd, EmitUpdates, c.Emit))}
	}
	return nil
}

// noTieBreaker is the fingerprint of an unset tie_breaker: first seen
// wins. It differs from "", which a checkpoint saved before tie_breaker
// was explicit holds for the call_id default it then had.
const noTieBreaker = "(none: first seen)"

// Fingerprint returns what gives the saved kept records their meaning: the
// key, order and tie-breaker expressions as written. The emit mode is not
// part of it: the kept records are the same in both modes, and a restored
// "updates" run simply re-emits them.
func (c *Config) Fingerprint() map[string]string {
	tie := noTieBreaker
	if c.TieBreaker.IsSet() {
		tie = c.TieBreaker.Source()
	}
	return map[string]string{
		"key":         c.Key.Source(),
		"order_by":    c.OrderBy.Source(),
		"tie_breaker": tie,
	}
}

// Register adds dedupe_latest to r.
func Register(r *etl.Registry) {
	etl.RegisterProcessor(r, etl.KindTransform, etl.Spec[Config]{
		Type:    "dedupe_latest",
		Summary: "Keeps the latest record per key (greatest order_by), at end of input or as updates.",
		Config:  func() *Config { return &Config{Emit: EmitEnd} },
		Replays: true, // restored records are emitted again (Restored or Finish)
		// Reads key, order_by and tie_breaker, and emits the records it
		// kept, unchanged.
		ReadsDeclaredFields: true,
	}, func(cfg *Config, env etl.Env) (etl.Processor, error) {
		return New(cfg, env), nil
	})
}

// Interface guards: a hook whose signature drifts fails to compile.
var (
	_ etl.Validator     = (*Config)(nil)
	_ etl.Fingerprinter = (*Config)(nil)
	_ etl.Processor     = (*Dedupe)(nil)
	_ etl.Restorer      = (*Dedupe)(nil)
	_ etl.Finisher      = (*Dedupe)(nil)
	_ etl.Stateful      = (*Dedupe)(nil)
)

func init() { Register(etl.Default) }
