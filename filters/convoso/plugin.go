package convoso

import (
	"github.com/etlhq/etl/etl"
	"github.com/zclconf/go-cty/cty"
)

func init() { Register(etl.Default) }

// Fields are the fields convoso_status adds to the records it keeps.
var Fields = []etl.Field{
	{Name: "lead_id", Type: cty.String, Doc: "Id of the phone's lead modified last; null when it has none (on_not_found = \"keep\")."},
	{Name: "lead_status", Type: cty.String, Doc: "Status of that lead, or null."},
	{Name: "list_id", Type: cty.String, Doc: "List of that lead, or null."},
	{Name: "lead_count", Type: cty.Number, Doc: "How many leads the phone has in Convoso."},
}

// Register adds the convoso_status filter to r.
func Register(r *etl.Registry) {
	etl.RegisterStreamer(r, etl.KindFilter, etl.Spec[Config]{
		Type:    "convoso_status",
		Summary: "Keeps records whose phone Convoso may redial: no lead with an excluded status, optionally not on the DNC list.",
		Config:  defaultConfig,
		Fields:  Fields,
		// Reads record.phone through its expression; emits its input
		// records with the lead fields added.
		ReadsDeclaredFields: true,
		Mock:                mockDoc,
	}, func(cfg *Config, env etl.Env) (etl.Streamer, error) {
		f := newFilter(cfg, env)
		// A debug line per request (path only: the token is in the form).
		f.client.HTTP.Logger = env.Logger
		return f, nil
	})
}

// Interface guards: a hook whose signature drifts fails to compile.
var (
	_ etl.Validator   = (*Config)(nil)
	_ etl.Streamer    = (*Filter)(nil)
	_ etl.Preflighter = (*Filter)(nil)
	_ etl.Cacher      = (*Filter)(nil)
	_ etl.Skipper     = (*Filter)(nil)
	_ etl.Outcomer    = (*Filter)(nil)
	_ etl.Mockable    = (*Filter)(nil)
)
