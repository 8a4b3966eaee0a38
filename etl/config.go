package etl

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
)

// Pipeline is a loaded, validated pipeline file: its variables and its
// blocks in an order where every block comes after its input.
type Pipeline struct {
	Path      string
	Dir       string
	Variables []*Variable
	Blocks    []*Block

	parser *hclparse.Parser
	// now is what timestamp() returns; nowUsed is set once it is called.
	now     time.Time
	nowUsed atomic.Bool
}

// Timestamp returns what timestamp() returns in this pipeline (the run's
// start time, to the second), and whether the pipeline called it while
// loading: plan and run report it then, so that a run can be given the
// plan's (LoadOptions.Now, etl run --timestamp).
func (p *Pipeline) Timestamp() (t time.Time, used bool) { return p.now, p.nowUsed.Load() }

// sourceText returns the text of r in the pipeline's files.
func (p *Pipeline) sourceText(r hcl.Range) string {
	if f := p.parser.Files()[r.Filename]; f != nil && r.End.Byte <= len(f.Bytes) {
		return string(r.SliceBytes(f.Bytes))
	}
	return ""
}

// Files returns the parsed source files, for rendering diagnostics with
// snippets.
func (p *Pipeline) Files() map[string]*hcl.File { return p.parser.Files() }

// Block is one block of a pipeline, decoded.
type Block struct {
	Addr   Addr
	Plugin *Plugin
	// Config is the pointer Plugin.Config returned, decoded from the body.
	Config any
	// Input is the block this one reads from; nil for a source.
	Input *Block
	// Consumers are the blocks that read this one's output.
	Consumers []*Block
	// Fields are the record fields this block's output carries, or nil when
	// unknown.
	Fields map[string]bool

	DefRange   hcl.Range
	TypeRange  hcl.Range
	inputRef   hcl.Traversal
	inputRange hcl.Range
	body       hcl.Body
	attrs      map[string]*hcl.Attribute
	unknown    map[string]bool
}

// Known reports whether an attribute's value was known at load time. It is
// not for env("NAME") of an unset variable under `etl validate`, which
// checks a pipeline without its secrets: a Validator skips checks of such
// values rather than calling them empty.
func (b *Block) Known(attr string) bool { return !b.unknown[attr] }

// dropUnknown removes diagnostics about attributes whose value was not
// known at load time: the validator saw the attribute's default there
// (an empty path, say), not what the user wrote.
func (b *Block) dropUnknown(diags hcl.Diagnostics) hcl.Diagnostics {
	if len(b.unknown) == 0 {
		return diags
	}
	return slices.DeleteFunc(diags, func(d *hcl.Diagnostic) bool {
		for name, unknown := range b.unknown {
			if a, ok := b.attrs[name]; ok && unknown && d.Subject != nil && *d.Subject == a.Expr.Range() {
				return true
			}
		}
		return false
	})
}

// AttrRange returns where an attribute is written in the block, or the
// block's header when the attribute is absent: the place a diagnostic about
// it points at.
func (b *Block) AttrRange(name string) hcl.Range {
	if a, ok := b.attrs[name]; ok {
		return a.Expr.Range()
	}
	return b.DefRange
}

// Diag is a shorthand for an error diagnostic about an attribute of b.
func (b *Block) Diag(attr, summary, detail string) *hcl.Diagnostic {
	r := b.AttrRange(attr)
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: &r}
}

// LoadOptions says where a pipeline's variable values come from and which
// plugins exist.
type LoadOptions struct {
	Registry *Registry // Default when nil
	// VarFiles are --var-file paths, in order.
	VarFiles []string
	// Vars are --var NAME=VALUE flags, in order.
	Vars []string
	// Environ is the environment searched for ETL_VAR_NAME (os.Environ()).
	Environ []string
	// AllowUnknown makes env("NAME") of an unset environment variable, and
	// a pipeline variable that has no default and no value, unknown values
	// rather than errors: `etl validate` checks a pipeline without its
	// secrets and required inputs (as `terraform validate` does); run and
	// plan need them.
	AllowUnknown bool
	// Now is what timestamp() returns, truncated to the second: the run's
	// start time, the same for every call; time.Now() when zero. A run
	// given its plan's Now evaluates the pipeline as the plan did.
	Now time.Time
	// Values set variables from code, after every other source: the
	// variables of an `etl test` test.
	Values []VarValue
	// Offline makes env("NAME") a placeholder, marked sensitive, without
	// reading the environment: a test answers API calls from mocks, which
	// need no secret, and must neither depend on the real ones nor hold
	// them.
	Offline bool
}

// VarValue is a variable's value set from code (LoadOptions.Values).
type VarValue struct {
	Name  string
	Value cty.Value
	// From says who sets it ("test \"x\""), Range where, for messages.
	From  string
	Range hcl.Range
}

var topSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: string(KindSource), LabelNames: []string{"type", "name"}},
	{Type: string(KindTransform), LabelNames: []string{"type", "name"}},
	{Type: string(KindFilter), LabelNames: []string{"type", "name"}},
	{Type: string(KindSink), LabelNames: []string{"type", "name"}},
}}

// Load parses and validates a pipeline file without any I/O beyond reading
// it, its var files and file() arguments. All problems come back at once as
// diagnostics; the pipeline is usable only when they hold no error.
func Load(path string, opts LoadOptions) (*Pipeline, hcl.Diagnostics) {
	reg := opts.Registry
	if reg == nil {
		reg = Default
	}
	p := &Pipeline{Path: path, Dir: filepath.Dir(path), parser: hclparse.NewParser()}
	file, diags := p.parser.ParseHCLFile(path)
	if diags.HasErrors() {
		return p, diags
	}
	content, d := file.Body.Content(topSchema)
	diags = append(diags, d...)
	badTopLevel := d.HasErrors() // a misspelt block type: no "no source" on top

	var varBlocks []*hcl.Block
	var blocks []*Block
	seen := map[Addr]*Block{}
	for _, hb := range content.Blocks {
		if hb.Type == "variable" {
			varBlocks = append(varBlocks, hb)
			continue
		}
		b := &Block{
			Addr:      Addr{Kind: Kind(hb.Type), Type: hb.Labels[0], Name: hb.Labels[1]},
			DefRange:  hb.DefRange,
			TypeRange: hb.LabelRanges[0],
			body:      hb.Body,
		}
		if prev, dup := seen[b.Addr]; dup {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate block",
				Detail:   fmt.Sprintf("%s is already declared at %s; block names must be unique.", b.Addr, pos(prev.DefRange)),
				Subject:  hb.LabelRanges[1].Ptr(),
			})
			continue
		}
		seen[b.Addr] = b // even when unknown, so references to it do not cascade
		plugin, known := reg.Lookup(b.Addr.Kind, b.Addr.Type)
		if !known {
			detail := fmt.Sprintf("No %s plugin is registered under this name", b.Addr.Kind)
			if s := reg.suggest(b.Addr.Kind, b.Addr.Type); s != "" {
				detail += fmt.Sprintf(" (did you mean %q?", s) + " forgotten import?)."
			} else {
				detail += " (forgotten import?). `etl plugins` lists the registered ones."
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Unknown %s type %q", b.Addr.Kind, b.Addr.Type),
				Detail:   detail,
				Subject:  hb.LabelRanges[0].Ptr(),
			})
		}
		b.Plugin = plugin // nil when unknown: linked into the graph, never decoded
		blocks = append(blocks, b)
	}

	vars, ctxVars, d := resolveVariables(varBlocks, opts)
	diags = append(diags, d...)
	p.Variables = vars
	p.now = opts.Now
	if p.now.IsZero() {
		p.now = time.Now()
	}
	p.now = p.now.UTC().Truncate(time.Second)
	ctx := &hcl.EvalContext{Variables: ctxVars, Functions: reg.functionsFor(p.Dir, opts, p.now, &p.nowUsed)}

	diags = append(diags, linkBlocks(blocks, seen)...)
	if !badTopLevel {
		diags = append(diags, checkEnds(path, file, blocks)...)
	}
	ordered, d := topoSort(blocks)
	diags = append(diags, d...)
	p.Blocks = ordered

	for _, b := range ordered {
		if b.Plugin == nil {
			continue // unknown type, already reported
		}
		b.Config = b.Plugin.config()
		attrs, unknown, d := decodeBody(b.body, b.Plugin.Attrs(), b.Config, ctx, b.Addr.Kind != KindSource, p.sourceText)
		b.attrs, b.unknown = attrs, unknown
		diags = append(diags, d...)
		diags = append(diags, checkRecordRefs(b)...)
		b.Fields = outputFields(b)
		if v, ok := b.Config.(Validator); ok && !d.HasErrors() {
			diags = append(diags, b.dropUnknown(v.Validate(b))...)
		}
	}
	diags = append(diags, checkResumable(ordered)...)
	sortDiagnostics(diags)
	return p, diags
}

// checkEnds requires a source and a sink: a pipeline without either
// would validate and run as a no-op, which is never what its author meant
// (an empty file, a sink forgotten in an edit).
func checkEnds(path string, file *hcl.File, blocks []*Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, k := range []Kind{KindSource, KindSink} {
		if slices.ContainsFunc(blocks, func(b *Block) bool { return b.Addr.Kind == k }) {
			continue
		}
		what := "reads nothing: a pipeline needs at least one source block to read from"
		if k == KindSink {
			what = "writes nothing: a pipeline needs at least one sink block to write to"
		}
		if len(blocks) == 0 {
			what = "is empty: a pipeline needs at least one source block and one sink block"
		}
		// Point at the end of the file, where the missing block would go.
		r := file.Body.MissingItemRange()
		r.Filename = path
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("No %s block", k),
			Detail:   fmt.Sprintf("%s %s. `etl plugins` lists the %s types.", filepath.Base(path), what, k),
			Subject:  &r,
		})
		if len(blocks) == 0 {
			break // one message for an empty file
		}
	}
	return diags
}

// checkResumable warns about a sink that Buffers with no stage upstream
// that Replays: a resumed run could not give it the records of finished
// partitions, so its source is not checkpointed (see unsafeToResume).
// Behind a source of one partition there is nothing to skip, and no
// warning.
func checkResumable(blocks []*Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, b := range blocks {
		if b.Plugin == nil || !b.Plugin.Buffers || b.resumable() {
			continue
		}
		if one, ok := b.source().Config.(SinglePartitioner); ok && one.SinglePartition() {
			continue
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Pipeline not checkpointed",
			Detail: fmt.Sprintf("%s holds its records until the end of the run, and no stage before it replays them after a restart (as dedupe_latest does), "+
				"so finished partitions cannot be checkpointed: an interrupted run starts over.", b.Addr),
			Subject: b.DefRange.Ptr(),
		})
	}
	return diags
}

// resumable reports whether a buffering sink has a replaying stage upstream.
func (b *Block) resumable() bool {
	for up := b.Input; up != nil; up = up.Input {
		if up.Plugin != nil && up.Plugin.Replays {
			return true
		}
	}
	return false
}

// source returns the source at the head of b's chain.
func (b *Block) source() *Block {
	for b.Input != nil {
		b = b.Input
	}
	return b
}

// sortDiagnostics orders diagnostics by file position, those without a
// place first, so that the report reads top to bottom like the file.
func sortDiagnostics(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
}

// pos renders a range's start as file:line:col, the form users click on.
func pos(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

// linkBlocks reads each block's input reference (statically, never
// evaluated) and wires Input and Consumers.
func linkBlocks(blocks []*Block, byAddr map[Addr]*Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, b := range blocks {
		attrs, _ := b.body.JustAttributes() // errors are reported by the full decode
		attr, has := attrs["input"]
		if b.Addr.Kind == KindSource {
			continue // an input on a source is an unsupported argument, reported by decode
		}
		if !has {
			continue // missing input is a required-argument error, reported by decode
		}
		b.inputRange = attr.Expr.Range()
		trav, d := hcl.AbsTraversalForExpr(attr.Expr)
		ref, ok := refAddr(trav)
		if d.HasErrors() || !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid input reference",
				Detail:   "input must name another block as KIND.TYPE.NAME, such as source.bland_calls.calls.",
				Subject:  attr.Expr.Range().Ptr(),
			})
			continue
		}
		b.inputRef = trav
		if ref.Kind == KindSink {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "A sink cannot feed another block",
				Detail:   fmt.Sprintf("%s is a sink: it produces no records. Read from the block that feeds it instead.", ref),
				Subject:  attr.Expr.Range().Ptr(),
			})
			continue
		}
		up, ok := byAddr[ref]
		if !ok {
			var names []string
			for a := range byAddr {
				names = append(names, a.String())
			}
			detail := fmt.Sprintf("No block %s is declared in this pipeline.", ref)
			if s := nearest(ref.String(), names); s != "" {
				detail = fmt.Sprintf("No block %s is declared in this pipeline. Did you mean %s?", ref, s)
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Reference to undeclared block",
				Detail:   detail,
				Subject:  attr.Expr.Range().Ptr(),
			})
			continue
		}
		if up == b {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Block reads its own output",
				Detail:   fmt.Sprintf("%s names itself as its input.", b.Addr),
				Subject:  attr.Expr.Range().Ptr(),
			})
			continue
		}
		b.Input = up
		up.Consumers = append(up.Consumers, b)
	}
	for _, b := range blocks {
		if len(b.Consumers) == 0 && b.Addr.Kind != KindSink {
			what := "source"
			if b.Addr.Kind != KindSource {
				what = string(b.Addr.Kind)
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  fmt.Sprintf("Unused %s", what),
				Detail:   fmt.Sprintf("No block reads %s, so its records go nowhere.", b.Addr),
				Subject:  b.DefRange.Ptr(),
			})
		}
	}
	return diags
}

// refAddr reads kind.type.name from a traversal.
func refAddr(t hcl.Traversal) (Addr, bool) {
	if len(t) != 3 {
		return Addr{}, false
	}
	names := make([]string, 3)
	names[0] = t.RootName()
	for i := 1; i < 3; i++ {
		a, ok := t[i].(hcl.TraverseAttr)
		if !ok {
			return Addr{}, false
		}
		names[i] = a.Name
	}
	if !validKind(Kind(names[0])) {
		return Addr{}, false
	}
	return Addr{Kind: Kind(names[0]), Type: names[1], Name: names[2]}, true
}

// topoSort orders blocks so that each comes after its input, sources in
// file order first. Blocks on a cycle are reported and left out.
func topoSort(blocks []*Block) ([]*Block, hcl.Diagnostics) {
	var ordered []*Block
	placed := map[*Block]bool{}
	for progress := true; progress; {
		progress = false
		for _, b := range blocks {
			if placed[b] || (b.Input != nil && !placed[b.Input]) {
				continue
			}
			placed[b] = true
			ordered = append(ordered, b)
			progress = true
		}
	}
	var diags hcl.Diagnostics
	for _, b := range blocks {
		if placed[b] {
			continue
		}
		// Walk up from b: either we reach a placed block (b is downstream of
		// a cycle, reported there) or we come back to b (b is on it).
		var path []string
		onCycle := false
		for x, n := b.Input, 0; x != nil && !placed[x] && n <= len(blocks); x, n = x.Input, n+1 {
			path = append(path, x.Addr.String())
			if x == b {
				onCycle = true
				break
			}
		}
		if onCycle {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Reference cycle",
				Detail:   fmt.Sprintf("%s reads from itself through %s.", b.Addr, strings.Join(path, " → ")),
				Subject:  b.inputRange.Ptr(),
			})
		}
	}
	return ordered, diags
}

// outputFields computes the fields a block's output carries from its
// plugin's declaration and its input's fields.
func outputFields(b *Block) map[string]bool {
	var base map[string]bool
	switch {
	case b.Plugin == nil:
		return nil
	case b.Addr.Kind == KindSource:
		if b.Plugin.Fields == nil {
			// A source whose fields depend on its settings (a file's
			// declared columns) knows them only when it declares them.
			if fd, ok := b.Config.(FieldDeclarer); !ok || fd.DeclaredFields() == nil {
				return nil
			}
		}
		base = map[string]bool{}
	case b.Input == nil || b.Input.Fields == nil:
		return nil
	default:
		base = make(map[string]bool, len(b.Input.Fields)+len(b.Plugin.Fields))
		for f := range b.Input.Fields {
			base[f] = true
		}
	}
	for _, f := range b.Plugin.Fields {
		base[f.Name] = true
	}
	if fd, ok := b.Config.(FieldDeclarer); ok {
		for _, f := range fd.DeclaredFields() {
			base[f.Name] = true
		}
	}
	if fr, ok := b.Config.(FieldRemover); ok {
		for _, name := range fr.RemovedFields() {
			delete(base, name)
		}
	}
	return base
}

// checkRecordRefs reports per-record expressions that read a field the
// block's input does not produce.
func checkRecordRefs(b *Block) hcl.Diagnostics {
	if b.Input == nil || b.Input.Fields == nil {
		return nil
	}
	var diags hcl.Diagnostics
	for _, t := range perRecordRefs(b) {
		if len(t) < 2 {
			continue
		}
		step, ok := t[1].(hcl.TraverseAttr)
		if !ok || b.Input.Fields[step.Name] {
			continue
		}
		detail := fmt.Sprintf("%s does not produce a field %q.", b.Input.Addr, step.Name)
		if s := nearest(step.Name, sortedKeys(b.Input.Fields)); s != "" {
			detail += fmt.Sprintf(" Did you mean record.%s?", s)
		} else {
			detail += " It produces: " + strings.Join(sortedKeys(b.Input.Fields), ", ") + "."
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unknown record field",
			Detail:   detail,
			Subject:  t.SourceRange().Ptr(),
		})
	}
	return diags
}

// perRecordRefs returns the traversals rooted at `record` in b's
// per-record attributes.
func perRecordRefs(b *Block) []hcl.Traversal {
	var refs []hcl.Traversal
	for _, s := range b.Plugin.Attrs() {
		attr, ok := b.attrs[s.Name]
		switch {
		case !ok || !s.PerRecord:
		case s.goType == assignType:
			// Entries may read fields that earlier entries set.
			a := reflect.ValueOf(b.Config).Elem().FieldByIndex(s.field).Interface().(Assignments)
			refs = append(refs, a.inputRefs()...)
		default:
			refs = append(refs, recordRefs(attr.Expr)...)
		}
	}
	return refs
}
