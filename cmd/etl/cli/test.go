package cli

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/pipetest"
	"github.com/hashicorp/hcl/v2"
)

type testCmd struct {
	Paths []string `arg:"" optional:"" help:"Test files (*.etltest.hcl), or directories searched recursively for them (default: the current directory)."`
	Run   string   `help:"Run only the tests whose name matches this regular expression."`
}

func (c *testCmd) run(a *app) int {
	var sel *regexp.Regexp
	if c.Run != "" {
		var err error
		if sel, err = regexp.Compile(c.Run); err != nil {
			fmt.Fprintf(a.stderr, "etl: --run %q: %v\n", c.Run, err)
			return exitUsage
		}
	}
	files, err := pipetest.Discover(c.Paths)
	if err != nil {
		fmt.Fprintf(a.stderr, "etl: %v\n", err)
		return exitError
	}
	if len(files) == 0 {
		fmt.Fprintf(a.stderr, "etl: no test files (*%s) under %s\n", pipetest.Suffix, strings.Join(orDot(c.Paths), ", "))
		return exitError
	}
	ctx, stop := signalContext()
	defer stop()
	opts := pipetest.Options{Registry: a.registry, Logger: a.logger}
	passed, failed := 0, 0
	start := time.Now()
	for _, path := range files {
		f, diags := pipetest.ParseFile(path)
		if diags.HasErrors() {
			// The file cannot say which tests it holds: it counts as one
			// failure, reported at its problems.
			a.testFileFailed(path, f, diags)
			failed++
			continue
		}
		f.Select(sel)
		for _, t := range f.Tests {
			res := pipetest.RunTest(ctx, f, t, opts)
			a.reportTest(res)
			if res.Passed() {
				passed++
			} else {
				failed++
			}
			if ctx.Err() != nil {
				fmt.Fprintln(a.stderr, "etl: interrupted")
				return exitInterrupted
			}
		}
	}
	summary := fmt.Sprintf("%d passed, %d failed", passed, failed)
	if a.globals.Output == "json" {
		a.reporter().Report(etl.Event{Time: time.Now().UTC(), Type: etl.EventSummary, Message: summary, Data: map[string]any{
			"passed": passed, "failed": failed, "elapsed_seconds": time.Since(start).Seconds()}})
	} else {
		fmt.Fprintf(a.stdout, "%s (%s)\n", summary, time.Since(start).Round(time.Millisecond))
	}
	if failed > 0 {
		return exitError
	}
	return exitOK
}

func orDot(paths []string) []string {
	if len(paths) == 0 {
		return []string{"."}
	}
	return paths
}

// reportTest prints a test's line, and why it failed.
func (a *app) reportTest(res *pipetest.Result) {
	status := "pass"
	if !res.Passed() {
		status = "fail"
	}
	where := fmt.Sprintf("%s:%d", res.Range.Filename, res.Range.Start.Line)
	if a.globals.Output == "json" {
		var fails []map[string]any
		for _, f := range res.Failures {
			fails = append(fails, map[string]any{"file": f.Range.Filename, "line": f.Range.Start.Line, "column": f.Range.Start.Column,
				"message": f.Message, "diff": f.Diff})
		}
		a.reporter().Report(etl.Event{Time: time.Now().UTC(), Type: etl.EventTest, Message: res.Name, Data: map[string]any{
			"name": res.Name, "file": res.Range.Filename, "line": res.Range.Start.Line, "status": status,
			"elapsed_seconds": res.Elapsed.Seconds(), "failures": fails}})
		return
	}
	if res.Passed() {
		fmt.Fprintf(a.stdout, "PASS  %s  (%s, %s)\n", res.Name, where, res.Elapsed.Round(time.Millisecond))
		return
	}
	fmt.Fprintf(a.stdout, "FAIL  %s  (%s)\n", res.Name, where)
	for _, f := range res.Failures {
		fmt.Fprintf(a.stdout, "%s\n", indentLines(f.String(), "      "))
	}
}

// testFileFailed reports a test file that does not parse.
func (a *app) testFileFailed(path string, f *pipetest.File, diags hcl.Diagnostics) {
	if a.globals.Output == "json" {
		reportDiagnostics(a.reporter(), diags)
		a.reporter().Report(etl.Event{Time: time.Now().UTC(), Type: etl.EventTest, Message: filepath.Base(path), Data: map[string]any{
			"file": path, "status": "fail", "failures": diagFailures(diags)}})
		return
	}
	fmt.Fprintf(a.stdout, "FAIL  %s  (the file has errors; no test ran)\n", path)
	var files map[string]*hcl.File
	if f != nil {
		files = f.Files()
	}
	etl.WriteDiagnostics(a.stdout, files, diags)
}

func diagFailures(diags hcl.Diagnostics) []map[string]any {
	var out []map[string]any
	for _, d := range diags {
		m := map[string]any{"message": d.Summary + ": " + d.Detail}
		if d.Subject != nil {
			m["file"], m["line"], m["column"] = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column
		}
		out = append(out, m)
	}
	return out
}

func indentLines(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// checkTestFiles checks test files without running them (etl validate),
// printing their problems; it reports whether they are valid.
func (a *app) checkTestFiles(paths []string) bool {
	ok := true
	for _, path := range paths {
		f, diags := pipetest.ParseFile(path)
		if !diags.HasErrors() {
			diags = append(diags, pipetest.Check(f, pipetest.Options{Registry: a.registry})...)
		}
		if len(diags) > 0 {
			var files map[string]*hcl.File
			if f != nil {
				files = f.Files()
			}
			etl.WriteDiagnostics(a.stderr, files, diags)
		}
		if diags.HasErrors() {
			ok = false
			fmt.Fprintf(a.stderr, "%s: test file has errors.\n", path)
			continue
		}
		if !a.globals.Quiet {
			fmt.Fprintf(a.stdout, "%s is valid: %s of %s.\n", path, plural(int64(len(f.Tests)), "test"), f.Pipeline)
		}
	}
	return ok
}
