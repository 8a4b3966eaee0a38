package dedupe

import (
	"fmt"
	"os"
	"strings"
	"sync"

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
	OrderBy    etl.Expr `hcl:"order_by" doc:"Per-record value; the record with the greatest value (etl ordering: numbers, times, strings) is kept."`
	TieBreaker etl.Expr `hcl:"tie_breaker,optional" doc:"Per-record value breaking order_by ties, greatest wins; defaults to record.call_id. When it ties too, the later record wins."`
	Emit       string   `hcl:"emit,optional" doc:"\"end\": emit the kept records at end of input, sorted by key; \"updates\": emit a record whenever it becomes its key's latest."`

	srcOnce sync.Once
	src     map[string]string
}

// Validate checks emit.
func (c *Config) Validate(b *etl.Block) hcl.Diagnostics {
	if c.Emit != EmitEnd && c.Emit != EmitUpdates {
		return hcl.Diagnostics{b.Diag("emit", "Invalid emit mode",
			fmt.Sprintf("emit must be %q or %q, not %q.", EmitEnd, EmitUpdates, c.Emit))}
	}
	return nil
}

// Fingerprint returns what gives the saved kept records their meaning: the
// key, order and tie-breaker expressions as written, and the emit mode (a
// restored "updates" run re-emits, an "end" run does not).
func (c *Config) Fingerprint() map[string]string {
	c.srcOnce.Do(func() {
		c.src = map[string]string{
			"key":         exprSource(c.Key),
			"order_by":    exprSource(c.OrderBy),
			"tie_breaker": exprSource(c.TieBreaker),
		}
	})
	return map[string]string{
		"key":         c.src["key"],
		"order_by":    c.src["order_by"],
		"tie_breaker": c.src["tie_breaker"],
		"emit":        c.Emit,
	}
}

// exprSource returns the expression's text as written in the pipeline file.
// etl.Expr does not expose its source, so it is read back from the file at
// the expression's range; when that fails, the record fields the
// expression reads stand in for it.
func exprSource(e etl.Expr) string {
	if !e.IsSet() {
		return ""
	}
	r := e.Range()
	if data, err := os.ReadFile(r.Filename); err == nil && r.Start.Byte >= 0 && r.End.Byte <= len(data) && r.Start.Byte < r.End.Byte {
		return string(data[r.Start.Byte:r.End.Byte])
	}
	return "fields(" + strings.Join(e.Fields(), ",") + ")"
}

// Register adds dedupe_latest to r.
func Register(r *etl.Registry) {
	r.Register(etl.Plugin{
		Kind:    etl.KindTransform,
		Type:    "dedupe_latest",
		Summary: "Keeps the latest record per key (greatest order_by), at end of input or as updates.",
		Config:  func() any { return &Config{Emit: EmitEnd} },
		New: func(cfg any, env etl.Env) (any, error) {
			return New(cfg.(*Config), env), nil
		},
	})
}

func init() { Register(etl.Default) }
