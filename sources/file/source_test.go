package file_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
	"github.com/etlhq/etl/etl/store"
	filesink "github.com/etlhq/etl/sinks/file"
	file "github.com/etlhq/etl/sources/file"
)

// setup writes files (name → content) and a pipeline into a temp dir and
// returns the registry (file source and the etltest plugins), the
// collector and the pipeline's path.
func setup(t *testing.T, files map[string]string, pipeline string) (*etl.Registry, *etltest.Collector, string) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		write(t, filepath.Join(dir, name), content)
	}
	path := filepath.Join(dir, "p.hcl")
	write(t, path, pipeline)
	reg := etl.NewRegistry()
	file.Register(reg)
	c := &etltest.Collector{}
	etltest.Register(reg, c, nil)
	return reg, c, path
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func load(t *testing.T, reg *etl.Registry, path string) *etl.Pipeline {
	t.Helper()
	p, diags := etl.Load(path, etl.LoadOptions{Registry: reg})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return p
}

func encode(t *testing.T, recs []etl.Record) string {
	var lines []string
	for _, r := range recs {
		b, err := etl.AppendRecord(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(b))
	}
	return strings.Join(lines, "\n")
}

const leadsPipeline = `
source "file" "leads" {
  path    = "in/*.csv"
  format  = "csv"
  columns = ["phone", { name = "n", type = "number" }]
  %s
}
sink "collect" "out" {
  input = source.file.leads
}
`

func TestReadsFilesAsPartitions(t *testing.T) {
	reg, c, path := setup(t, map[string]string{
		"in/a.csv":   "phone,n,extra\n2005550100,1,x\n",
		"in/b.csv":   "n,phone\n2,2005550101\n3,2005550102\n",
		"in/c.jsonl": "{}\n",
	}, strings.Replace(leadsPipeline, "%s", "", 1))
	res, err := load(t, reg, path).Run(context.Background(), etl.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := encode(t, c.Records["default"])
	want := `{"n":1,"phone":"2005550100"}
{"n":2,"phone":"2005550101"}
{"n":3,"phone":"2005550102"}`
	if got != want {
		t.Errorf("records:\n%s\nwant:\n%s", got, want)
	}
	if m := c.Marks["default"]; !slices.Equal(m, []string{"in/a.csv", "in/b.csv"}) {
		t.Errorf("partitions %q, want the files relative to the pipeline", m)
	}
	if res.Blocks[0].Out != 3 {
		t.Errorf("source out %d", res.Blocks[0].Out)
	}
}

func TestMalformedRowNamesFileAndLine(t *testing.T) {
	files := map[string]string{"in/a.csv": "phone,n\n2005550100,1\n2005550101,one\n2005550102,3\n"}
	reg, _, path := setup(t, files, strings.Replace(leadsPipeline, "%s", "", 1))
	_, err := load(t, reg, path).Run(context.Background(), etl.RunOptions{})
	if err == nil || !strings.Contains(err.Error(), `in/a.csv:3: column "n": not a number; on_error = "skip" skips such rows`) {
		t.Fatalf("error %v; want the file and line", err)
	}

	reg, c, path := setup(t, files, strings.Replace(leadsPipeline, "%s", `on_error = "skip"`, 1))
	res, err := load(t, reg, path).Run(context.Background(), etl.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.Records["default"]); n != 2 {
		t.Errorf("%d records, want the 2 readable ones", n)
	}
	if res.Blocks[0].Dropped["unreadable row"] != 1 || !slices.Equal(res.Blocks[0].Skipped, []string{`in/a.csv:3: column "n": not a number`}) {
		t.Errorf("drops %v, skipped %q; want the row counted and listed", res.Blocks[0].Dropped, res.Blocks[0].Skipped)
	}
	if res.Skipped() != 1 {
		t.Errorf("the run does not report the skip (exit 3)")
	}
}

func TestNoFileMatches(t *testing.T) {
	reg, _, path := setup(t, nil, strings.Replace(leadsPipeline, "%s", "", 1))
	_, err := load(t, reg, path).Run(context.Background(), etl.RunOptions{})
	if err == nil || !strings.Contains(err.Error(), `path "in/*.csv" matches no file`) {
		t.Fatalf("error %v", err)
	}
}

// A run resumed after a failure skips the files the checkpoint holds, and
// a run after a completed one reads no file; a new file matching the glob
// is read alone.
func TestResumeSkipsDoneFiles(t *testing.T) {
	reg, c, path := setup(t, map[string]string{
		"in/a.csv": "phone,n\n2005550100,1\n",
		"in/b.csv": "phone,n\n2005550101,x\n",
	}, strings.Replace(leadsPipeline, "%s", "", 1))
	st := store.OpenMem()
	defer st.Close()
	opts := etl.RunOptions{State: st}
	if _, err := load(t, reg, path).Run(context.Background(), opts); err == nil {
		t.Fatal("run 1 read a malformed file without error")
	}
	write(t, filepath.Join(filepath.Dir(path), "in/b.csv"), "phone,n\n2005550101,2\n")
	reset := func() { c.Records["default"], c.Marks["default"] = nil, nil }

	reset()
	res, err := load(t, reg, path).Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if m := c.Marks["default"]; !slices.Equal(m, []string{"in/b.csv"}) || res.Resumed != 1 {
		t.Errorf("resumed run read %q (resumed %d), want only in/b.csv", m, res.Resumed)
	}

	reset()
	if _, err := load(t, reg, path).Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if n := len(c.Records["default"]); n != 0 {
		t.Errorf("a run after a completed one read %d records, want none", n)
	}

	write(t, filepath.Join(filepath.Dir(path), "in/c.csv"), "phone,n\n2005550102,3\n")
	reset()
	if _, err := load(t, reg, path).Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if m := c.Marks["default"]; !slices.Equal(m, []string{"in/c.csv"}) {
		t.Errorf("a new file: read %q, want in/c.csv alone", m)
	}

	// A narrower glob no longer holds the files done: the checkpoint is
	// refused (by etl run, which compares it with the pipeline).
	narrow := strings.Replace(strings.Replace(leadsPipeline, "%s", "", 1), "in/*.csv", "in/a.csv", 1)
	write(t, path, narrow)
	cp, err := etl.ReadCheckpoint(st)
	if err != nil {
		t.Fatal(err)
	}
	if diffs := strings.Join(cp.Compare(load(t, reg, path)), "\n"); !strings.Contains(diffs, "2 partition(s) this pipeline no longer reads (in/b.csv … in/c.csv)") {
		t.Errorf("narrowed glob: %q; want the checkpoint refused, naming the files", diffs)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name, block, want string
	}{
		{"bad format", `format = "xml"`, `format "xml" is not one of csv, jsonl, json`},
		{"csv without header needs columns", "format = \"csv\"\n header = false", "needs columns"},
		{"key_field needs json", "format = \"csv\"\n key_field = \"id\"", "key_field needs json"},
		{"bad on_error", "format = \"csv\"\n on_error = \"ignore\"", `write "fail" or "skip"`},
		{"bad column type", "format = \"csv\"\n columns = [{ name = \"a\", type = \"date\" }]", `type "date" is not one of string, number, bool, time`},
		{"bad glob", "format = \"csv\"\n path = \"in/[\"", "not a valid glob"},
		{"unknown field with columns", "format = \"csv\"\n columns = [\"phone\"]", `does not produce a field "nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "source \"file\" \"f\" {\n path = \"in/*\"\n " + tc.block + "\n}\nfilter \"where\" \"w\" {\n input = source.file.f\n condition = record.nope == 1\n}\nsink \"collect\" \"c\" {\n input = filter.where.w\n}\n"
			if strings.Contains(tc.block, "path =") {
				src = strings.Replace(src, " path = \"in/*\"\n", "", 1)
			}
			reg, _, path := setup(t, nil, src)
			_, diags := etl.Load(path, etl.LoadOptions{Registry: reg})
			if !strings.Contains(diags.Error(), tc.want) {
				t.Errorf("diagnostics %q, want %q", diags.Error(), tc.want)
			}
		})
	}
	// Without columns the fields are not known: no error for record.nope.
	reg, _, path := setup(t, nil, "source \"file\" \"f\" {\n path = \"in/*\"\n format = \"jsonl\"\n}\nfilter \"where\" \"w\" {\n input = source.file.f\n condition = record.nope == 1\n}\nsink \"collect\" \"c\" {\n input = filter.where.w\n}\n")
	if _, diags := etl.Load(path, etl.LoadOptions{Registry: reg}); diags.HasErrors() {
		t.Errorf("fields unknown without columns, yet: %s", diags)
	}
}

// The source builds only the fields the blocks downstream read.
func TestProjection(t *testing.T) {
	reg, c, path := setup(t, map[string]string{"in/a.jsonl": `{"a":1,"b":"x","c":[1]}` + "\n"}, `
source "file" "f" {
  path   = "in/*.jsonl"
  format = "jsonl"
}
filter "where" "w" {
  input     = source.file.f
  condition = record.a == 1
}
sink "seen" "out" {
  input = filter.where.w
  value = record.b
}
`)
	var seen []string
	etl.RegisterSink(reg, etl.Spec[seenConfig]{Type: "seen", ReadsDeclaredFields: true},
		func(cfg *seenConfig, env etl.Env) (etl.Sink, error) { return seenSink{&seen}, nil })
	if _, err := load(t, reg, path).Run(context.Background(), etl.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	_ = c
	if !slices.Equal(seen, []string{"a", "b"}) {
		t.Errorf("fields built %q, want those read: a, b", seen)
	}
}

type seenConfig struct {
	Value etl.Expr `hcl:"value"`
}

// seenSink keeps the field names of the records it gets.
type seenSink struct{ seen *[]string }

func (s seenSink) Write(_ context.Context, rec etl.Record) error {
	*s.seen = slices.Sorted(maps.Keys(rec))
	return nil
}

// A buffering sink behind the file source draws the "not checkpointed"
// warning only when the path is a glob: one file is one partition, which no
// checkpoint could skip.
func TestNotCheckpointedWarningOnlyForGlobs(t *testing.T) {
	for path, want := range map[string]bool{"in/a.jsonl": false, "in/*.jsonl": true, "in/[ab].jsonl": true} {
		reg, _, p := setup(t, map[string]string{"in/a.jsonl": "{}\n"}, "source \"file\" \"f\" {\n path = \""+path+"\"\n format = \"jsonl\"\n}\nsink \"file\" \"out\" {\n input = source.file.f\n path = \"out.jsonl\"\n format = \"jsonl\"\n}\n")
		filesink.Register(reg)
		_, diags := etl.Load(p, etl.LoadOptions{Registry: reg})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if got := strings.Contains(diags.Error(), "Pipeline not checkpointed"); got != want {
			t.Errorf("path %q: warned %v, want %v (%v)", path, got, want, diags)
		}
	}
}
