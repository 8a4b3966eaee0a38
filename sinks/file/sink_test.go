package file_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
	file "github.com/etlhq/etl/sinks/file"
)

// run loads a pipeline of gen records into the file sink (block is its
// body) in dir and runs it with opts.
func run(t *testing.T, dir, gen, block string, opts etl.RunOptions) (*etl.Result, error) {
	t.Helper()
	path := filepath.Join(dir, "p.hcl")
	src := "source \"gen\" \"g\" {\n" + gen + "\n}\nsink \"file\" \"out\" {\n  input = source.gen.g\n" + block + "\n}\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := etl.NewRegistry()
	file.Register(reg)
	etltest.Register(reg, &etltest.Collector{}, nil)
	p, diags := etl.Load(path, etl.LoadOptions{Registry: reg})
	if diags.HasErrors() {
		var msgs []string
		for _, d := range diags {
			msgs = append(msgs, d.Summary+": "+d.Detail)
		}
		return nil, errors.New(strings.Join(msgs, "\n"))
	}
	return p.Run(context.Background(), opts)
}

const two = "per_partition = 2\n  keys = 2"

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// leftovers lists the files of dir but the pipeline and want.
func leftovers(t *testing.T, dir string, want ...string) []string {
	entries, _ := os.ReadDir(dir)
	var extra []string
	for _, e := range entries {
		if e.Name() != "p.hcl" && !strings.Contains(strings.Join(want, "\n"), e.Name()) {
			extra = append(extra, e.Name())
		}
	}
	return extra
}

func TestWritesFormats(t *testing.T) {
	tests := []struct{ format, fields, want string }{
		{"csv", `["key", "id"]`, "key,id\nk0,0\nk1,1\n"},
		{"csv", "null", "id,key,partition\n0,k0,p000\n1,k1,p000\n"},
		{"jsonl", `["partition", "id"]`, "{\"partition\":\"p000\",\"id\":0}\n{\"partition\":\"p000\",\"id\":1}\n"},
		{"json", `["key"]`, "[\n{\"key\":\"k0\"},\n{\"key\":\"k1\"}\n]\n"},
	}
	for _, tc := range tests {
		t.Run(tc.format+" "+tc.fields, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "sub", "out."+tc.format)
			res, err := run(t, dir, two, "path = \""+out+"\"\nformat = \""+tc.format+"\"\nfields = "+tc.fields, etl.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := read(t, out); got != tc.want {
				t.Errorf("file:\n%s\nwant:\n%s", got, tc.want)
			}
			if c := res.Changes[0]; !c.Changed || !strings.HasSuffix(c.Summary, "(created)") {
				t.Errorf("change %+v", c)
			}
			if extra := leftovers(t, filepath.Join(dir, "sub"), "out."+tc.format); extra != nil {
				t.Errorf("files left beside it: %q", extra)
			}
		})
	}
}

// A run that fails leaves the previous file whole and no temp file.
func TestFailedRunKeepsFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.csv")
	os.WriteFile(out, []byte("old\n"), 0o644)
	_, err := run(t, dir, "per_partition = 600\n fail_after = 500", "path = \""+out+"\"\nformat = \"csv\"", etl.RunOptions{})
	if err == nil {
		t.Fatal("gen did not fail")
	}
	if got := read(t, out); got != "old\n" {
		t.Errorf("file after a failed run: %q", got)
	}
	if extra := leftovers(t, dir, "out.csv"); extra != nil {
		t.Errorf("files left: %q", extra)
	}
}

func TestUnwritablePath(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "plain"), nil, 0o644)
	for _, plan := range []bool{false, true} {
		_, err := run(t, dir, two, "path = \""+filepath.Join(dir, "plain", "out.csv")+"\"\nformat = \"csv\"", etl.RunOptions{Plan: plan})
		if err == nil || !strings.Contains(err.Error(), "cannot write "+filepath.Join(dir, "plain", "out.csv")+": output directory") || !strings.Contains(err.Error(), "is not a directory") {
			t.Errorf("plan %v: %v; want the path named", plan, err)
		}
		_, err = run(t, dir, two, "path = \""+dir+"\"\nformat = \"csv\"", etl.RunOptions{Plan: plan})
		if err == nil || !strings.Contains(err.Error(), "it is a directory") {
			t.Errorf("plan %v, a directory: %v", plan, err)
		}
	}
	if os.Geteuid() != 0 { // root writes anywhere
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o555)
		_, err := run(t, dir, two, "path = \""+filepath.Join(ro, "out.csv")+"\"\nformat = \"csv\"", etl.RunOptions{})
		if err == nil || !strings.Contains(err.Error(), "is not writable") {
			t.Errorf("read-only directory: %v", err)
		}
	}
}

// A plan writes nothing, compares the rows with the file's, and lists
// them with --show-entries, phones masked unless --unmask.
func TestPlan(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.csv")
	block := "path = \"" + out + "\"\nformat = \"csv\"\nfields = [\"key\", \"id\"]"
	res, err := run(t, dir, two, block, etl.RunOptions{Plan: true})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Changes[0]; !c.Changed || c.Summary != "would write 2 rows: "+out+" (would create it)" {
		t.Errorf("change %+v", c)
	}
	if extra := leftovers(t, dir); extra != nil {
		t.Errorf("a plan wrote %q", extra)
	}

	os.WriteFile(out, []byte("key,id\nk0,0\n2005550100,7\n"), 0o644)
	res, err = run(t, dir, two, block, etl.RunOptions{Plan: true, ShowEntries: true})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Changes[0]
	want := "would write 2 rows: " + out + " (has 2): +1 -1 rows, 1 unchanged"
	if !c.Changed || c.Summary != want || strings.Join(c.Details, "\n") != "+ k1,1\n- ******0100,7" {
		t.Errorf("change %q %q, want %q", c.Summary, c.Details, want)
	}
	if *c.Size != (etl.Size{Unit: "rows", Before: 2, After: 2}) || fmt.Sprint(c.Counts) != "[{added 1} {removed 1} {unchanged 1}]" {
		t.Errorf("size %+v, counts %v", *c.Size, c.Counts)
	}
	res, _ = run(t, dir, two, block, etl.RunOptions{Plan: true, ShowEntries: true, Unmask: true})
	if d := strings.Join(res.Changes[0].Details, "\n"); d != "+ k1,1\n- 2005550100,7" {
		t.Errorf("unmasked: %q", d)
	}
	if got := read(t, out); got != "key,id\nk0,0\n2005550100,7\n" {
		t.Errorf("a plan changed the file: %q", got)
	}

	if _, err := run(t, dir, two, block, etl.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	res, _ = run(t, dir, two, block, etl.RunOptions{Plan: true})
	if c := res.Changes[0]; c.Changed || c.Summary != out+" already holds these 2 rows" {
		t.Errorf("plan after the run: %+v", c)
	}
	res, _ = run(t, dir, two, block, etl.RunOptions{})
	if c := res.Changes[0]; c.Changed || !strings.HasSuffix(c.Summary, "(unchanged)") {
		t.Errorf("run again: %+v", c)
	}
}

func TestStdout(t *testing.T) {
	var buf bytes.Buffer
	dir := t.TempDir()
	res, err := run(t, dir, two, "path = \"-\"\nformat = \"jsonl\"\nfields = [\"id\"]", etl.RunOptions{Plan: true, Stdout: &buf})
	if err != nil {
		t.Fatal(err)
	}
	if buf.String() != "{\"id\":0}\n{\"id\":1}\n" {
		t.Errorf("stdout %q", buf.String())
	}
	if c := res.Changes[0]; c.Changed || c.Summary != "wrote 2 records to standard output" {
		t.Errorf("change %+v", c)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	// gen's records all have the same fields; a CSV header taken from the
	// first record cannot take a field it lacked: shown with a transform
	// in the engine's tests; here the config errors.
	tests := []struct{ block, want string }{
		{"path = \"x\"\nformat = \"xml\"", `format "xml" is not one of csv, jsonl, json`},
		{"path = \"\"\nformat = \"csv\"", "Empty path"},
		{"path = \"x\"\nformat = \"csv\"\nfields = [\"id\", \"id\"]", `fields lists "id" twice`},
		{"path = \"x\"\nformat = \"csv\"\nfields = [\"nope\"]", `source.gen.g does not produce a field "nope"`},
		{"path = \"x\"\nformat = \"csv\"\nfields = []", "fields is empty"},
	}
	for _, tc := range tests {
		_, err := run(t, dir, two, tc.block, etl.RunOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.block, err, tc.want)
		}
	}
}
