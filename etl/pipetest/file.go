package pipetest

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// Suffix is the name ending of test files.
const Suffix = ".etltest.hcl"

// File is a parsed test file: the pipeline it tests and its tests, not yet
// evaluated (expressions are evaluated per test, with that test's
// temporary directory in scope).
type File struct {
	Path string
	// Pipeline is the pipeline file's path, resolved against the test
	// file's directory.
	Pipeline      string
	PipelineRange hcl.Range
	// Variables is the file's variables attribute, for every test; nil
	// when absent.
	Variables *hcl.Attribute
	Tests     []*Test

	parser *hclparse.Parser
}

// Test is one test block.
type Test struct {
	Name     string
	DefRange hcl.Range
	// Variables, Apply and Files are the test's attributes, nil when
	// absent.
	Variables, Apply, Files *hcl.Attribute
	Overrides               []*Override
	Mocks                   []*MockBlock
	Expects                 []*Expect
	Asserts                 []*Assert
}

// Override gives a block's output as fixture records.
type Override struct {
	Label      string
	LabelRange hcl.Range
	DefRange   hcl.Range
	// Records and File are the block's attributes (nil when absent); each
	// partition block holds the same two.
	Records, File *hcl.Attribute
	Partitions    []*PartitionBlock
}

// PartitionBlock is a group of fixture records of one partition.
type PartitionBlock struct {
	Name          string
	DefRange      hcl.Range
	Records, File *hcl.Attribute
}

// MockBlock gives a Mockable block its API's answers.
type MockBlock struct {
	Label      string
	LabelRange hcl.Range
	DefRange   hcl.Range
	Attrs      hcl.Attributes
}

// Expect compares a sink's records with the ones it should receive.
type Expect struct {
	Label            string
	LabelRange       hcl.Range
	DefRange         hcl.Range
	Records, Contain *hcl.Attribute
	Key              *hcl.Attribute
}

// Assert is a condition on the run's outcome.
type Assert struct {
	DefRange     hcl.Range
	Condition    *hcl.Attribute
	ErrorMessage *hcl.Attribute
}

var (
	fileSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "pipeline", Required: true}, {Name: "variables"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "test", LabelNames: []string{"name"}}},
	}
	testSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "variables"}, {Name: "apply"}, {Name: "files"}},
		Blocks: []hcl.BlockHeaderSchema{
			{Type: "override", LabelNames: []string{"block"}},
			{Type: "mock", LabelNames: []string{"block"}},
			{Type: "expect", LabelNames: []string{"block"}},
			{Type: "assert"},
		},
	}
	overrideSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "records"}, {Name: "file"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "partition", LabelNames: []string{"name"}}},
	}
	partitionSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "records"}, {Name: "file"}}}
	expectSchema    = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "records"}, {Name: "contains"}, {Name: "key"}}}
	assertSchema    = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "condition", Required: true}, {Name: "error_message", Required: true}}}
)

// ParseFile reads a test file's structure. Problems come back as
// diagnostics at their place; File is nil when the file cannot be read
// or parsed.
func ParseFile(path string) (*File, hcl.Diagnostics) {
	parser := hclparse.NewParser()
	hf, diags := parser.ParseHCLFile(path)
	if diags.HasErrors() {
		return &File{Path: path, parser: parser}, diags
	}
	f := &File{Path: path, parser: parser}
	content, d := hf.Body.Content(fileSchema)
	diags = append(diags, d...)
	if a := content.Attributes["pipeline"]; a != nil {
		f.PipelineRange = a.Expr.Range()
		v, d := a.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if v.Type().FriendlyName() != "string" || v.IsNull() {
				diags = append(diags, diag(a.Expr.Range(), "Invalid pipeline", `pipeline must be the path of the pipeline file, relative to this file, such as "../backfill.hcl".`))
			} else {
				f.Pipeline = filepath.Join(filepath.Dir(path), v.AsString())
			}
		}
	}
	f.Variables = content.Attributes["variables"]
	seen := map[string]hcl.Range{}
	for _, hb := range content.Blocks {
		t := &Test{Name: hb.Labels[0], DefRange: hb.DefRange}
		if prev, dup := seen[t.Name]; dup {
			diags = append(diags, diag(hb.LabelRanges[0], "Duplicate test", fmt.Sprintf("A test %q is already declared at %s; test names must be unique in a file.", t.Name, pos(prev))))
		}
		seen[t.Name] = hb.DefRange
		diags = append(diags, t.parse(hb.Body)...)
		f.Tests = append(f.Tests, t)
	}
	if len(content.Blocks) == 0 && !diags.HasErrors() {
		r := hf.Body.MissingItemRange()
		diags = append(diags, diag(r, "No test block", `A test file holds one or more test "NAME" { ... } blocks.`))
	}
	return f, diags
}

func (t *Test) parse(body hcl.Body) hcl.Diagnostics {
	content, diags := body.Content(testSchema)
	t.Variables, t.Apply, t.Files = content.Attributes["variables"], content.Attributes["apply"], content.Attributes["files"]
	for _, hb := range content.Blocks {
		var d hcl.Diagnostics
		switch hb.Type {
		case "override":
			o := &Override{Label: hb.Labels[0], LabelRange: hb.LabelRanges[0], DefRange: hb.DefRange}
			d = o.parse(hb.Body)
			t.Overrides = append(t.Overrides, o)
		case "mock":
			m := &MockBlock{Label: hb.Labels[0], LabelRange: hb.LabelRanges[0], DefRange: hb.DefRange}
			m.Attrs, d = hb.Body.JustAttributes()
			t.Mocks = append(t.Mocks, m)
		case "expect":
			e := &Expect{Label: hb.Labels[0], LabelRange: hb.LabelRanges[0], DefRange: hb.DefRange}
			c, dd := hb.Body.Content(expectSchema)
			d = dd
			e.Records, e.Contain, e.Key = c.Attributes["records"], c.Attributes["contains"], c.Attributes["key"]
			if e.Records == nil && e.Contain == nil {
				d = append(d, diag(hb.DefRange, "Nothing to expect", "An expect block needs records = [...] (exactly these) or contains = [...] (at least these)."))
			}
			t.Expects = append(t.Expects, e)
		case "assert":
			c, dd := hb.Body.Content(assertSchema)
			d = dd
			t.Asserts = append(t.Asserts, &Assert{DefRange: hb.DefRange, Condition: c.Attributes["condition"], ErrorMessage: c.Attributes["error_message"]})
		}
		diags = append(diags, d...)
	}
	return diags
}

func (o *Override) parse(body hcl.Body) hcl.Diagnostics {
	content, diags := body.Content(overrideSchema)
	o.Records, o.File = content.Attributes["records"], content.Attributes["file"]
	diags = append(diags, oneSource(o.DefRange, o.Records, o.File, len(content.Blocks) > 0)...)
	for _, hb := range content.Blocks {
		c, d := hb.Body.Content(partitionSchema)
		diags = append(diags, d...)
		p := &PartitionBlock{Name: hb.Labels[0], DefRange: hb.DefRange, Records: c.Attributes["records"], File: c.Attributes["file"]}
		if p.Records == nil && p.File == nil {
			diags = append(diags, diag(hb.DefRange, "Empty partition block", "A partition block needs records = [...] (an empty list for a partition without records) or file = \"...jsonl\"."))
		}
		o.Partitions = append(o.Partitions, p)
	}
	return diags
}

// oneSource requires records, file or partition blocks in an override.
func oneSource(r hcl.Range, records, file *hcl.Attribute, partitions bool) hcl.Diagnostics {
	if records == nil && file == nil && !partitions {
		return hcl.Diagnostics{diag(r, "Empty override", `An override needs records = [...], file = "fixtures/NAME.jsonl", or partition "NAME" { ... } blocks.`)}
	}
	return nil
}

// Files returns the parsed source files, for rendering diagnostics.
func (f *File) Files() map[string]*hcl.File { return f.parser.Files() }

// Select keeps the tests whose name run matches; nil keeps all.
func (f *File) Select(run *regexp.Regexp) {
	if run == nil {
		return
	}
	kept := f.Tests[:0]
	for _, t := range f.Tests {
		if run.MatchString(t.Name) {
			kept = append(kept, t)
		}
	}
	f.Tests = kept
}

func diag(r hcl.Range, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: r.Ptr()}
}

// pos renders a range's start as file:line:col.
func pos(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

// title is the first line of a multi-line text.
func title(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
