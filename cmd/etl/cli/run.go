package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/etlhq/etl/etl"
)

type runCmd struct {
	pipelineArgs
	stateArgs
	reportArgs
}

type planCmd struct {
	pipelineArgs
	stateArgs
	reportArgs
	DetailedExitcode bool `help:"Exit 2 when the run would change something, 0 when not (as Terraform does)."`
	ShowEntries      bool `help:"List the entries each sink would add."`
	Unmask           bool `help:"Show personal data (phone numbers) unmasked in --show-entries."`
}

func (c *runCmd) run(a *app) int {
	return execute(a, &c.pipelineArgs, &c.stateArgs, &c.reportArgs, runOptions())
}

func runOptions() etl.RunOptions { return etl.RunOptions{} }

func planOptions(showEntries, unmask bool) etl.RunOptions {
	return etl.RunOptions{Plan: true, ShowEntries: showEntries, Unmask: unmask}
}

func (c *planCmd) run(a *app) int {
	status := execute(a, &c.pipelineArgs, &c.stateArgs, &c.reportArgs, planOptions(c.ShowEntries, c.Unmask))
	if status == exitChanges && !c.DetailedExitcode {
		return exitOK
	}
	return status
}

// execute loads, runs or plans the pipeline, prints the report and writes
// the HTML one. It returns exitChanges when a plan finds changes (the
// caller decides whether that is reported).
func execute(a *app, pa *pipelineArgs, sa *stateArgs, ra *reportArgs, opts etl.RunOptions) int {
	p := pa.load(a)
	if p == nil {
		return exitError
	}
	orig := a.reporter()
	defer func() { a.rep = orig }()
	recording := startRecording(a, p, ra, sa.resolve(p), opts.Plan)
	status := executeLoaded(a, p, sa, opts)
	if !recording.finish(a, orig) && status == exitOK {
		return exitError
	}
	return status
}

// executeLoaded runs or plans a loaded pipeline and prints the report.
func executeLoaded(a *app, p *etl.Pipeline, sa *stateArgs, opts etl.RunOptions) int {
	rep := a.reporter()
	opts.Events = rep
	opts.Logger = a.logger
	opts.Stdout = a.stdout
	defer sa.close(a)
	if err := sa.prepare(a, p, &opts); err != nil {
		rep.Report(etl.Event{Time: time.Now().UTC(), Type: etl.EventError, Message: err.Error()})
		return exitError
	}
	mode := "run"
	if opts.Plan {
		mode = "plan"
		reportVariables(rep, p)
	}
	reported := reportTimestamp(rep, p, false)
	ctx, stop := signalContext()
	defer stop()
	stopProgress := a.startProgress(&opts)
	res, err := p.Run(ctx, opts)
	stopProgress()
	reportTimestamp(rep, p, reported) // first called per record
	if res != nil {
		reportResult(rep, res, opts.Plan)
		reportSkipped(rep, res)
	}
	switch {
	case err != nil && errors.Is(err, context.Canceled) && ctx.Err() != nil:
		data := map[string]any{"status": "interrupted"}
		if res != nil {
			data["last_saved"], data["saved"] = res.LastSaved, res.Saved
		}
		rep.Report(etl.Event{Time: time.Now().UTC(), Type: etl.EventError, Message: interruptedMessage(res, sa.path, opts.Plan), Data: data})
		return exitInterrupted
	case err != nil:
		data := map[string]any{"status": "failed"}
		var se *etl.StageError
		if errors.As(err, &se) {
			data["block"] = se.Addr.String()
			data["range"] = map[string]any{"file": se.Range.Filename, "line": se.Range.Start.Line, "column": se.Range.Start.Column}
		}
		rep.Report(etl.Event{Time: time.Now().UTC(), Type: etl.EventError, Message: err.Error(), Data: data})
		return exitError
	}
	summary := fmt.Sprintf("%s finished in %s", mode, res.Elapsed.Round(time.Millisecond))
	if opts.Plan {
		if res.Changed() {
			summary += "; changes planned, nothing written"
		} else {
			summary += "; no changes"
		}
	}
	skipped := res.Skipped()
	if skipped > 0 {
		summary += fmt.Sprintf("; %d item(s) skipped (see the warning), exit status %d", skipped, exitSkipped)
	}
	rep.Report(etl.Event{Time: time.Now().UTC(), Type: etl.EventSummary, Message: summary, Data: map[string]any{
		"status": "ok", "mode": mode, "elapsed_seconds": res.Elapsed.Seconds(), "changed": res.Changed(), "resumed_partitions": res.Resumed,
		"skipped": skipped, "saved_partitions": res.Saved, "state_bytes_per_partition": median(res.CommitBytes),
	}})
	switch {
	case skipped > 0:
		// Before exitChanges: a plan that skipped lookups is incomplete,
		// whether or not --detailed-exitcode asked about changes.
		return exitSkipped
	case opts.Plan && res.Changed():
		return exitChanges
	}
	return exitOK
}

// maxSkippedLines bounds the skipped items the text report lists; the
// JSON event holds them all.
const maxSkippedLines = 50

// reportSkipped lists, per block, what it skipped instead of failing the
// run (etl.Skipper), as a warning.
func reportSkipped(rep etl.Reporter, res *etl.Result) {
	for _, br := range res.Blocks {
		if len(br.Skipped) == 0 {
			continue
		}
		lines := []string{fmt.Sprintf("%s skipped %d item(s) it could not process; they are not in the output:", br.Addr, len(br.Skipped))}
		for i, s := range br.Skipped {
			if i == maxSkippedLines {
				lines = append(lines, fmt.Sprintf("  ... and %d more (--output json lists them all)", len(br.Skipped)-i))
				break
			}
			lines = append(lines, "  "+s)
		}
		rep.Report(etl.Event{Time: time.Now().UTC(), Type: etl.EventWarning, Block: br.Addr.String(), Message: strings.Join(lines, "\n"),
			Data: map[string]any{"skipped": br.Skipped}})
	}
}

// interruptedMessage says where an interrupted run stopped and what the
// checkpoint holds.
func interruptedMessage(res *etl.Result, statePath string, plan bool) string {
	if res == nil {
		res = &etl.Result{} // interrupted before the run started (preflight)
	}
	switch {
	case plan:
		return "interrupted; a plan writes nothing"
	case res.Saved > 0:
		return fmt.Sprintf("interrupted after %s: %d partition(s) checkpointed in this run (%d before it) in %s; run again to resume", res.LastSaved, res.Saved, res.Resumed, statePath)
	case res.Resumed > 0:
		return fmt.Sprintf("interrupted before another partition finished; %s still holds the %d partition(s) done before; run again to resume", statePath, res.Resumed)
	}
	return "interrupted before any partition finished; nothing was checkpointed"
}

// reportVariables shows the values a plan uses; sensitive ones masked.
func reportVariables(rep etl.Reporter, p *etl.Pipeline) {
	if len(p.Variables) == 0 {
		return
	}
	var b strings.Builder
	b.WriteString("Variables:\n")
	data := map[string]any{}
	for _, v := range p.Variables {
		val := "(sensitive)"
		if !v.Sensitive {
			val = formatValue(v.Value)
		}
		fmt.Fprintf(&b, "  %s = %s  (%s)\n", v.Name, val, v.From)
		data[v.Name] = val
	}
	rep.Report(etl.Event{Time: time.Now().UTC(), Type: etl.EventInfo, Message: strings.TrimRight(b.String(), "\n"), Data: map[string]any{"variables": data}})
}

// reportTimestamp says what timestamp() returned, once (done: already
// said), when the pipeline called it: the run that follows a plan is given
// the same with --timestamp, so that both evaluate the pipeline alike.
func reportTimestamp(rep etl.Reporter, p *etl.Pipeline, done bool) bool {
	t, used := p.Timestamp()
	if done || !used {
		return done
	}
	ts := t.Format(time.RFC3339)
	rep.Report(etl.Event{Time: time.Now().UTC(), Type: etl.EventInfo,
		Message: fmt.Sprintf("timestamp() = %s (--timestamp %s gives another command the same)", ts, ts),
		Data:    map[string]any{"timestamp": ts}})
	return true
}

// reportResult prints the per-block counts and the sinks' changes.
func reportResult(rep etl.Reporter, res *etl.Result, plan bool) {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	// The columns count records, not keys: behind a stage that emits
	// updates (dedupe_latest's emit = "updates") one phone may pass
	// several times, so the header says what is counted, and per-key
	// figures come in the blocks' own lines below.
	fmt.Fprintln(tw, "block\trecords in\trecords out\trecords dropped\t")
	for _, br := range res.Blocks {
		in, out := fmt.Sprint(br.In), fmt.Sprint(br.Out)
		if br.Addr.Kind == etl.KindSource {
			in = "-"
		}
		if br.Addr.Kind == etl.KindSink {
			out = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", br.Addr, in, out, describeCounts(br.Dropped, true))
		data := map[string]any{
			"in": br.In, "out": br.Out, "dropped": nonNil(br.Dropped), "counts": nonNil(br.Counts),
			"elapsed_seconds": br.Elapsed.Seconds(), "input_wait_seconds": br.WaitIn.Seconds(), "output_wait_seconds": br.WaitOut.Seconds(),
		}
		if br.Outcomes != nil {
			data["outcomes"] = br.Outcomes
		}
		rep.Report(etl.Event{Time: time.Now().UTC(), Type: etl.EventBlock, Block: br.Addr.String(), Data: data})
	}
	tw.Flush()
	var extra []string
	for _, br := range res.Blocks {
		if len(br.Counts) > 0 {
			extra = append(extra, fmt.Sprintf("  %s: %s", br.Addr, describeCounts(br.Counts, false)))
		}
	}
	msg := strings.TrimRight(b.String(), "\n")
	if len(extra) > 0 {
		msg += "\n" + strings.Join(extra, "\n")
	}
	if res.Resumed > 0 {
		msg += fmt.Sprintf("\n%d partition(s) came from the checkpoint and were not fetched again", res.Resumed)
	}
	rep.Report(etl.Event{Time: time.Now().UTC(), Type: etl.EventInfo, Message: msg})
	for _, ch := range res.Changes {
		verb := "changed"
		if plan {
			verb = "would change"
		}
		if !ch.Changed {
			verb = "no change"
		}
		lines := []string{fmt.Sprintf("%s (%s): %s", ch.Block, verb, ch.Summary)}
		for _, d := range ch.Details {
			lines = append(lines, "  "+d)
		}
		data := map[string]any{"changed": ch.Changed, "summary": ch.Summary, "details": ch.Details, "plan": plan}
		if len(ch.Counts) > 0 {
			data["counts"] = ch.Counts
		}
		if ch.Size != nil {
			data["size"] = ch.Size
		}
		rep.Report(etl.Event{Time: time.Now().UTC(), Type: etl.EventChange, Block: ch.Block.String(), Message: strings.Join(lines, "\n"), Data: data})
	}
}

// median is the middle of xs (0 when empty): the state bytes a typical
// partition's commit wrote.
func median(xs []int) int {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	return s[len(s)/2]
}

// nonNil makes an empty count map encode as {} rather than null, so that
// JSON consumers see one shape.
func nonNil(m map[string]int64) map[string]int64 {
	if m == nil {
		return map[string]int64{}
	}
	return m
}

// describeCounts renders {"a": 2, "b": 1} as "3 (a 2, b 1)" or, without
// total, "a 2, b 1".
func describeCounts(m map[string]int64, total bool) string {
	if len(m) == 0 {
		if total {
			return "0"
		}
		return ""
	}
	keys := make([]string, 0, len(m))
	var sum int64
	for k, v := range m {
		keys = append(keys, k)
		sum += v
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	if !total {
		return strings.Join(parts, ", ")
	}
	return fmt.Sprintf("%d (%s)", sum, strings.Join(parts, ", "))
}
