package stats

import (
	"strings"

	"github.com/etlhq/etl/etl"
	"github.com/hashicorp/hcl/v2"
)

// Config is the stats sink's configuration.
type Config struct {
	Key  etl.Expr `hcl:"key" doc:"Per-record key counted for distinct values, e.g. record.phone. A null key counts as an invalid phone."`
	Path string   `hcl:"path" doc:"JSON file the rows are written to (replaced atomically after every partition; the version the run started with is kept as <path>.bak). A file there that is not a stats file (cut short, or another program's) stops run and plan before any request and is left untouched: move it away. A relative path is relative to the working directory, as on the command line."`
}

// Validate checks the config without I/O.
func (c *Config) Validate(b *etl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if strings.TrimSpace(c.Path) == "" {
		diags = append(diags, b.Diag("path", "Empty path", "The stats sink needs a file path to write its rows to."))
	}
	return diags
}

// Fingerprint ties checkpointed state to the key it counted: state built
// from another key expression would mix two kinds of values.
func (c *Config) Fingerprint() map[string]string {
	return map[string]string{"key": c.Key.Source()}
}

// Register adds the stats sink to r.
func Register(r *etl.Registry) {
	etl.RegisterSink(r, etl.Spec[Config]{
		Type:                "stats",
		Summary:             "Writes per-date call and distinct-key counts to a JSON file and reports them.",
		ReadsDeclaredFields: true, // reads the key expression only
	}, func(cfg *Config, env etl.Env) (etl.Sink, error) {
		return newSink(*cfg, env)
	})
}

// Interface guards: a hook whose signature drifts fails to compile.
var (
	_ etl.Validator      = (*Config)(nil)
	_ etl.Fingerprinter  = (*Config)(nil)
	_ etl.Sink           = (*sink)(nil)
	_ etl.PartitionEnder = (*sink)(nil)
	_ etl.Finisher       = (*sink)(nil)
	_ etl.Changer        = (*sink)(nil)
	_ etl.Stateful       = (*sink)(nil)
)

func init() { Register(etl.Default) }
