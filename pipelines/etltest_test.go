package pipelines_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlhq/etl/cmd/etl/cli"
	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/pipetest"
)

// The shipped pipelines' own tests (tests/*.etltest.hcl) pass, and every
// pipeline in this directory has some: `etl test pipelines/`, as `make
// test` runs it, in go test.
func TestPipelineTests(t *testing.T) {
	files, err := pipetest.Discover([]string{"."})
	if err != nil {
		t.Fatal(err)
	}
	tested := map[string]bool{}
	for _, path := range files {
		f, diags := pipetest.ParseFile(path)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", path, diags)
		}
		tested[filepath.Clean(f.Pipeline)] = len(f.Tests) > 0
	}
	pipelines, _ := filepath.Glob("*.hcl")
	for _, p := range pipelines {
		if !tested[p] {
			t.Errorf("%s has no tests: add tests/%s%s", p, strings.TrimSuffix(p, ".hcl"), pipetest.Suffix)
		}
	}
	var out, errb bytes.Buffer
	if status := cli.Main([]string{"test", "."}, &out, &errb, nil, etl.Default); status != 0 {
		t.Errorf("etl test pipelines/ exited %d:\n%s%s", status, out.String(), errb.String())
	}
}
