package file

import (
	"maps"
	"slices"

	"github.com/etlhq/etl/etl"
)

func init() { Register(etl.Default) }

// Register adds the file sink to r.
func Register(r *etl.Registry) {
	etl.RegisterSink(r, etl.Spec[Config]{
		Type:    "file",
		Summary: "Writes records to a CSV, JSON Lines or JSON file, replaced atomically at the end of input, or to standard output.",
		// The file replaces the previous one at the end of input only.
		Buffers: true,
	}, func(cfg *Config, env etl.Env) (etl.Sink, error) {
		return newSink(cfg, env)
	})
}

func sorted(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }

// Interface guards: a hook whose signature drifts fails to compile.
var (
	_ etl.Validator   = (*Config)(nil)
	_ etl.FieldReader = (*Config)(nil)
	_ etl.Sink        = (*sink)(nil)
	_ etl.Finisher    = (*sink)(nil)
	_ etl.Changer     = (*sink)(nil)
	_ etl.Closer      = (*sink)(nil)
)
