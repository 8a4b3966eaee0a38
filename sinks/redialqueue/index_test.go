package redialqueue

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
)

// queueEntry is a well-formed entry for phone_number ph.
func queueEntry(ph string) string {
	return fmt.Sprintf(`{"lead_id": "1", "phone_number": %q, "status": "pending", "attempts": 0, "last_attempt": null, "next_attempt": "2026-01-02T16:00:00.000Z", "created_at": "2026-01-01T10:00:00.000Z", "metadata": {}}`, ph)
}

// queueFile renders key/value pairs as a queue file, one per line from
// line 2.
func queueFile(pairs ...string) string {
	var b strings.Builder
	b.WriteString("{\n")
	for i := 0; i < len(pairs); i += 2 {
		sep := ",\n"
		if i+2 == len(pairs) {
			sep = "\n"
		}
		fmt.Fprintf(&b, "  %q: %s%s", pairs[i], pairs[i+1], sep)
	}
	b.WriteString("}\n")
	return b.String()
}

// warnings returns the warning events of the run.
func (h *harness) warnings() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var w []string
	for _, e := range h.events {
		if e.Type == etl.EventWarning {
			w = append(w, e.Message)
		}
	}
	return w
}

// checkKept fails unless every member of file is in got with its exact
// bytes, in the same order, each once.
func checkKept(t *testing.T, file string, got []byte) {
	t.Helper()
	members, err := parseQueue([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	at := 0
	for _, m := range members {
		pair := []byte(fmt.Sprintf("%q: %s", m.key, m.raw))
		i := bytes.Index(got[at:], pair)
		if i < 0 {
			t.Errorf("entry %s (line %d) not kept byte for byte, in order", m.key, m.line)
			continue
		}
		at += i + len(pair)
	}
	if strings.Count(string(got), `"+15619565858":`) > strings.Count(file, `"+15619565858":`) {
		t.Error("an entry was written twice")
	}
}

// TestOtherSpellingIsAlreadyQueued: a phone of the run that the file
// queues under another spelling of its key ("+15619565858"), or as the
// phone_number of another key's entry, is not added again, in run and
// plan; the keys are counted and named.
func TestOtherSpellingIsAlreadyQueued(t *testing.T) {
	file := queueFile(
		"+15619565858", queueEntry("+15619565858"),
		"3055550142", queueEntry("(772) 555-0199"), // dials 7725550199
	)
	for _, plan := range []bool{false, true} {
		t.Run(fmt.Sprintf("plan=%v", plan), func(t *testing.T) {
			h := newHarness(t)
			h.write(queueRel, []byte(file))
			res, err := h.run(pipeline("2026-01-07", baseCalls...), etl.RunOptions{Plan: plan})
			if err != nil {
				t.Fatal(err)
			}
			got := h.read(queueRel)
			if plan {
				if string(got) != file {
					t.Error("plan wrote the queue")
				}
			} else {
				checkKept(t, file, got)
				all, _ := parseQueue(got)
				var keys []string
				for _, m := range all {
					keys = append(keys, m.key)
				}
				if want := []string{"+15619565858", "3055550142", "5615550003"}; !slices.Equal(keys, want) {
					t.Errorf("keys after the merge %v, want %v: a phone queued under another key was added again", keys, want)
				}
			}
			c, b := sinkResult(t, res)
			verb := "added"
			if plan {
				verb = "would add"
			}
			want := fmt.Sprintf("%s 1 entries, 2 already queued: %s (3 entries after the merge); warnings: 2 already queued under another key (not added again)", verb, h.queue())
			if c.Summary != want {
				t.Errorf("summary\n%q\nwant\n%q", c.Summary, want)
			}
			wantDetails := []string{
				"! ******5858 already queued under key ********5858 (line 2): not added again",
				"! ******0199 already queued under key ******0142 (line 3): not added again",
			}
			if !slices.Equal(c.Details, wantDetails) {
				t.Errorf("details\n%q\nwant\n%q", c.Details, wantDetails)
			}
			if b.Counts["queued under another key"] != 2 || b.Counts["already queued"] != 2 || b.Counts["added"] != 1 {
				t.Errorf("counts %v", b.Counts)
			}
			if w := h.warnings(); len(w) != 1 || !strings.Contains(w[0], "2 phone(s) of this run are already queued under another spelling") {
				t.Errorf("warnings %q", w)
			}
		})
	}
}

// TestTwoSpellingsInTheFile: a phone someone already queued under two
// spellings is not an error; both entries stay exactly, no third is
// added, and a warning names both keys.
func TestTwoSpellingsInTheFile(t *testing.T) {
	file := queueFile(
		"5619565858", queueEntry("5619565858"),
		"3055550142", queueEntry("3055550142"),
		"+15619565858", queueEntry("+15619565858"),
	)
	for _, plan := range []bool{false, true} {
		t.Run(fmt.Sprintf("plan=%v", plan), func(t *testing.T) {
			h := newHarness(t)
			h.write(queueRel, []byte(file))
			res, err := h.run(pipeline("2026-01-07", baseCalls...), etl.RunOptions{Plan: plan, Unmask: plan})
			if err != nil {
				t.Fatal(err)
			}
			got := h.read(queueRel)
			checkKept(t, file, got)
			if n := strings.Count(string(got), "5619565858\":"); n != 2 {
				t.Errorf("phone 5619565858 under %d keys after the merge, want the 2 it had", n)
			}
			c, b := sinkResult(t, res)
			if !strings.HasSuffix(c.Summary, "; warnings: 1 queued under several keys (kept, none added)") || !strings.Contains(c.Summary, "2 entries, 1 already queued") {
				t.Errorf("summary %q", c.Summary)
			}
			show := map[bool]string{false: "******5858", true: "5619565858"}[plan]
			showPlus := map[bool]string{false: "********5858", true: "+15619565858"}[plan]
			wantDetail := fmt.Sprintf("! %s queued under 2 keys, key %s (line 2) and key %s (line 4): all kept, none added", show, show, showPlus)
			if len(c.Details) == 0 || c.Details[0] != wantDetail {
				t.Errorf("details %q, want first %q", c.Details, wantDetail)
			}
			if b.Counts["queued under several keys"] != 1 {
				t.Errorf("counts %v", b.Counts)
			}
			if w := h.warnings(); len(w) != 1 || !strings.Contains(w[0], "1 phone(s) are queued under more than one key") {
				t.Errorf("warnings %q", w)
			}
		})
	}
}

// TestDuplicateKeyStopsBeforeAnyRead: a key written twice, character for
// character, fails run and plan while the pipeline is built, naming the
// key (masked) and both lines, and the file is left untouched. Two
// spellings of one phone are not this error (TestTwoSpellingsInTheFile).
func TestDuplicateKeyStopsBeforeAnyRead(t *testing.T) {
	tests := []struct{ name, file, want string }{
		{"10-digit key", queueFile("3055550142", queueEntry("3055550142"), "5619565858", queueEntry("5619565858"), "3055550142", queueEntry("3055550142")),
			"key ******0142 appears twice (lines 2 and 4)"},
		{"other spelling", queueFile("+13055550142", queueEntry("3055550142"), "+13055550142", `{}`),
			"key ********0142 appears twice (lines 2 and 3)"},
		{"not a phone", queueFile("lead-7", `[]`, "lead-7", `[]`), "key **ad-7 appears twice (lines 2 and 3)"},
	}
	for _, tt := range tests {
		for _, plan := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s plan=%v", tt.name, plan), func(t *testing.T) {
				h := newHarness(t)
				h.write(queueRel, []byte(tt.file))
				before := etltest.HashTree(t, h.dir, true)
				n := reads.Load()
				_, err := h.run(pipeline("2026-01-07", baseCalls...), etl.RunOptions{Plan: plan})
				if err == nil {
					t.Fatal("the duplicate key was accepted")
				}
				for _, want := range []string{"queue file " + h.queue(), tt.want, "Keep one of them", "left untouched"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				if reads.Load() != n {
					t.Error("the source was started")
				}
				if etltest.HashTree(t, h.dir, true) != before {
					t.Error("the file or its directory was touched")
				}
			})
		}
	}
}

// TestEntriesOfTheWrongShapeAreKept: entries that are not objects, lack a
// field the queue processor reads or are not under a phone are kept
// byte for byte, counted and reported, in run and plan.
func TestEntriesOfTheWrongShapeAreKept(t *testing.T) {
	file := queueFile(
		"3055550142", `"called back"`,
		"4075550123", `{"phone_number": "4075550123", "status": "pending"}`,
		"notes", queueEntry("not a phone"),
		"9545550100", queueEntry("9545550100"),
		"9545550101", `[1, 2]`,
	)
	for _, plan := range []bool{false, true} {
		t.Run(fmt.Sprintf("plan=%v", plan), func(t *testing.T) {
			h := newHarness(t)
			h.write(queueRel, []byte(file))
			res, err := h.run(pipeline("2026-01-07", baseCalls...), etl.RunOptions{Plan: plan})
			if err != nil {
				t.Fatal(err)
			}
			got := h.read(queueRel)
			checkKept(t, file, got)
			if all, _ := parseQueue(got); !plan && len(all) != 8 {
				t.Errorf("%d entries after the merge, want the 5 kept and 3 added", len(all))
			}
			c, b := sinkResult(t, res)
			if !strings.HasSuffix(c.Summary, "; warnings: 4 entries that are not queue entries (kept as they are)") {
				t.Errorf("summary %q", c.Summary)
			}
			want := []string{
				"! line 2, key ******0142: not a queue entry (not an object): kept as it is",
				"! line 3, key ******0123: not a queue entry (lacks lead_id, attempts, last_attempt, next_attempt, created_at, metadata): kept as it is",
				"! line 4, key *otes: not a queue entry (its key is not a phone): kept as it is",
				"! line 6, key ******0101: not a queue entry (not an object): kept as it is",
			}
			if !slices.Equal(c.Details, want) {
				t.Errorf("details\n%q\nwant\n%q", c.Details, want)
			}
			if b.Counts["not queue entries"] != 4 {
				t.Errorf("counts %v", b.Counts)
			}
			if w := h.warnings(); len(w) != 1 || !strings.Contains(w[0], "4 entries are not queue entries") {
				t.Errorf("warnings %q", w)
			}
		})
	}
}

// TestGoodFileReportsNothing: a well-formed file gives no warning, no
// extra count and no extra detail (the report of good input is as before).
func TestGoodFileReportsNothing(t *testing.T) {
	h := newHarness(t)
	h.write(queueRel, []byte(existing))
	res, err := h.run(pipeline("2026-01-07", baseCalls...), etl.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, b := sinkResult(t, res)
	if len(c.Details) != 0 || strings.Contains(c.Summary, "warnings") || len(b.Counts) != 2 || len(h.warnings()) != 0 {
		t.Errorf("change %+v, counts %v, warnings %q", c, b.Counts, h.warnings())
	}
}

// TestEntryShape covers the scanner's edge cases: escapes, nesting,
// whitespace, a phone_number that is not a string.
func TestEntryShape(t *testing.T) {
	tests := []struct {
		raw     string
		obj     bool
		missing string
		pn      string
	}{
		{queueEntry("5619565858"), true, "", "5619565858"},
		{`{}`, true, "lead_id phone_number status attempts last_attempt next_attempt created_at metadata", ""},
		{` { "phone_number" : "+1 (561) 956-5858" , "x": {"phone_number": "9999999999", "s": "}]\"{"} } `, true,
			"lead_id status attempts last_attempt next_attempt created_at metadata", "+1 (561) 956-5858"},
		{`{"phone\u005fnumber": "56195\u00365858", "metadata": [{"a": ["}"]}], "status": null}`, true,
			"lead_id attempts last_attempt next_attempt created_at", "5619565858"},
		{`{"phone_number": 5619565858}`, true, "lead_id status attempts last_attempt next_attempt created_at metadata", ""},
		{`"x"`, false, "", ""},
		{`null`, false, "", ""},
	}
	for _, tt := range tests {
		obj, missing, pn := entryShape([]byte(tt.raw))
		if obj != tt.obj || strings.Join(missing, " ") != tt.missing || pn != tt.pn {
			t.Errorf("entryShape(%s) = %v, %q, %q; want %v, %q, %q", tt.raw, obj, missing, pn, tt.obj, tt.missing, tt.pn)
		}
	}
}
