package stats

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
	"github.com/etlhq/etl/etl/store"
	"github.com/zclconf/go-cty/cty"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// harness runs pipelines from HCL text in a temp directory.
type harness struct {
	t         *testing.T
	dir       string
	collector *etltest.Collector

	mu     sync.Mutex
	events []etl.Event
}

func newHarness(t *testing.T) *harness {
	return &harness{t: t, dir: t.TempDir(), collector: &etltest.Collector{}}
}

func (h *harness) run(src string, opts etl.RunOptions) (*etl.Result, error) {
	h.t.Helper()
	reg := etl.NewRegistry()
	Register(reg)
	registerDays(reg)
	etltest.Register(reg, h.collector, nil)
	// Relative paths are relative to the working directory: anchor the
	// test's in h.dir.
	src = strings.ReplaceAll(src, `path  = "`, `path  = "`+h.dir+"/")
	path := filepath.Join(h.dir, "pipeline.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		h.t.Fatal(err)
	}
	p, diags := etl.Load(path, etl.LoadOptions{Registry: reg})
	if diags.HasErrors() {
		h.t.Fatalf("load: %s", diags.Error())
	}
	h.mu.Lock()
	h.events = nil
	h.mu.Unlock()
	opts.Events = etl.ReporterFunc(func(e etl.Event) {
		h.mu.Lock()
		h.events = append(h.events, e)
		h.mu.Unlock()
	})
	os.Remove(path) // keep the tree holding only what the sink wrote
	return p.Run(context.Background(), opts)
}

func (h *harness) messages() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	for _, e := range h.events {
		if !strings.HasPrefix(e.Block, "sink.stats.") {
			continue // the engine's own events
		}
		fmt.Fprintf(&b, "[%s] %s\n", e.Type, e.Message)
	}
	return b.String()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	etltest.Golden(t, filepath.Join("testdata", name), got, *update)
}

const daysPipeline = `
source "days" "calls" {
  days = [
    { date = "2025-12-01", phones = ["5615550001", "5615550002", "5615550001", null], bytes = 11534336 },
    { date = "2025-12-02", phones = ["5615550002", "5615550003", "5615550004"], invalid_phones = 7, bytes = 2097152 },
    { date = "2025-12-03", phones = [], incomplete = true },
    { date = "2025-12-04", phones = ["5615550004", "5615550005", null, null] },
  ]
}
sink "stats" "daily" {
  input = source.days.calls
  key   = record.phone
  path  = "out/backfill-stats.json"
}
`

// TestStatsFileAndReport checks the rows (new vs. cumulative, invalid from
// Info or from null keys, incomplete) and the console report against golden
// files.
func TestStatsFileAndReport(t *testing.T) {
	h := newHarness(t)
	res, err := h.run(daysPipeline, etl.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(h.dir, "out", "backfill-stats.json"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "days.golden.json", got)
	golden(t, "days.golden.txt", []byte(h.messages()))
	if len(res.Changes) != 1 || !strings.HasPrefix(res.Changes[0].Summary, "created ") || !strings.HasSuffix(res.Changes[0].Summary, ", 4 rows") {
		t.Errorf("changes = %+v", res.Changes)
	}

	// Running again changes nothing and says so.
	before := etltest.HashTree(t, h.dir, false)
	res, err = h.run(daysPipeline, etl.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changes[0].Changed || !strings.Contains(res.Changes[0].Summary, "up to date") {
		t.Errorf("second run: %+v", res.Changes[0])
	}
	if etltest.HashTree(t, h.dir, false) != before {
		t.Error("second identical run changed the tree")
	}
}

const genPipeline = `
source "gen" "g" {
  partitions    = %d
  per_partition = 40
  keys          = 70
  fail_after    = %d
}
transform "map" "phone" {
  input = source.gen.g
  field = "phone"
  value = record.id %% 9 == 0 ? null : record.key
}
sink "stats" "s" {
  input = transform.map.phone
  key   = record.phone
  path  = "stats.json"
}
sink "collect" "all" {
  input = transform.map.phone
  name  = "all"
}
`

// reference recomputes the rows from the records a collect sink received
// side by side with the stats sink.
func reference(recs []etl.Record, partitions []string) []Row {
	seen := map[string]bool{}
	var rows []Row
	for _, p := range partitions {
		r := Row{Date: p}
		today := map[string]bool{}
		for _, rec := range recs {
			if rec.String("partition") != p {
				continue
			}
			r.TotalCalls++
			k := rec.String("phone")
			if k == "" {
				r.InvalidPhones++
				continue
			}
			today[k] = true
		}
		for k := range today {
			if !seen[k] {
				r.NewPhonesToday++
			}
			seen[k] = true
		}
		r.UniquePhonesToday = int64(len(today))
		r.CumulativeUniquePhones = int64(len(seen))
		rows = append(rows, r)
	}
	return rows
}

func readRows(t *testing.T, path string) []Row {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []Row
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestStatsMatchReference(t *testing.T) {
	h := newHarness(t)
	if _, err := h.run(fmt.Sprintf(genPipeline, 6, 0), etl.RunOptions{BatchSize: 7}); err != nil {
		t.Fatal(err)
	}
	want := reference(h.collector.Records["all"], h.collector.Marks["all"])
	got := readRows(t, filepath.Join(h.dir, "stats.json"))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows\n got %+v\nwant %+v", got, want)
	}
	if !strings.Contains(h.messages(), fmt.Sprintf("TOTALS: 240 calls | %d unique phones", want[len(want)-1].CumulativeUniquePhones)) {
		t.Errorf("no totals line in\n%s", h.messages())
	}
}

// TestFileAfterEveryPartition: the file on disk holds every finished date
// as soon as its mark has passed, so a crash in the next date loses
// nothing finished. Driven directly, with the config of a loaded pipeline:
// when a run fails the engine cancels and may drop marks still queued, so
// an end-to-end crash test would be racy.
func TestFileAfterEveryPartition(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pipeline.hcl")
	os.WriteFile(path, []byte(daysPipeline), 0o644)
	reg := etl.NewRegistry()
	Register(reg)
	registerDays(reg)
	p, diags := etl.Load(path, etl.LoadOptions{Registry: reg})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	cfg := p.Blocks[1].Config.(*Config)
	cfg.Path = filepath.Join(dir, cfg.Path)
	s, err := newSink(*cfg, etl.Env{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UseState(etltest.MemTable{}); err != nil { // as the engine does
		t.Fatal(err)
	}
	file := filepath.Join(dir, "out", "backfill-stats.json")
	ctx := context.Background()
	for day := 1; day <= 3; day++ {
		date := fmt.Sprintf("2025-12-%02d", day)
		for i := 0; i < 5*day; i++ {
			rec := etl.Record{"phone": cty.StringVal(fmt.Sprintf("56155500%02d", i))}
			if err := s.Write(ctx, rec); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := os.Stat(file); day == 1 && err == nil {
			t.Fatal("file written before the first partition ended")
		}
		if err := s.EndPartition(ctx, &etl.Mark{Partition: date}, nil); err != nil {
			t.Fatal(err)
		}
		rows := readRows(t, file)
		if len(rows) != day || rows[day-1].Date != date || rows[day-1].TotalCalls != int64(5*day) || rows[day-1].NewPhonesToday != 5 {
			t.Fatalf("after %s the file holds %+v", date, rows)
		}
	}
}

// TestResumeRewritesIdentically stops a run after each partition (the
// source fails in the next one, so the run commits the partitions before
// it), resumes it with the same state, and expects the very same file as
// an uninterrupted run: the resumed run's sink, writing in a new
// directory, rebuilds the rows of the dates done from its table alone.
func TestResumeRewritesIdentically(t *testing.T) {
	full := newHarness(t)
	if _, err := full.run(fmt.Sprintf(genPipeline, 5, 0), etl.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(full.dir, "stats.json"))
	for done := 1; done <= 5; done++ {
		t.Run(fmt.Sprintf("after partition %d", done), func(t *testing.T) {
			st := store.OpenMem()
			defer st.Close()
			failAfter := 0 // the last case is a finished run, run again
			if done < 5 {
				failAfter = done*40 + 13 // within the next partition
			}
			crashed := newHarness(t)
			_, err := crashed.run(fmt.Sprintf(genPipeline, 5, failAfter), etl.RunOptions{State: st})
			if (err != nil) != (done < 5) {
				t.Fatalf("first run: %v", err)
			}
			cp, err := etl.ReadCheckpoint(st)
			if err != nil || cp == nil || len(cp.Sources["source.gen.g"]) != done {
				t.Fatalf("the first run committed %+v (%v), want %d partitions", cp, err, done)
			}
			h := newHarness(t)
			if _, err := h.run(fmt.Sprintf(genPipeline, 5, 0), etl.RunOptions{State: st}); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(filepath.Join(h.dir, "stats.json"))
			if string(got) != string(want) {
				t.Errorf("resumed file\n%s\nwant\n%s", got, want)
			}
			if n := len(h.collector.Records["all"]); n != (5-done)*40 {
				t.Errorf("resumed run read %d records, want %d: done partitions were re-read", n, (5-done)*40)
			}
		})
	}
}

func TestPlanWritesNothing(t *testing.T) {
	h := newHarness(t)
	res, err := h.run(fmt.Sprintf(genPipeline, 4, 0), etl.RunOptions{Plan: true})
	if err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(h.dir); len(ents) != 0 {
		t.Errorf("plan created %v", ents)
	}
	if c := res.Changes[0]; !c.Changed || c.Summary != fmt.Sprintf("would create %s, 4 rows", filepath.Join(h.dir, "stats.json")) {
		t.Errorf("plan change = %+v", c)
	}

	if _, err := h.run(fmt.Sprintf(genPipeline, 3, 0), etl.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	before := etltest.HashTree(t, h.dir, false)
	res, err = h.run(fmt.Sprintf(genPipeline, 5, 0), etl.RunOptions{Plan: true})
	if err != nil {
		t.Fatal(err)
	}
	if etltest.HashTree(t, h.dir, false) != before {
		t.Error("plan changed the tree")
	}
	if c := res.Changes[0]; !c.Changed || c.Summary != fmt.Sprintf("would update %s: +2 rows (5 rows)", filepath.Join(h.dir, "stats.json")) {
		t.Errorf("plan change = %+v", c)
	}
}

// TestUseStateRejectsInconsistentState: a table whose last row counts
// more unique keys than it holds is refused, and a consistent one is
// taken, rows and keys alike.
func TestUseStateRejectsInconsistentState(t *testing.T) {
	table := func(unique int64, keys ...string) *etltest.MemTable {
		t.Helper()
		m := etltest.MemTable{}
		row, err := json.Marshal(storedRow{Row: Row{Date: "2025-12-01", CumulativeUniquePhones: unique}})
		if err != nil {
			t.Fatal(err)
		}
		m.Set(append([]byte{rowPrefix}, "2025-12-01"...), row)
		for _, k := range keys {
			m.Set(append([]byte{keyPrefix}, k...), nil)
		}
		return &m
	}
	s := &sink{bytes: map[string]int64{}}
	if err := s.UseState(table(3, "a")); err == nil {
		t.Error("state with 3 unique keys counted but 1 saved was accepted")
	}
	if err := s.UseState(table(1, "a")); err != nil {
		t.Error(err)
	}
	if len(s.rows) != 1 || s.rows[0].Date != "2025-12-01" || s.seen.len() != 1 {
		t.Errorf("restored %+v and %d keys, want the row of 2025-12-01 and key a", s.rows, s.seen.len())
	}
	bad := etltest.MemTable{}
	bad.Set([]byte("x"), nil)
	if err := s.UseState(&bad); err == nil {
		t.Error("state with an unknown key was accepted")
	}
}

// TestNewPhonesSeries: the summary's event offers the new phones per date,
// for the closing summary's sparkline.
func TestNewPhonesSeries(t *testing.T) {
	h := newHarness(t)
	if _, err := h.run(daysPipeline, etl.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	var got []etl.Series
	for _, e := range h.events {
		if s := etl.SeriesOf(e); s != nil {
			got = append(got, s...)
		}
	}
	want := `[{new phones per date [2025-12-01 2025-12-02 2025-12-03 2025-12-04] [2 2 0 1]}]`
	if fmt.Sprint(got) != want {
		t.Errorf("series %v, want %s", got, want)
	}
}

// A state written before the new keys of a date were one entry (one "k"
// entry per key seen) still resumes, to the same file.
func TestOldKeyLayoutResumes(t *testing.T) {
	full := newHarness(t)
	if _, err := full.run(fmt.Sprintf(genPipeline, 5, 0), etl.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(full.dir, "stats.json"))
	st := store.OpenMem()
	defer st.Close()
	if _, err := newHarness(t).run(fmt.Sprintf(genPipeline, 5, 2*40+13), etl.RunOptions{State: st}); err == nil {
		t.Fatal("the first run did not fail")
	}
	// Rewrite the table as the earlier layout had it.
	b := st.NewBatch(0)
	converted := 0
	err := st.Scan([]byte("state/"), func(k, v []byte) error {
		table, rest, _ := bytes.Cut(k, []byte{0})
		if len(rest) == 0 || rest[0] != newKeyPrefix {
			return nil
		}
		for len(v) > 0 {
			n, w := binary.Uvarint(v)
			key := append(append(append(slices.Clone(table), 0), keyPrefix), v[w:w+int(n)]...)
			b.Set(key, nil)
			v = v[w+int(n):]
			converted++
		}
		return b.Delete(k)
	})
	if err != nil || converted == 0 {
		t.Fatalf("converted %d keys: %v", converted, err)
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	if _, err := h.run(fmt.Sprintf(genPipeline, 5, 0), etl.RunOptions{State: st}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(h.dir, "stats.json")); string(got) != string(want) {
		t.Errorf("resumed from the old layout:\n%s\nwant\n%s", got, want)
	}
}

// A date that ends twice in a run saves the keys of both ends, so that a
// resumed run counts them all.
func TestDateEndingTwiceKeepsBothKeySets(t *testing.T) {
	table := etltest.MemTable{}
	s := &sink{state: table, bytes: map[string]int64{}, seen: newKeySet()}
	if err := s.storeRow(Row{Date: "2025-12-01", CumulativeUniquePhones: 2}, 0, false, []string{"2025550100", "2025550101"}); err != nil {
		t.Fatal(err)
	}
	if err := s.storeRow(Row{Date: "2025-12-01", CumulativeUniquePhones: 3}, 0, false, []string{"2025550102"}); err != nil {
		t.Fatal(err)
	}
	r := &sink{bytes: map[string]int64{}}
	if err := r.UseState(table); err != nil {
		t.Fatal(err)
	}
	if got := r.seen.sorted(); strings.Join(got, " ") != "2025550100 2025550101 2025550102" {
		t.Fatalf("restored keys %v", got)
	}
}
