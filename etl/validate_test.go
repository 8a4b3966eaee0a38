package etl_test

import (
	"bytes"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// testRegistry returns a registry with the etltest plugins and their
// collector.
func testRegistry(t testing.TB) (*etl.Registry, *etltest.Collector) {
	t.Helper()
	reg := etl.NewRegistry()
	c := &etltest.Collector{}
	etltest.Register(reg, c, nil)
	return reg, c
}

// TestValidateGolden loads every testdata/validate/*.hcl and compares the
// rendered diagnostics with the .golden file beside it.
func TestValidateGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/validate/*.hcl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".hcl")
		t.Run(name, func(t *testing.T) {
			reg, _ := testRegistry(t)
			p, diags := etl.Load(path, etl.LoadOptions{Registry: reg})
			var buf bytes.Buffer
			etl.WriteDiagnostics(&buf, p.Files(), diags)
			etltest.Golden(t, strings.TrimSuffix(path, ".hcl")+".golden", buf.Bytes(), *update)
			// Only the fixtures named valid/unused_* may load without errors.
			wantOK := name == "valid" || strings.HasPrefix(name, "unused")
			if diags.HasErrors() == wantOK {
				t.Errorf("HasErrors = %v, want %v", diags.HasErrors(), !wantOK)
			}
		})
	}
}
