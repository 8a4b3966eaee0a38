package cli

import (
	"os"
	"time"

	"fmt"
	"github.com/hashicorp/hcl/v2"

	"github.com/etlhq/etl/etl"
)

// pipelineArgs are the arguments of every command that loads a pipeline.
type pipelineArgs struct {
	File      string   `arg:"" help:"Pipeline file (.hcl)."`
	Var       []string `name:"var" sep:"none" placeholder:"NAME=VALUE" help:"Set a variable; repeatable. A value that is not a plain string is read as HCL: --var 'excluded_statuses=[\"SALE\",\"DNC\"]'."`
	VarFile   []string `name:"var-file" sep:"none" placeholder:"FILE" help:"Read variable values from an HCL file of NAME = VALUE lines; repeatable."`
	Timestamp string   `name:"timestamp" placeholder:"TIME" help:"What timestamp() returns, an RFC 3339 time (default: now, to the second). plan prints the time it used: give it to the run that follows, so that both evaluate the pipeline alike."`
}

// load parses and validates the pipeline, printing its diagnostics. It
// returns nil when there were errors.
func (pa *pipelineArgs) load(a *app) *etl.Pipeline {
	return pa.loadWith(a, false)
}

// loadWith is load; allowUnknown lets env() of an unset variable and a
// required variable without a value pass as unknown values (for validate,
// which runs without secrets and inputs).
func (pa *pipelineArgs) loadWith(a *app, allowUnknown bool) *etl.Pipeline {
	// HCL's own message for an unreadable file omits the reason.
	if info, err := os.Stat(pa.File); err != nil || info.IsDir() {
		if err == nil {
			err = fmt.Errorf("%s is a directory, not a pipeline file", pa.File)
		}
		fmt.Fprintf(a.stderr, "etl: %v\n", err)
		return nil
	}
	var now time.Time
	if pa.Timestamp != "" {
		t, err := time.Parse(time.RFC3339, pa.Timestamp)
		if err != nil {
			fmt.Fprintf(a.stderr, "etl: --timestamp %q is not an RFC 3339 time such as 2026-11-30T06:00:00Z\n", pa.Timestamp)
			return nil
		}
		now = t
	}
	p, diags := etl.Load(pa.File, etl.LoadOptions{
		Registry:     a.registry,
		VarFiles:     pa.VarFile,
		Vars:         pa.Var,
		Environ:      a.environ,
		AllowUnknown: allowUnknown,
		Now:          now,
	})
	if len(diags) > 0 {
		etl.WriteDiagnostics(a.stderr, p.Files(), diags)
		if a.globals.Output == "json" {
			reportDiagnostics(a.reporter(), diags)
		}
	}
	if diags.HasErrors() {
		n := 0
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				n++
			}
		}
		fmt.Fprintf(a.stderr, "%s: %d error(s); nothing was run.\n", pa.File, n)
		return nil
	}
	return p
}

// reportDiagnostics sends diagnostics as "diagnostic" events, so that
// --output json carries validation problems too.
func reportDiagnostics(rep etl.Reporter, diags hcl.Diagnostics) {
	for _, d := range diags {
		data := map[string]any{"severity": "error", "summary": d.Summary, "detail": d.Detail}
		if d.Severity == hcl.DiagWarning {
			data["severity"] = "warning"
		}
		if r := d.Subject; r != nil {
			data["range"] = map[string]any{"file": r.Filename, "line": r.Start.Line, "column": r.Start.Column}
		}
		rep.Report(etl.Event{Time: time.Now().UTC(), Type: etl.EventDiagnostic, Message: d.Summary + ": " + d.Detail, Data: data})
	}
}
