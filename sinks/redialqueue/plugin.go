package redialqueue

import (
	"strings"

	"github.com/etlhq/etl/etl"
	"github.com/hashicorp/hcl/v2"
)

// Config is the redial_queue sink's configuration. Every attribute but path
// is evaluated per record; a constant such as
// local_time(var.end_date, "11:00", "America/New_York") is evaluated once.
type Config struct {
	Path        string   `hcl:"path" doc:"Queue file (JSON object keyed by phone). Merged into, never overwritten; created with its directory when missing; the version a run replaces is kept as <path>.bak. A file that is not a JSON object, or that has a key written twice (character for character), stops run and plan before any request with an error naming the key and its lines, and is left untouched. Entries of another shape (not an object with lead_id, phone_number, status, attempts, last_attempt, next_attempt, created_at and metadata, or not under a phone) are kept exactly as they are, counted and reported as warnings. A relative path is relative to the working directory, as on the command line."`
	Key         etl.Expr `hcl:"key" doc:"Phone of the entry; normalized to 10 digits. Records with a null or invalid phone are dropped and counted. Existing keys are matched by their normalized phone (\"+12008741568\" is 2008741568), as is each entry's phone_number: a phone already queued under any spelling is never added again, and such keys are counted and named in the change. A phone the file already holds under two spellings is kept as it is, with a warning."`
	LeadID      etl.Expr `hcl:"lead_id" doc:"lead_id of the entry (a string; null when unknown)."`
	CreatedAt   etl.Expr `hcl:"created_at" doc:"created_at of the entry: an RFC 3339 time, written in UTC with milliseconds."`
	NextAttempt etl.Expr `hcl:"next_attempt" doc:"next_attempt of the entry: an RFC 3339 time, e.g. local_time(var.end_date, \"11:00\", \"America/New_York\")."`
	Metadata    etl.Expr `hcl:"metadata,optional" doc:"metadata object of the entry ({} when omitted)."`
}

// Validate checks the config without I/O.
func (c *Config) Validate(b *etl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if strings.TrimSpace(c.Path) == "" {
		diags = append(diags, b.Diag("path", "Empty path", "The redial_queue sink needs the path of the queue file."))
	}
	return diags
}

// Register adds the redial_queue sink to r.
func Register(r *etl.Registry) {
	etl.RegisterSink(r, etl.Spec[Config]{
		Type:    "redial_queue",
		Summary: "Merges records into the dialer's redial queue file (JSON object keyed by phone), never overwriting entries.",
		// Entries are held until the end of input and merged once, so a
		// finished date is durable only through a replaying stage upstream.
		Buffers:             true,
		ReadsDeclaredFields: true, // reads records through its expressions only
	}, func(cfg *Config, env etl.Env) (etl.Sink, error) {
		return newSink(*cfg, env)
	})
}

// Interface guards: a hook whose signature drifts fails to compile.
var (
	_ etl.Validator      = (*Config)(nil)
	_ etl.Sink           = (*sink)(nil)
	_ etl.PartitionEnder = (*sink)(nil)
	_ etl.Finisher       = (*sink)(nil)
	_ etl.Changer        = (*sink)(nil)
	_ etl.Scratcher      = (*sink)(nil)
)

func init() { Register(etl.Default) }
