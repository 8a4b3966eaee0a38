package pipetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Options are the settings of a test run.
type Options struct {
	// Registry holds the plugins; etl.Default when nil.
	Registry *etl.Registry
	// Logger receives the pipelines' logs; none when nil.
	Logger *slog.Logger
}

// Result is one test's outcome.
type Result struct {
	File    string
	Name    string
	Range   hcl.Range // the test block
	Elapsed time.Duration
	// Failures are why the test failed; none when it passed.
	Failures []Failure
}

// Passed reports whether the test passed.
func (r *Result) Passed() bool { return len(r.Failures) == 0 }

// Failure is one reason a test failed: an expectation or assertion that
// did not hold, the run's error, or a problem in the test itself.
type Failure struct {
	// Range is where: the assert, expect or fixture field at fault.
	Range hcl.Range
	// Message says what failed and, where there is one, how to fix it.
	Message string
	// Diff is a readable diff of expected against received records.
	Diff string
}

// String renders "file:line:col: message", then the diff indented.
func (f Failure) String() string {
	s := fmt.Sprintf("%s: %s", pos(f.Range), f.Message)
	if f.Range.Filename == "" {
		s = f.Message
	}
	if f.Diff != "" {
		s += "\n" + indent(f.Diff, "    ")
	}
	return s
}

// Run runs every test of f, in order.
func Run(ctx context.Context, f *File, opts Options) []*Result {
	var out []*Result
	for _, t := range f.Tests {
		out = append(out, RunTest(ctx, f, t, opts))
	}
	return out
}

// RunTest runs one test: it loads the pipeline with the test's variables,
// gives the overridden blocks their fixtures and the Mockable ones their
// mocks, runs it as a plan (or, with apply = true, for real in the test's
// temporary directory), and checks the expectations and assertions.
func RunTest(ctx context.Context, f *File, t *Test, opts Options) *Result {
	start := time.Now()
	res := &Result{File: f.Path, Name: t.Name, Range: t.DefRange}
	defer func() { res.Elapsed = time.Since(start) }()
	dir, err := os.MkdirTemp("", "etltest-")
	if err != nil {
		res.Failures = append(res.Failures, Failure{Range: t.DefRange, Message: err.Error()})
		return res
	}
	defer os.RemoveAll(dir)
	tr, diags := prepare(f, t, dir, opts)
	if diags.HasErrors() {
		res.Failures = append(res.Failures, failures(diags)...)
		return res
	}
	out, err := tr.run(ctx, opts)
	if err != nil {
		res.Failures = append(res.Failures, tr.runFailure(err))
		return res
	}
	res.Failures = append(res.Failures, tr.check(out)...)
	return res
}

// Check loads each test of f as RunTest would, without running it: the
// pipeline, the addresses named, the fixtures and expected records.
// `etl validate` reports what it finds.
func Check(f *File, opts Options) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, t := range f.Tests {
		dir, err := os.MkdirTemp("", "etltest-")
		if err != nil {
			return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: err.Error()})
		}
		_, d := prepare(f, t, dir, opts)
		os.RemoveAll(dir)
		diags = append(diags, d...)
	}
	return dedupe(diags)
}

// testRun is a test ready to run.
type testRun struct {
	file    *File
	test    *Test
	dir     string
	ctx     *hcl.EvalContext // the test file's scope: test.dir, test.name, functions
	p       *etl.Pipeline
	apply   bool
	hooks   *etl.TestHooks
	expects []*expectation
}

// prepare evaluates a test: its files, variables, overrides, mocks and
// expected records.
func prepare(f *File, t *Test, dir string, opts Options) (*testRun, hcl.Diagnostics) {
	reg := opts.Registry
	if reg == nil {
		reg = etl.Default
	}
	testDir := filepath.Dir(f.Path)
	fns := reg.Functions(testDir, false, time.Now(), nil)
	delete(fns, "env") // a test reads no environment variable
	tr := &testRun{file: f, test: t, dir: dir, ctx: &hcl.EvalContext{
		Variables: map[string]cty.Value{"test": cty.ObjectVal(map[string]cty.Value{"dir": cty.StringVal(dir), "name": cty.StringVal(t.Name)})},
		Functions: fns,
	}}
	var diags hcl.Diagnostics
	if t.Apply != nil {
		v, d := t.Apply.Expr.Value(tr.ctx)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if v.IsNull() || v.Type() != cty.Bool {
				diags = append(diags, diag(t.Apply.Expr.Range(), "Invalid apply", "apply must be true (a real write, in the test's temporary directory test.dir) or false (a plan)."))
			} else {
				tr.apply = v.True()
			}
		}
	}
	diags = append(diags, tr.copyFiles(testDir)...)
	vals, d := tr.variables()
	diags = append(diags, d...)
	if diags.HasErrors() {
		return tr, diags
	}
	p, d := etl.Load(f.Pipeline, etl.LoadOptions{Registry: reg, Values: vals, Offline: true})
	if d.HasErrors() {
		for _, x := range d {
			if x.Severity == hcl.DiagError {
				if x.Subject == nil {
					x.Subject = f.PipelineRange.Ptr()
				}
				diags = append(diags, x)
			}
		}
		return tr, diags
	}
	for name, file := range p.Files() {
		f.parser.AddFile(name, file) // for the snippets of diagnostics in the pipeline
	}
	tr.p = p
	tr.hooks = &etl.TestHooks{Replace: map[etl.Addr]etl.Source{}, Mocks: map[etl.Addr]etl.Mock{}}
	for _, o := range t.Overrides {
		b, d := tr.block(o.Label, o.LabelRange, "override")
		diags = append(diags, d...)
		if b == nil {
			continue
		}
		if b.Addr.Kind == etl.KindSink {
			diags = append(diags, diag(o.LabelRange, "A sink has no output to override", fmt.Sprintf("%s writes records rather than producing them; its records are captured in a test: compare them with expect %q { records = [...] }.", b.Addr, b.Addr)))
			continue
		}
		fx, d := newFixture(o, b, tr.ctx, testDir)
		diags = append(diags, d...)
		tr.hooks.Replace[b.Addr] = fx
	}
	for _, m := range t.Mocks {
		b, d := tr.block(m.Label, m.LabelRange, "mock")
		diags = append(diags, d...)
		if b == nil {
			continue
		}
		obj := map[string]cty.Value{}
		for name, a := range m.Attrs {
			v, d := a.Expr.Value(tr.ctx)
			diags = append(diags, d...)
			obj[name] = v
		}
		tr.hooks.Mocks[b.Addr] = etl.Mock{Data: cty.ObjectVal(obj), Range: m.DefRange}
	}
	for _, e := range t.Expects {
		x, d := tr.expectation(e)
		diags = append(diags, d...)
		if x != nil {
			tr.expects = append(tr.expects, x)
		}
	}
	return tr, diags
}

// copyFiles copies the test's files into its directory before the run:
// files = { "DEST" = "SOURCE" }, DEST relative to test.dir, SOURCE to the
// test file.
func (tr *testRun) copyFiles(testDir string) hcl.Diagnostics {
	if tr.test.Files == nil {
		return nil
	}
	v, diags := tr.test.Files.Expr.Value(tr.ctx)
	if diags.HasErrors() {
		return diags
	}
	rng := tr.test.Files.Expr.Range()
	if v.IsNull() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
		return hcl.Diagnostics{diag(rng, "Invalid files", `files must be an object of DEST = SOURCE paths, such as { "redial-queue/q.json" = "fixtures/queue.json" }: DEST in test.dir, SOURCE relative to the test file.`)}
	}
	for it := v.ElementIterator(); it.Next(); {
		k, src := it.Element()
		dest := filepath.Clean(k.AsString())
		if filepath.IsAbs(dest) || dest == ".." || strings.HasPrefix(dest, ".."+string(filepath.Separator)) {
			diags = append(diags, diag(rng, "Invalid files", fmt.Sprintf("%q must be a path inside test.dir, relative to it.", k.AsString())))
			continue
		}
		if src.IsNull() || src.Type() != cty.String {
			diags = append(diags, diag(rng, "Invalid files", fmt.Sprintf("files[%q] must be the path of a file, relative to the test file.", k.AsString())))
			continue
		}
		from := src.AsString()
		if !filepath.IsAbs(from) {
			from = filepath.Join(testDir, from)
		}
		data, err := os.ReadFile(from)
		if err == nil {
			to := filepath.Join(tr.dir, dest)
			if err = os.MkdirAll(filepath.Dir(to), 0o755); err == nil {
				err = os.WriteFile(to, data, 0o644)
			}
		}
		if err != nil {
			diags = append(diags, diag(rng, "Cannot copy a test file", fmt.Sprintf("files[%q]: %v.", k.AsString(), err)))
		}
	}
	return diags
}

// variables are the file's variables, then the test's, which win.
func (tr *testRun) variables() ([]etl.VarValue, hcl.Diagnostics) {
	var vals []etl.VarValue
	var diags hcl.Diagnostics
	for _, a := range []*hcl.Attribute{tr.file.Variables, tr.test.Variables} {
		if a == nil {
			continue
		}
		v, d := a.Expr.Value(tr.ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		if v.IsNull() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
			diags = append(diags, diag(a.Expr.Range(), "Invalid variables", "variables must be an object of NAME = VALUE, such as { excluded_statuses = [\"SALE\"] }."))
			continue
		}
		keys := keyRanges(a.Expr, tr.ctx)
		for it := v.ElementIterator(); it.Next(); {
			k, val := it.Element()
			r, ok := keys[k.AsString()]
			if !ok {
				r = a.Expr.Range()
			}
			vals = append(vals, etl.VarValue{Name: k.AsString(), Value: val, From: fmt.Sprintf("test %q", tr.test.Name), Range: r})
		}
	}
	return vals, diags
}

// block finds the pipeline block a label names.
func (tr *testRun) block(label string, rng hcl.Range, what string) (*etl.Block, hcl.Diagnostics) {
	addr, ok := etl.ParseAddr(label)
	if !ok {
		return nil, hcl.Diagnostics{diag(rng, "Invalid block address", fmt.Sprintf("%s names a block of the pipeline as KIND.TYPE.NAME, such as \"source.bland_calls.calls\".", what))}
	}
	if b := tr.p.Block(addr); b != nil {
		return b, nil
	}
	var names []string
	for _, b := range tr.p.Blocks {
		names = append(names, b.Addr.String())
	}
	detail := fmt.Sprintf("%s declares no block %s.", tr.p.Path, addr)
	if s := etl.Nearest(addr.String(), names); s != "" {
		detail += fmt.Sprintf(" Did you mean %s?", s)
	} else {
		detail += " Its blocks: " + strings.Join(names, ", ") + "."
	}
	return nil, hcl.Diagnostics{diag(rng, "Unknown block", detail)}
}

// outcome is what a test run produced.
type outcome struct {
	res     *etl.Result
	records map[etl.Addr][]etl.Record
	// partitions are the data of each block's partition events, by
	// partition (the stats sink's row of each date).
	partitions map[string]map[string]map[string]any
}

// run runs the pipeline as the test says.
func (tr *testRun) run(ctx context.Context, opts Options) (*outcome, error) {
	out := &outcome{records: map[etl.Addr][]etl.Record{}, partitions: map[string]map[string]map[string]any{}}
	var mu sync.Mutex
	tr.hooks.Tap = func(sink etl.Addr, rec etl.Record) {
		mu.Lock()
		out.records[sink] = append(out.records[sink], rec)
		mu.Unlock()
	}
	events := etl.ReporterFunc(func(e etl.Event) {
		if e.Type != etl.EventPartition || e.Block == "" || e.Data == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if out.partitions[e.Block] == nil {
			out.partitions[e.Block] = map[string]map[string]any{}
		}
		out.partitions[e.Block][e.Partition] = e.Data
	})
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	res, err := tr.p.Run(ctx, etl.RunOptions{Plan: !tr.apply, Test: tr.hooks, Events: events, Logger: logger, ScratchDir: tr.dir})
	out.res = res
	return out, err
}

// runFailure explains a run that failed; one that reached an API without
// a mock says which block needs one.
func (tr *testRun) runFailure(err error) Failure {
	var se *etl.StageError
	if !errors.As(err, &se) {
		return Failure{Range: tr.test.DefRange, Message: "the run failed: " + err.Error()}
	}
	if errors.Is(err, etl.ErrNotMocked) {
		cause := strings.TrimSuffix(strings.TrimSuffix(se.Err.Error(), ": "+etl.ErrNotMocked.Error()), etl.ErrNotMocked.Error())
		return Failure{Range: tr.test.DefRange, Message: fmt.Sprintf(
			"%s (%s) reached its API (%s), and a test touches no network: give it a mock %q { ... } block in this test, or replace its output with override %q { records = [...] } (`etl plugins %s` shows its mock)",
			se.Addr, pos(se.Range), strings.TrimSpace(cause), se.Addr, se.Addr, se.Addr.Type)}
	}
	return Failure{Range: se.Range, Message: "the run failed: " + err.Error()}
}

// failures turns diagnostics into failures.
func failures(diags hcl.Diagnostics) []Failure {
	var out []Failure
	for _, d := range dedupe(diags) {
		if d.Severity != hcl.DiagError {
			continue
		}
		f := Failure{Message: d.Summary}
		if d.Detail != "" {
			f.Message += ": " + d.Detail
		}
		if d.Subject != nil {
			f.Range = *d.Subject
		}
		out = append(out, f)
	}
	return out
}

// dedupe drops repeated diagnostics: each test of a file loads the same
// pipeline, whose problems would otherwise come once per test.
func dedupe(diags hcl.Diagnostics) hcl.Diagnostics {
	seen := map[string]bool{}
	var out hcl.Diagnostics
	for _, d := range diags {
		k := d.Summary + "\x00" + d.Detail
		if d.Subject != nil {
			k += "\x00" + pos(*d.Subject)
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, d)
		}
	}
	return out
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}
