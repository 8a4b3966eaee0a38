package runreport

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/etlhq/etl/etl"
)

// ReadEvents reads a saved `--output json` stream, one event per line.
// Lines that are not JSON objects (a demo's own headings, say) are skipped;
// a line that is an object but not an event is an error naming the line.
func ReadEvents(r io.Reader) ([]etl.Event, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 64*1024*1024)
	var events []etl.Event
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(text, "{") {
			continue
		}
		var e etl.Event
		if err := json.Unmarshal([]byte(text), &e); err != nil {
			return nil, fmt.Errorf("line %d: not an event of `etl --output json`: %v", line, err)
		}
		if e.Type == "" {
			return nil, fmt.Errorf("line %d: not an event of `etl --output json`: no \"type\"", line)
		}
		events = append(events, e)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("no events: expected the output of `etl run --output json`, one JSON object per line")
	}
	return events, nil
}

// Recorder is a Reporter that keeps every event as `--output json` would
// write it (its data passed through JSON), so that a report built during a
// run is the one a saved stream gives.
type Recorder struct {
	mu     sync.Mutex
	events []etl.Event
}

// Report keeps e.
func (r *Recorder) Report(e etl.Event) {
	if b, err := json.Marshal(e); err == nil {
		var c etl.Event
		if json.Unmarshal(b, &c) == nil {
			e = c
		}
	}
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// Events returns the events kept so far.
func (r *Recorder) Events() []etl.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]etl.Event(nil), r.events...)
}

// Tee is a Reporter that hands every event to each of its reporters.
type Tee []etl.Reporter

// Report sends e to every reporter.
func (t Tee) Report(e etl.Event) {
	for _, r := range t {
		r.Report(e)
	}
}

var _ etl.Reporter = (*Recorder)(nil)
var _ etl.Reporter = Tee(nil)
