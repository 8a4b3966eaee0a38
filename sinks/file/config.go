package file

import (
	"fmt"
	"strings"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/fileformat"
	"github.com/hashicorp/hcl/v2"
)

// Config is the file sink's configuration.
type Config struct {
	Path   string   `hcl:"path" doc:"File to write, relative to the working directory as on the command line (as the other sinks' paths are); its directory is created when missing. Written to a temp file beside it as records come, then synced and renamed over it at the end of input: a failed or interrupted run leaves the previous file whole, and a directory that cannot be written fails the run before anything is read. A run that would write the same bytes leaves the file as it is. etl plan writes nothing and says how the rows would change: rows before and after, added and removed (compared as written, wherever they are in the file), and with --show-entries the first of them (phone numbers masked unless --unmask). \"-\" writes to standard output instead, each record as it comes, in plan and run alike (with --quiet, only the records): for looking at records while writing a pipeline."`
	Format string   `hcl:"format" doc:"csv (a header line, then one row per record; values as text, null as an empty cell, objects and lists as JSON), jsonl (one JSON object per line) or json (an array of objects, one per line)."`
	Fields []string `hcl:"fields,optional" doc:"Fields to write, in this order (a record without one gets null, an empty cell in CSV). Unset: every field, sorted by name (for CSV, the first record's fields, and a later record with another field is an error). With fields, sources build only these."`
}

// Validate checks the config without I/O.
func (c *Config) Validate(b *etl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if strings.TrimSpace(c.Path) == "" {
		diags = append(diags, b.Diag("path", "Empty path", `The file sink needs the path of the file to write, or "-" for standard output.`))
	}
	if _, err := fileformat.ParseFormat(c.Format); err != nil {
		diags = append(diags, b.Diag("format", "Invalid format", fmt.Sprintf("The %s; write format = \"csv\", \"jsonl\" or \"json\".", err)))
	}
	seen := map[string]bool{}
	for _, f := range c.Fields {
		switch {
		case f == "":
			diags = append(diags, b.Diag("fields", "Empty field name", "Every name in fields must be a record field."))
		case seen[f]:
			diags = append(diags, b.Diag("fields", "Field listed twice", fmt.Sprintf("fields lists %q twice.", f)))
		case b.Input != nil && b.Input.Fields != nil && !b.Input.Fields[f]:
			diags = append(diags, b.Diag("fields", "Unknown record field", fmt.Sprintf("%s does not produce a field %q; it produces: %s.", b.Input.Addr, f, strings.Join(sorted(b.Input.Fields), ", "))))
		}
		seen[f] = true
	}
	if c.Fields != nil && len(c.Fields) == 0 {
		diags = append(diags, b.Diag("fields", "No fields", "fields is empty: list the fields to write, or leave it out to write them all."))
	}
	return diags
}

// ReadFields are the fields the sink writes; nil (all) without fields.
func (c *Config) ReadFields() []string { return c.Fields }
