package etl

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// Event types, the "type" field of `--output json` lines.
const (
	EventStart      = "start"      // a run or plan starts: its settings (no message)
	EventInfo       = "info"       // a human message
	EventWarning    = "warning"    // something the user should look at
	EventProgress   = "progress"   // work under way (lookups done, bytes read)
	EventPartition  = "partition"  // a stage finished a partition
	EventChange     = "change"     // the change a sink made or would make
	EventBlock      = "block"      // a block's counts at the end of the run
	EventSummary    = "summary"    // the run's end: status and elapsed time
	EventError      = "error"      // the error that stopped the run
	EventDiagnostic = "diagnostic" // a problem in the pipeline file (--output json)
	EventTest       = "test"       // a pipeline test's outcome (etl test)
)

// FinalProgress is the Data key of a progress event that closes a series
// ("3968 phones checked" at the end): it is always printed, however recent
// the previous progress line.
const FinalProgress = "final"

// Event is one report item. Message is the line a person reads; Data holds
// the same facts for machines.
type Event struct {
	Time      time.Time      `json:"time"`
	Type      string         `json:"type"`
	Block     string         `json:"block,omitempty"`
	Partition string         `json:"partition,omitempty"`
	Message   string         `json:"message,omitempty"`
	Data      map[string]any `json:"data,omitempty"`
}

// Reporter receives the events of a run. Implementations are safe for
// concurrent use: every stage reports from its own goroutine.
type Reporter interface {
	Report(e Event)
}

// ReporterFunc adapts a function to Reporter.
type ReporterFunc func(Event)

// Report calls f(e).
func (f ReporterFunc) Report(e Event) { f(e) }

// Discard is a Reporter that drops everything.
var Discard Reporter = ReporterFunc(func(Event) {})

// TextReporter writes each event's Message as a line; with Quiet only
// errors. Progress events are printed at most once per ProgressEvery per
// block so that a fast run does not flood the terminal.
type TextReporter struct {
	W io.Writer
	// Err, when set, receives warnings and errors instead of W.
	Err           io.Writer
	Quiet         bool
	ProgressEvery time.Duration

	mu           sync.Mutex
	lastProgress map[string]time.Time
}

// Report writes e.
func (t *TextReporter) Report(e Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.Quiet && e.Type != EventError {
		return
	}
	if e.Message == "" {
		return
	}
	if final, _ := e.Data[FinalProgress].(bool); e.Type == EventProgress && t.ProgressEvery > 0 && !final {
		if t.lastProgress == nil {
			t.lastProgress = map[string]time.Time{}
		}
		now := time.Now()
		if now.Sub(t.lastProgress[e.Block]) < t.ProgressEvery {
			return
		}
		t.lastProgress[e.Block] = now
	}
	errw := t.W
	if t.Err != nil {
		errw = t.Err
	}
	switch e.Type {
	case EventWarning:
		fmt.Fprintf(errw, "warning: %s\n", e.Message)
	case EventError:
		fmt.Fprintf(errw, "error: %s\n", e.Message)
	default:
		fmt.Fprintln(t.W, e.Message)
	}
}

// JSONReporter writes one JSON object per event and line.
type JSONReporter struct {
	W     io.Writer
	Quiet bool

	mu sync.Mutex
}

// Report writes e as a JSON line.
func (j *JSONReporter) Report(e Event) {
	if j.Quiet && e.Type != EventError {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	b, err := json.Marshal(e)
	if err != nil {
		b, _ = json.Marshal(Event{Time: e.Time, Type: EventError, Block: e.Block, Message: "unencodable event: " + err.Error()})
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.W.Write(append(b, '\n'))
}

// Report sends an event from the stage, stamped with its address and time.
func (env Env) Report(typ, partition, message string, data map[string]any) {
	if env.Events == nil {
		return
	}
	env.Events.Report(Event{Time: time.Now().UTC(), Type: typ, Block: env.Addr.String(), Partition: partition, Message: message, Data: data})
}
