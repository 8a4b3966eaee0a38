package etl_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
	"github.com/zclconf/go-cty/cty"
)

const varsPipeline = `
variable "name" {
  default = "from-default"
}
variable "excluded" {
  type    = list(string)
  default = ["SALE"]
}
variable "n" {
  type    = number
  default = 1
}
variable "secret" {
  default   = "hunter2"
  sensitive = true
}
source "gen" "nums" {
  partitions = var.n
}
sink "collect" "out" {
  input = source.gen.nums
  name  = "${var.name}-${join(",", var.excluded)}"
}
`

func TestVariablePrecedence(t *testing.T) {
	dir := t.TempDir()
	varFile := filepath.Join(dir, "vars.hcl")
	if err := os.WriteFile(varFile, []byte("name = \"from-file\"\nn = 2\nexcluded = [\"DNC\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		opts     etl.LoadOptions
		wantName string
		wantN    int64
		wantExcl string
	}{
		{"defaults", etl.LoadOptions{}, "from-default", 1, "SALE"},
		{"file", etl.LoadOptions{VarFiles: []string{varFile}}, "from-file", 2, "DNC"},
		{"env beats file", etl.LoadOptions{VarFiles: []string{varFile}, Environ: []string{"ETL_VAR_name=from-env", "ETL_VAR_n=3"}}, "from-env", 3, "DNC"},
		{"flag beats env", etl.LoadOptions{
			VarFiles: []string{varFile},
			Environ:  []string{"ETL_VAR_name=from-env"},
			Vars:     []string{"name=from-flag", `excluded=["SALE","DNC"]`},
		}, "from-flag", 2, "SALE,DNC"},
		{"later flag wins", etl.LoadOptions{Vars: []string{"name=a", "name=b"}}, "b", 1, "SALE"},
		{"plain string flag", etl.LoadOptions{Vars: []string{"name=[not hcl"}}, "[not hcl", 1, "SALE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg, _ := testRegistry(t)
			tc.opts.Registry = reg
			p, diags := etl.Load(writePipeline(t, varsPipeline), tc.opts)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			vals := map[string]cty.Value{}
			for _, v := range p.Variables {
				vals[v.Name] = v.Value
			}
			if got := vals["name"].AsString(); got != tc.wantName {
				t.Errorf("name = %q, want %q", got, tc.wantName)
			}
			if got, _ := vals["n"].AsBigFloat().Int64(); got != tc.wantN {
				t.Errorf("n = %d, want %d", got, tc.wantN)
			}
			var excl []string
			for _, e := range vals["excluded"].AsValueSlice() {
				excl = append(excl, e.AsString())
			}
			if got := strings.Join(excl, ","); got != tc.wantExcl {
				t.Errorf("excluded = %q, want %q", got, tc.wantExcl)
			}
			if !vals["secret"].IsMarked() {
				t.Error("sensitive variable is not marked")
			}
		})
	}
}

func TestVariableErrors(t *testing.T) {
	cases := []struct {
		name string
		opts etl.LoadOptions
		want string
	}{
		{"undeclared flag", etl.LoadOptions{Vars: []string{"nme=x"}}, `--var nme sets "nme", but the pipeline declares no variable`},
		{"wrong type", etl.LoadOptions{Vars: []string{"n=many"}}, "--var n gives var.n a value that is not number"},
		{"no equals", etl.LoadOptions{Vars: []string{"name"}}, `--var "name" must be NAME=VALUE`},
		{"wrong type env", etl.LoadOptions{Environ: []string{"ETL_VAR_excluded=SALE"}}, "environment variable ETL_VAR_excluded gives var.excluded a value that is not list of string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg, _ := testRegistry(t)
			tc.opts.Registry = reg
			_, diags := etl.Load(writePipeline(t, varsPipeline), tc.opts)
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.want) {
				t.Errorf("diags = %v, want one containing %q", diags, tc.want)
			}
		})
	}
}

func TestFunctions(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "name.txt"), []byte("from-file"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ETL_TEST_SET", "from-env")
	cases := []struct {
		expr, want, wantErr string
	}{
		{`env("ETL_TEST_SET")`, "from-env", ""},
		{`env("ETL_TEST_UNSET_X", "fallback")`, "fallback", ""},
		{`env("ETL_TEST_UNSET_X")`, "", "environment variable ETL_TEST_UNSET_X is not set"},
		{`file("name.txt")`, "from-file", ""},
		{`local_time("2026-01-07", "11:00", "America/New_York")`, "2026-01-07T16:00:00.000Z", ""},
		{`local_time("2026-07-07", "11:00", "America/New_York")`, "2026-07-07T15:00:00.000Z", ""},
		{`local_time("2026-07-07", "11:00", "Mars/Olympus")`, "", `unknown time zone "Mars/Olympus"`},
		{`formatdate("YYYY-MM", "2026-01-07T00:00:00Z")`, "2026-01", ""},
		{`upper(format("%s-%d", "a", 1))`, "A-1", ""},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			reg, c := testRegistry(t)
			path := filepath.Join(dir, "p.hcl")
			src := "source \"gen\" \"g\" {}\nsink \"collect\" \"c\" {\n  input = source.gen.g\n  name = " + tc.expr + "\n}\n"
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			p, diags := etl.Load(path, etl.LoadOptions{Registry: reg})
			if tc.wantErr != "" {
				if !strings.Contains(diags.Error(), tc.wantErr) {
					t.Fatalf("diags = %v, want %q", diags, tc.wantErr)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			_ = c
			if got := p.Blocks[1].Config.(*etltest.CollectConfig).Name; got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestExprSource(t *testing.T) {
	reg, _ := testRegistry(t)
	p := load(t, reg, "source \"gen\" \"g\" {}\ntransform \"map\" \"m\" {\n  input = source.gen.g\n  field = \"x\"\n  value = upper( record.key )\n}\nsink \"collect\" \"c\" {\n  input = transform.map.m\n}\n")
	if got := p.Blocks[1].Config.(*etltest.MapConfig).Value.Source(); got != "upper( record.key )" {
		t.Errorf("Source() = %q", got)
	}
}

// Shared is an attribute group embedded in a config struct.
type Shared struct {
	Retries int `hcl:"retries,optional" doc:"Shared attribute."`
}

type embeddingConfig struct {
	Name string `hcl:"name"`
	Shared
}

func TestEmbeddedAttributeGroup(t *testing.T) {
	reg, c := testRegistry(t)
	_ = c
	etl.RegisterSink(reg, etl.Spec[embeddingConfig]{
		Type: "embedding", Summary: "Has an embedded group.",
		Config: func() *embeddingConfig { return &embeddingConfig{Shared: Shared{Retries: 3}} },
	}, func(*embeddingConfig, etl.Env) (etl.Sink, error) { return discardSink{}, nil })
	plugin, _ := reg.Lookup(etl.KindSink, "embedding")
	var names []string
	for _, a := range plugin.Attrs() {
		names = append(names, a.Name+"="+a.Default)
	}
	if got := strings.Join(names, " "); got != "name= retries=3" {
		t.Errorf("attrs = %s", got)
	}
	p := load(t, reg, "source \"gen\" \"g\" {}\nsink \"embedding\" \"e\" {\n  input = source.gen.g\n  name = \"x\"\n  retries = 7\n}\n")
	if got := p.Blocks[1].Config.(*embeddingConfig).Retries; got != 7 {
		t.Errorf("retries = %d, want 7", got)
	}
}
