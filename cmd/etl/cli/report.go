package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/atomicfile"
	"github.com/etlhq/etl/etl/runreport"
)

// reportArgs is the --report flag of run and plan.
type reportArgs struct {
	Report string `placeholder:"FILE.html" help:"Write an HTML report of the run (charts and tables, one self-contained file). run keeps one beside the checkpoint by default (.etl/state/<pipeline file name>.report.html); plan writes one only when asked."`
}

// defaultReportPath is where a run keeps its report unless --report says
// otherwise: beside the state, named after it.
func defaultReportPath(statePath string) string {
	return strings.TrimSuffix(statePath, ".db") + ".report.html"
}

// reportCmd renders a saved event stream.
type reportCmd struct {
	Events string `arg:"" placeholder:"EVENTS.jsonl" help:"The output of etl run --output json (or plan), saved; - for standard input."`
}

func (c *reportCmd) run(a *app) int {
	var r io.Reader = os.Stdin
	if c.Events != "-" {
		f, err := os.Open(c.Events)
		if err != nil {
			fmt.Fprintf(a.stderr, "etl report: %v\n", err)
			return exitError
		}
		defer f.Close()
		r = f
	}
	events, err := runreport.ReadEvents(r)
	if err != nil {
		fmt.Fprintf(a.stderr, "etl report: %s: %v\n", c.Events, err)
		return exitError
	}
	if err := runreport.WriteEvents(a.stdout, events); err != nil {
		fmt.Fprintf(a.stderr, "etl report: %v\n", err)
		return exitError
	}
	return exitOK
}

// recording is a command's report under way: the events recorded since
// its start and the file they go to.
type recording struct {
	rec      runreport.Recorder
	path     string
	explicit bool // --report named the file
}

// startRecording makes the command's reporter record its events too and
// sends the start event: the settings, variables masked. It returns nil
// when the command keeps no report (a plan without --report).
func startRecording(a *app, p *etl.Pipeline, ra *reportArgs, statePath string, plan bool) *recording {
	r := &recording{path: ra.Report, explicit: ra.Report != ""}
	if r.path == "" && !plan {
		r.path = defaultReportPath(statePath)
	}
	mode := "run"
	if plan {
		mode = "plan"
	}
	var rep etl.Reporter = a.reporter()
	if r.path != "" {
		rep = runreport.Tee{rep, &r.rec}
	}
	a.rep = rep
	vars := map[string]any{}
	for _, v := range p.Variables {
		vars[v.Name] = "(sensitive)"
		if !v.Sensitive {
			vars[v.Name] = formatValue(v.Value)
		}
	}
	build := readBuildInfo()
	data := map[string]any{"mode": mode, "pipeline": p.Path, "state": statePath, "version": build.Version, "commit": build.Commit, "go_version": build.Go, "variables": vars}
	if r.path != "" {
		data["report"] = r.path
	}
	rep.Report(etl.Event{Time: time.Now().UTC(), Type: etl.EventStart, Data: data})
	if r.path == "" {
		return nil
	}
	return r
}

// finish writes the report and says where it is. It returns false when
// --report named a file that could not be written; the default report
// failing is only a warning.
func (r *recording) finish(a *app, rep etl.Reporter) bool {
	if r == nil {
		return true
	}
	var b bytes.Buffer
	err := runreport.WriteEvents(&b, r.rec.Events())
	if err == nil {
		if dir := filepath.Dir(r.path); dir != "" {
			err = os.MkdirAll(dir, 0o755)
		}
	}
	if err == nil {
		err = atomicfile.WriteFile(r.path, b.Bytes(), 0o644)
	}
	switch {
	case err != nil && r.explicit:
		rep.Report(etl.Event{Time: time.Now().UTC(), Type: etl.EventError, Message: fmt.Sprintf("writing the report %s: %v", r.path, err)})
		return false
	case err != nil:
		rep.Report(etl.Event{Time: time.Now().UTC(), Type: etl.EventWarning, Message: fmt.Sprintf("writing the report %s: %v (--report FILE.html puts it elsewhere)", r.path, err)})
		return true
	}
	rep.Report(etl.Event{Time: time.Now().UTC(), Type: etl.EventInfo, Message: "report: " + r.path, Data: map[string]any{"report": r.path}})
	return true
}
