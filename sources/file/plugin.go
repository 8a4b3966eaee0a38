package file

import "github.com/etlhq/etl/etl"

func init() { Register(etl.Default) }

// Register adds the file source to r.
func Register(r *etl.Registry) {
	etl.RegisterSource(r, etl.Spec[Config]{
		Type:    "file",
		Summary: "Reads records from CSV, JSON Lines or JSON files (a glob), one partition per file, streamed.",
		Config:  defaultConfig,
	}, func(cfg *Config, env etl.Env) (etl.Source, error) {
		return newSource(cfg, env)
	})
}

// Interface guards: a hook whose signature drifts fails to compile.
var (
	_ etl.Validator         = (*Config)(nil)
	_ etl.FieldDeclarer     = (*Config)(nil)
	_ etl.Fingerprinter     = (*Config)(nil)
	_ etl.PartitionSet      = (*Config)(nil)
	_ etl.SinglePartitioner = (*Config)(nil)
	_ etl.Source            = (*source)(nil)
	_ etl.Skipper           = (*source)(nil)
)
