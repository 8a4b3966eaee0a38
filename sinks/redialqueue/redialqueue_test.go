package redialqueue

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// queueRel is where the test pipelines put the queue, under the test's dir.
const queueRel = "data/redial-queue/redial-queue_2026-01.json"

// pipeline returns a pipeline feeding the given calls (HCL list items) to
// the redial_queue sink, next_attempt at 11:00 New York on endDate.
func pipeline(endDate string, calls ...string) string {
	return fmt.Sprintf(`
source "calls" "c" {
  calls = [
    %s
  ]
}
sink "redial_queue" "queue" {
  input        = source.calls.c
  path         = "data/redial-queue/redial-queue_${formatdate("YYYY-MM", "%sT00:00:00Z")}.json"
  key          = record.phone
  lead_id      = record.lead_id
  created_at   = record.created_at
  next_attempt = local_time(%q, "11:00", "America/New_York")
  metadata     = { call_id = record.call_id, batch_id = record.batch_id, source = "bland_backfill" }
}
`, strings.Join(calls, ",\n    "), endDate, endDate)
}

// call is one record of the calls source.
func call(date, ph, lead, id string) string {
	return fmt.Sprintf(`{ date = %q, phone = %q, lead_id = %q, call_id = %q, batch_id = "b-%s", created_at = "%sT14:30:00.123456789Z" }`,
		date, ph, lead, id, date, date)
}

// baseCalls: two dates; 5619565858 twice (the later record must win), a
// formatted phone that normalizes, an invalid one and a null one.
var baseCalls = []string{
	call("2025-12-15", "5619565858", "111111", "c1"),
	call("2025-12-15", "+1 (561) 555-0003", "333333", "c2"),
	call("2025-12-15", "555-0000", "999999", "c3"),
	call("2025-12-15", "null", "999998", "c4"),
	call("2025-12-16", "5619565858", "123456", "c5"),
	call("2025-12-16", "7725550199", "777777", "c6"),
}

type harness struct {
	t   *testing.T
	dir string

	mu     sync.Mutex
	events []etl.Event
}

func newHarness(t *testing.T) *harness { return &harness{t: t, dir: t.TempDir()} }

func (h *harness) queue() string { return filepath.Join(h.dir, queueRel) }

// run loads src from a pipeline file outside h.dir (so that hashing h.dir
// sees only what the sink does) with paths resolved against h.dir.
func (h *harness) run(src string, opts etl.RunOptions) (*etl.Result, error) {
	h.t.Helper()
	reg := etl.NewRegistry()
	Register(reg)
	registerCalls(reg)
	pdir := h.t.TempDir()
	path := filepath.Join(pdir, "p.hcl")
	src = strings.Replace(src, `path         = "data/`, fmt.Sprintf(`path         = "%s/data/`, h.dir), 1)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		h.t.Fatal(err)
	}
	p, diags := etl.Load(path, etl.LoadOptions{Registry: reg})
	if diags.HasErrors() {
		h.t.Fatalf("load: %s", diags.Error())
	}
	opts.Events = etl.ReporterFunc(func(e etl.Event) {
		h.mu.Lock()
		h.events = append(h.events, e)
		h.mu.Unlock()
	})
	return p.Run(context.Background(), opts)
}

func (h *harness) write(rel string, data []byte) {
	h.t.Helper()
	p := filepath.Join(h.dir, rel)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) read(rel string) []byte {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(h.dir, rel))
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	etltest.Golden(t, filepath.Join("testdata", name), got, *update)
}

func sinkResult(t *testing.T, res *etl.Result) (etl.Change, etl.BlockResult) {
	t.Helper()
	for _, b := range res.Blocks {
		if b.Addr.Kind == etl.KindSink {
			return res.Changes[0], b
		}
	}
	t.Fatal("no sink in result")
	return etl.Change{}, etl.BlockResult{}
}

func TestNewQueue(t *testing.T) {
	h := newHarness(t)
	res, err := h.run(pipeline("2026-01-07", baseCalls...), etl.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "new.golden.json", h.read(queueRel))
	c, b := sinkResult(t, res)
	if want := fmt.Sprintf("added 3 entries, 0 already queued: %s (created)", h.queue()); c.Summary != want || !c.Changed {
		t.Errorf("change %+v, want %q", c, want)
	}
	if b.Dropped[dropInvalidPhone] != 1 || b.Dropped[dropNoPhone] != 1 {
		t.Errorf("dropped %v, want 1 invalid phone and 1 no phone", b.Dropped)
	}
	if _, err := os.Stat(h.queue() + ".bak"); err == nil {
		t.Error("a backup of a file that did not exist")
	}
	// The lock file stays, released: another run takes it at once.
	if unlock, err := lockFile(h.queue()+".lock", 0); err != nil {
		t.Errorf("the queue's lock was not released: %v", err)
	} else {
		unlock()
	}
}

// existing is a queue as the queue processor leaves it: one entry for a
// phone this run also has (already called once, odd spacing and an extra
// field), one this run does not know.
const existing = `{
  "5619565858": {"lead_id": "123456", "phone_number": "5619565858", "status": "called",   "attempts": 1, "last_attempt": "2026-01-02T16:00:05.000Z", "next_attempt": null, "created_at": "2025-12-01T10:00:00.000Z", "metadata": {"note": "kept as is"}, "disposition": "NA"},
  "3055550142": {
    "lead_id": "42",
    "phone_number": "3055550142",
    "status": "pending",
    "attempts": 0,
    "last_attempt": null,
    "next_attempt": "2025-12-20T16:00:00.000Z",
    "created_at": "2025-11-30T09:00:00.000Z",
    "metadata": {}
  }
}
`

func TestMergeKeepsExistingEntries(t *testing.T) {
	h := newHarness(t)
	h.write(queueRel, []byte(existing))
	res, err := h.run(pipeline("2026-01-07", baseCalls...), etl.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := h.read(queueRel)
	golden(t, "merged.golden.json", got)
	members, err := parseQueue([]byte(existing))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if !bytes.Contains(got, []byte(fmt.Sprintf("%q: %s", m.key, m.raw))) {
			t.Errorf("entry %s not kept byte for byte", m.key)
		}
	}
	if !strings.HasPrefix(string(got), `{
  "5619565858": {"lead_id": "123456", "phone_number": "5619565858", "status": "called",`) {
		t.Error("existing entries do not come first in their order")
	}
	if bak := h.read(queueRel + ".bak"); string(bak) != existing {
		t.Errorf(".bak is not the previous file:\n%s", bak)
	}
	c, b := sinkResult(t, res)
	if want := fmt.Sprintf("added 2 entries, 1 already queued: %s (4 entries after the merge)", h.queue()); c.Summary != want {
		t.Errorf("change %q, want %q", c.Summary, want)
	}
	if b.Counts["added"] != 2 || b.Counts["already queued"] != 1 {
		t.Errorf("counts %v", b.Counts)
	}
	// The change's parts and the queue's size, for the report's chart.
	if want := []etl.Count{{Name: "added", N: 2}, {Name: "already queued", N: 1}}; !slices.Equal(c.Counts, want) {
		t.Errorf("change counts %v, want %v", c.Counts, want)
	}
	if want := (etl.Size{Unit: "entries", Before: 2, After: 4}); c.Size == nil || *c.Size != want {
		t.Errorf("change size %+v, want %+v", c.Size, want)
	}

	// A second run has nothing to add and touches nothing.
	before := etltest.HashTree(t, h.dir, true)
	res, err = h.run(pipeline("2026-01-07", baseCalls...), etl.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := sinkResult(t, res); c.Changed || !strings.HasPrefix(c.Summary, "added 0 entries, 3 already queued") {
		t.Errorf("second run: %+v", c)
	}
	if etltest.HashTree(t, h.dir, true) != before {
		t.Error("second run changed the directory")
	}
}

func TestPlanWritesNothing(t *testing.T) {
	tests := []struct {
		name       string
		existing   string
		opts       etl.RunOptions
		summary    string // %s is the queue path
		details    []string
		createsDir bool
	}{
		{
			name:    "no file",
			opts:    etl.RunOptions{Plan: true},
			summary: "would add 3 entries, 0 already queued: %s (would create it)",
		},
		{
			name:     "existing file, entries shown masked",
			existing: existing,
			opts:     etl.RunOptions{Plan: true, ShowEntries: true},
			summary:  "would add 2 entries, 1 already queued: %s (4 entries after the merge)",
			details: []string{
				"+ ******0003  lead_id 333333  next_attempt 2026-01-07T16:00:00.000Z",
				"+ ******0199  lead_id 777777  next_attempt 2026-01-07T16:00:00.000Z",
			},
		},
		{
			name:     "unmasked",
			existing: existing,
			opts:     etl.RunOptions{Plan: true, ShowEntries: true, Unmask: true},
			summary:  "would add 2 entries, 1 already queued: %s (4 entries after the merge)",
			details: []string{
				"+ 5615550003  lead_id 333333  next_attempt 2026-01-07T16:00:00.000Z",
				"+ 7725550199  lead_id 777777  next_attempt 2026-01-07T16:00:00.000Z",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if tt.existing != "" {
				h.write(queueRel, []byte(tt.existing))
			}
			before := etltest.HashTree(t, h.dir, true)
			res, err := h.run(pipeline("2026-01-07", baseCalls...), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if etltest.HashTree(t, h.dir, true) != before {
				t.Error("plan changed the directory")
			}
			c, _ := sinkResult(t, res)
			if want := fmt.Sprintf(tt.summary, h.queue()); c.Summary != want || !c.Changed {
				t.Errorf("change %+v, want %q", c, want)
			}
			if fmt.Sprint(c.Details) != fmt.Sprint(tt.details) {
				t.Errorf("details\n%q\nwant\n%q", c.Details, tt.details)
			}
		})
	}
}

// TestConcurrentWriterLosesNothing: the queue processor rewrites the file
// between our read and our rename; the merge is redone on its version.
func TestConcurrentWriterLosesNothing(t *testing.T) {
	h := newHarness(t)
	h.write(queueRel, []byte(existing))
	processed := strings.Replace(existing, `"status": "pending",
    "attempts": 0,
    "last_attempt": null,`, `"status": "called",
    "attempts": 1,
    "last_attempt": "2026-01-07T16:00:02.000Z",`, 1)
	processed = strings.Replace(processed, "\n}\n", `,
  "4075550123": {"lead_id": "9", "phone_number": "4075550123", "status": "pending", "attempts": 0, "last_attempt": null, "next_attempt": "2026-01-08T16:00:00.000Z", "created_at": "2026-01-07T12:00:00.000Z", "metadata": {}}
}
`, 1)
	calls := 0
	beforeRename = func(path string) {
		calls++
		if calls == 1 {
			if err := os.WriteFile(path, []byte(processed), 0o644); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(func() { beforeRename = nil })
	res, err := h.run(pipeline("2026-01-07", baseCalls...), etl.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("merged %d times, want 2", calls)
	}
	got := h.read(queueRel)
	members, _ := parseQueue([]byte(processed))
	for _, m := range members {
		if !bytes.Contains(got, []byte(fmt.Sprintf("%q: %s", m.key, m.raw))) {
			t.Errorf("the concurrent writer's entry %s was lost or changed", m.key)
		}
	}
	all, err := parseQueue(got)
	if err != nil || len(all) != 5 {
		t.Errorf("%d entries (%v), want 3 of the processor's and 2 added", len(all), err)
	}
	if bak := h.read(queueRel + ".bak"); string(bak) != processed {
		t.Error(".bak is not the version we replaced")
	}
	if c, _ := sinkResult(t, res); !strings.HasPrefix(c.Summary, "added 2 entries, 1 already queued") {
		t.Errorf("change %q", c.Summary)
	}
	if ents, _ := os.ReadDir(filepath.Dir(h.queue())); len(ents) != 3 {
		t.Errorf("directory holds %v, want the queue, its .bak and its (released) .lock", ents)
	}
}

// TestBadFileStopsBeforeAnyRead: a queue file that is not a JSON object
// fails the run while the pipeline is built, before any source reads
// (and so before any API request), and is left untouched.
func TestBadFileStopsBeforeAnyRead(t *testing.T) {
	tests := []struct{ name, content, want string }{
		{"truncated", `{"5619565858": {"lead_id": "1"`, "unexpected EOF"},
		{"not an object", `["5619565858"]`, "not an object"},
		{"trailing garbage", `{} {}`, "data after the object"},
		{"empty", ``, "EOF"},
	}
	for _, tt := range tests {
		for _, plan := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s plan=%v", tt.name, plan), func(t *testing.T) {
				h := newHarness(t)
				h.write(queueRel, []byte(tt.content))
				before := etltest.HashTree(t, h.dir, true)
				n := reads.Load()
				_, err := h.run(pipeline("2026-01-07", baseCalls...), etl.RunOptions{Plan: plan})
				if err == nil || !strings.Contains(err.Error(), h.queue()) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want one naming %s and %q", err, h.queue(), tt.want)
				}
				if reads.Load() != n {
					t.Error("the source was started")
				}
				if etltest.HashTree(t, h.dir, true) != before {
					t.Error("the bad file or its directory was touched")
				}
			})
		}
	}
}

func TestNextAttemptDST(t *testing.T) {
	tests := []struct{ endDate, want string }{
		{"2026-01-07", `"next_attempt": "2026-01-07T16:00:00.000Z"`},
		{"2026-07-07", `"next_attempt": "2026-07-07T15:00:00.000Z"`},
	}
	for _, tt := range tests {
		t.Run(tt.endDate, func(t *testing.T) {
			h := newHarness(t)
			src := strings.Replace(pipeline(tt.endDate, baseCalls[0]), tt.endDate[:7], "2026-01", 1) // same queue file name
			if _, err := h.run(src, etl.RunOptions{}); err != nil {
				t.Fatal(err)
			}
			if got := h.read(queueRel); !bytes.Contains(got, []byte(tt.want)) {
				t.Errorf("queue lacks %s:\n%s", tt.want, got)
			}
		})
	}
}

func TestLockedQueueFails(t *testing.T) {
	h := newHarness(t)
	h.write(queueRel, []byte(existing))
	unlock, err := lockFile(h.queue()+".lock", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	old := lockWait
	lockWait = 200 * time.Millisecond
	t.Cleanup(func() { lockWait = old })
	_, err = h.run(pipeline("2026-01-07", baseCalls...), etl.RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("err = %v, want a lock error", err)
	}
	if string(h.read(queueRel)) != existing {
		t.Error("queue changed while another run held the lock")
	}
}

// A writer that comes between the merge's first plan and its lock: the
// merge plans again on the file as it is then (a phone the writer queued
// is not added twice), rather than reusing the plan it made before.
func TestWriterBeforeTheLockIsSeen(t *testing.T) {
	h := newHarness(t)
	h.write(queueRel, []byte(existing))
	theirs := `{"lead_id": "7", "phone_number": "7725550199", "status": "called", "attempts": 2, "last_attempt": "2026-01-06T16:00:00.000Z", "next_attempt": null, "created_at": "2025-12-16T12:00:00.000Z", "metadata": {}}`
	processed := strings.Replace(existing, "\n}\n", ",\n  \"7725550199\": "+theirs+"\n}\n", 1)
	beforeLock = func(path string) {
		if err := os.WriteFile(path, []byte(processed), 0o644); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() { beforeLock = nil })
	res, err := h.run(pipeline("2026-01-07", baseCalls...), etl.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := sinkResult(t, res); !strings.HasPrefix(c.Summary, "added 1 entries, 2 already queued") {
		t.Errorf("change %q", c.Summary)
	}
	if got := h.read(queueRel); !bytes.Contains(got, []byte(`"7725550199": `+theirs)) {
		t.Errorf("the writer's entry was replaced:\n%s", got)
	}
}
