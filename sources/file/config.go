package file

import (
	"fmt"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/fileformat"
	"github.com/hashicorp/hcl/v2"
)

// Config is the file source's configuration.
type Config struct {
	Path     string             `hcl:"path" doc:"Files to read: a path or a glob (*, ?, [...]), relative to the pipeline file's directory as file() is (abspath(PATH) for one relative to the working directory). Each file is a partition, named by this relative path (or the absolute one), read in name order; a checkpointed run skips the files it has done, and adding files to the glob reads only those. No file matching is an error."`
	Format   string             `hcl:"format" doc:"csv, jsonl (one JSON object per line) or json (an array of objects, or an object of objects keyed by id: see key_field). Files are streamed: memory does not grow with their size."`
	Header   bool               `hcl:"header,optional" doc:"csv: the first line names the columns. false: rows start at the first line, named by columns in order."`
	Columns  fileformat.Columns `hcl:"columns,optional" doc:"The fields of the records, in order, typed: [{ name = \"phone\" }, { name = \"created_at\", type = \"time\" }, \"first_name\"]; types are string (the default), number, bool and time (read as RFC 3339, \"2006-01-02 15:04:05\" or a date, all UTC unless zoned, and written into records as RFC 3339 UTC). A CSV cell is converted (an empty cell of a typed column is null); a JSON value must have the type or be null. Other columns and members are ignored. With columns, etl validate checks the fields later blocks read. Without, records hold every header column (as strings) or JSON member (typed as JSON has it), which validate cannot know: it does not read data files, which may not exist yet."`
	KeyField string             `hcl:"key_field,optional" doc:"json holding an object of objects (keyed by id, as the redial queue is keyed by phone): the field that receives each entry's key. Unset, the key is dropped."`
	OnError  string             `hcl:"on_error,optional" doc:"A row that cannot be read (malformed, a value of the wrong type, a CSV row of another width): \"fail\" the run with the file and line, or \"skip\" it: the row is dropped, counted and listed with its file and line, and etl exits 3. JSON broken inside an array or object fails either way: nothing after it can be read."`
}

func defaultConfig() *Config { return &Config{Header: true, OnError: "fail"} }

// Validate checks the config without I/O.
func (c *Config) Validate(b *etl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if strings.TrimSpace(c.Path) == "" {
		diags = append(diags, b.Diag("path", "Empty path", "The file source needs the path (or glob) of the files to read."))
	} else if _, err := filepath.Match(c.Path, ""); err != nil {
		diags = append(diags, b.Diag("path", "Invalid glob", fmt.Sprintf("%q is not a valid glob: %v (brackets must close).", c.Path, err)))
	}
	format, err := fileformat.ParseFormat(c.Format)
	if err != nil {
		diags = append(diags, b.Diag("format", "Invalid format", fmt.Sprintf("The %s; write format = \"csv\", \"jsonl\" or \"json\".", err)))
	}
	if format == fileformat.CSV && !c.Header && c.Columns == nil {
		diags = append(diags, b.Diag("header", "Columns needed", "A CSV file without a header needs columns to name its cells: columns = [\"phone\", \"first_name\", ...]."))
	}
	if c.KeyField != "" && format != fileformat.JSON && err == nil {
		diags = append(diags, b.Diag("key_field", "key_field needs json", "key_field names the field that receives the keys of a JSON object of objects; a "+c.Format+" file has no keys."))
	}
	if c.OnError != "fail" && c.OnError != "skip" {
		diags = append(diags, b.Diag("on_error", "Invalid on_error", fmt.Sprintf("on_error is %q; write \"fail\" or \"skip\".", c.OnError)))
	}
	return diags
}

// SinglePartition reports a path without glob characters: one file, one
// partition. A path not known yet (env() unset under etl validate) is
// empty, and may be a glob.
func (c *Config) SinglePartition() bool {
	return c.Path != "" && !strings.ContainsAny(c.Path, `*?[\`)
}

// DeclaredFields are the columns (and key_field); nil without columns:
// the fields are in the files, which validate does not read.
func (c *Config) DeclaredFields() []etl.Field {
	if c.Columns == nil {
		return nil
	}
	fields := c.Columns.Fields()
	if c.KeyField != "" {
		fields = append(fields, etl.Field{Name: c.KeyField, Doc: "The entry's key in the JSON object."})
	}
	return fields
}

// Fingerprint: records saved from these files mean something else once
// they are read otherwise. The path is not in it: a wider glob adds files,
// and a narrower one is refused by HasPartition.
func (c *Config) Fingerprint() map[string]string {
	return map[string]string{
		"format": c.Format, "header": strconv.FormatBool(c.Header), "columns": c.Columns.String(), "key_field": c.KeyField,
	}
}

// HasPartition reports whether a file a checkpoint holds is still one the
// path matches.
func (c *Config) HasPartition(name string) bool {
	ok, _ := path.Match(filepath.ToSlash(filepath.Clean(c.Path)), name)
	return ok
}

// partitionName is how a file is named as a partition: its path relative
// to the pipeline's directory when the glob is relative, with slashes.
func partitionName(pattern, dir, file string) string {
	if filepath.IsAbs(pattern) {
		return filepath.ToSlash(file)
	}
	if rel, err := filepath.Rel(dir, file); err == nil {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(file)
}
