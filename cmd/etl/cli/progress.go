package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/vbauerster/cupwriter"
)

// The run's progress, as the CLI shows it. The engine sends an
// etl.Progress every so often (RunOptions.ProgressEvery); what is done with
// it depends on where the report goes:
//   - a terminal: a live status redrawn in place under the lines that
//     scroll (liveView, with mpb);
//   - anything else (a pipe, CI, a journal): a plain line at most every
//     --progress-interval, no control character (plainView);
//   - --output json: the event itself, every --progress-interval;
//   - --quiet: nothing.

// liveRefresh is how often the engine sends progress to a live view: the
// status redraws about as often as a person reads it.
const liveRefresh = 500 * time.Millisecond

// progressView shows the run's progress events.
type progressView interface {
	show(p etl.Progress)
	// stop draws the last state and gives the terminal back.
	stop()
}

// startProgress sets how often the engine reports progress and, for a text
// report, which view shows it; the returned function stops the view.
func (a *app) startProgress(opts *etl.RunOptions) (stop func()) {
	switch {
	case a.globals.Quiet:
		return func() {}
	case a.globals.Output == "json":
		opts.ProgressEvery = a.globals.ProgressInterval
		return func() {}
	}
	a.reporter()
	tr := a.text
	if a.terminal(a.stdout) {
		opts.ProgressEvery = liveRefresh
		v := newLiveView(a.stdout)
		tr.setView(v)
		// Lines written meanwhile go above the status.
		tr.out.set(v)
		if a.terminal(a.stderr) {
			a.errOut.set(v)
		}
		return func() {
			v.stop()
			tr.setView(nil)
			tr.out.set(a.stdout)
			a.errOut.set(a.stderr)
		}
	}
	// The engine reports more often than a line is printed: a tick
	// delivered a little early must not wait a whole interval more.
	opts.ProgressEvery = min(liveRefresh, a.globals.ProgressInterval)
	tr.setView(newPlainView(tr.out, a.globals.ProgressInterval, time.Now))
	return func() { tr.setView(nil) }
}

// terminal reports whether w is a terminal that can redraw lines in place
// (not one whose TERM is dumb).
func (a *app) terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || slices.Contains(a.environ, "TERM=dumb") {
		return false
	}
	return cupwriter.New(f, false).IsTerminal()
}

// textReporter is the text report: etl.TextReporter's lines, the progress
// view, and the closing summary's figures.
type textReporter struct {
	text *etl.TextReporter
	out  *switchWriter

	mu   sync.Mutex
	view progressView
}

func newTextReporter(a *app) *textReporter {
	out := &switchWriter{w: a.stdout}
	// A block's own progress lines (when no view shows the run's) at most
	// every 2 s per block.
	return &textReporter{out: out, text: &etl.TextReporter{W: out, Err: a.errOut, Quiet: a.globals.Quiet, ProgressEvery: 2 * time.Second}}
}

func (t *textReporter) setView(v progressView) {
	t.mu.Lock()
	t.view = v
	t.mu.Unlock()
}

// Report shows the run's progress in the view, drops the blocks' own
// progress lines while a view shows the run's (their last one, which
// closes a series, stays), and adds figures to the summary's lines.
func (t *textReporter) Report(e etl.Event) {
	if p, ok := etl.ProgressOf(e); ok {
		t.mu.Lock()
		v := t.view
		t.mu.Unlock()
		if v != nil && !t.text.Quiet {
			v.show(p)
		}
		return
	}
	if final, _ := e.Data[etl.FinalProgress].(bool); e.Type == etl.EventProgress && !final {
		t.mu.Lock()
		viewing := t.view != nil
		t.mu.Unlock()
		if viewing {
			return
		}
	}
	if lines := figureLines(e); len(lines) > 0 {
		if e.Message == "" {
			e.Type = etl.EventInfo
			e.Message = strings.Join(lines, "\n")
		} else {
			e.Message += "\n" + strings.Join(lines, "\n")
		}
	}
	t.text.Report(e)
}

// switchWriter writes to w, which may be switched while in use: to the
// live view, whose Write prints above the status, and back.
type switchWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *switchWriter) set(w io.Writer) {
	s.mu.Lock()
	s.w = w
	s.mu.Unlock()
}

func (s *switchWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	w := s.w
	s.mu.Unlock()
	return w.Write(b)
}

// plainView prints a line at most every interval, as Terraform's "Still
// creating... [10s elapsed]": for a pipe, CI or a journal, where a status
// redrawn in place would be a mess of control characters.
type plainView struct {
	w     io.Writer
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	last time.Time
}

func newPlainView(w io.Writer, every time.Duration, now func() time.Time) *plainView {
	return &plainView{w: w, every: every, now: now, last: now()}
}

func (v *plainView) show(p etl.Progress) {
	if p.Final {
		return // the closing summary follows
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	if now.Sub(v.last) < v.every {
		return
	}
	v.last = now
	fmt.Fprintln(v.w, plainLine(p))
}

func (v *plainView) stop() {}

// plainLine is one line of progress: "Still running... [1m10s elapsed,
// about 2m30s left] source.bland_calls.calls: 12/38 dates, 14.2 MB at
// 1.1 MB/s | filter.convoso_status.redialable: 1234/1500 phones, ...".
func plainLine(p etl.Progress) string {
	parts := make([]string, 0, len(p.Blocks))
	for _, b := range p.Blocks {
		parts = append(parts, b.Block+": "+joinNonEmpty(", ", doneText(b), activityText(b)))
	}
	return fmt.Sprintf("Still running... [%s] %s", clockText(p), strings.Join(parts, " | "))
}

// clockText is "1m10s elapsed, about 2m30s left".
func clockText(p etl.Progress) string {
	s := duration(p.ElapsedSeconds) + " elapsed"
	switch {
	case p.Final:
	case p.ETASeconds == nil:
		s += ", time left not known yet"
	default:
		s += ", about " + duration(*p.ETASeconds) + " left"
	}
	return s
}

// doneText is "12/38 dates" or "1234/1500 phones" ("12/? dates" while the
// total is not known).
func doneText(b etl.BlockProgress) string {
	switch {
	case b.Partitions != nil:
		total := "?"
		if b.Partitions.Total != nil {
			total = fmt.Sprint(*b.Partitions.Total)
		}
		return fmt.Sprintf("%d/%s %s", b.Partitions.Done, total, cmpOr(b.Partitions.Unit, "partitions"))
	case b.Keys != nil:
		return fmt.Sprintf("%d/%d %s", b.Keys.Done, b.Keys.Known, cmpOr(b.Keys.Unit, "keys"))
	}
	return ""
}

// activityText is what the block's API traffic looks like: "14.2 MB at
// 1.1 MB/s, 38 requests" or "1300 requests at 9.8/s, 3 retries, 1 × 429".
func activityText(b etl.BlockProgress) string {
	var parts []string
	if b.Bytes > 0 && b.Partitions != nil {
		parts = append(parts, fmt.Sprintf("%s at %s/s", humanBytes(b.Bytes), humanBytes(int64(b.BytesPerSecond))))
	}
	if b.Requests > 0 {
		r := plural(b.Requests, "request")
		if b.Partitions == nil {
			r += fmt.Sprintf(" at %.1f/s", b.RequestsPerSecond)
		}
		parts = append(parts, r)
	}
	if b.Retries > 0 {
		parts = append(parts, plural(b.Retries, "retry"))
	}
	if b.RateLimited > 0 {
		parts = append(parts, fmt.Sprintf("%d × 429", b.RateLimited))
	}
	return strings.Join(parts, ", ")
}

func joinNonEmpty(sep string, s ...string) string {
	return strings.Join(slices.DeleteFunc(s, func(x string) bool { return x == "" }), sep)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// duration renders seconds as "45s", "1m10s", "2h05m".
func duration(sec float64) string {
	d := time.Duration(sec * float64(time.Second)).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
