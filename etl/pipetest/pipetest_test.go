package pipetest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
	"github.com/zclconf/go-cty/cty"
)

// pipeline is gen -> map (double = id * 2) -> where (id >= var.min) ->
// collect. gen fails at its first record: a test that runs it fails.
const pipeline = `
variable "min" {
  type    = number
  default = 1
}
source "gen" "g" {
  partitions    = 2
  per_partition = 2
  fail_after    = 1
}
transform "map" "m" {
  input = source.gen.g
  field = "double"
  value = record.id * 2
}
filter "where" "w" {
  input     = transform.map.m
  condition = record.id >= var.min
}
sink "collect" "c" {
  input = filter.where.w
}
`

// runFile writes the pipeline and the test file into a directory and runs
// every test.
func runFile(t *testing.T, test string) []*Result {
	t.Helper()
	dir := t.TempDir()
	for name, src := range map[string]string{"p.hcl": pipeline, "p" + Suffix: "pipeline = \"p.hcl\"\n" + test} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, diags := ParseFile(filepath.Join(dir, "p"+Suffix))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	reg := etl.Default.Clone()
	etltest.Register(reg, &etltest.Collector{}, nil)
	return Run(context.Background(), f, Options{Registry: reg})
}

func failureText(r *Result) string {
	var lines []string
	for _, f := range r.Failures {
		lines = append(lines, f.String())
	}
	return strings.Join(lines, "\n")
}

// An override stands for the block: the blocks before it are not run (gen
// would fail), and those after it run on its records, partition by
// partition; variables differ per test.
func TestOverrideAndVariables(t *testing.T) {
	res := runFile(t, `
test "records of the map" {
  override "transform.map.m" {
    records = [
      { id = 0, key = "a", double = 0, partition = "p1" },
      { id = 1, key = "b", double = 2, partition = "p1" },
    ]
    partition "p2" {
      records = [{ id = 3, key = "c", double = 6 }]
    }
  }
  expect "sink.collect.c" {
    records = [{ id = 3, double = 6 }, { id = 1, double = 2 }]
  }
  assert {
    condition     = filter.where.w.dropped == { "condition false" = 1 } && source.gen.g.out == 0
    error_message = "one record dropped, gen not run"
  }
  assert {
    condition     = [for r in sink.collect.c.records : r.partition] == ["p1", "p2"]
    error_message = "the partition key sets the records' partition field"
  }
}

test "another minimum" {
  variables = { min = 2 }
  override "transform.map.m" {
    records = [{ id = 1 }, { id = 3 }]
  }
  expect "sink.collect.c" {
    records = [{ id = 3, double = null }]
  }
}
`)
	for _, r := range res {
		if !r.Passed() {
			t.Errorf("%s failed:\n%s", r.Name, failureText(r))
		}
	}
	if len(res) != 2 {
		t.Fatalf("%d results, want 2", len(res))
	}
}

// A run that reaches a block the test did not replace fails with the
// run's error at that block.
func TestUnreplacedSourceRuns(t *testing.T) {
	res := runFile(t, `
test "gen runs" {
  expect "sink.collect.c" {
    records = []
  }
}
`)
	if res[0].Passed() || !strings.Contains(failureText(res[0]), "gen failed after 1 records") {
		t.Errorf("want gen's failure, got:\n%s", failureText(res[0]))
	}
}

// Problems in a test are failures at their file:line:col, with a hint.
func TestTestProblems(t *testing.T) {
	cases := []struct{ name, test, want string }{
		{"misspelt fixture field", `override "transform.map.m" {
    records = [{ id = 1, dubble = 2 }]
  }`, `p.etltest.hcl:5:26: Unknown field: transform.map.m (`},
		{"fixture value of the wrong type", `override "transform.map.m" {
    records = [{ id = "one" }]
  }`, `p.etltest.hcl:5:23: Invalid field value: Field id is number: a number is required.`},
		{"misspelt expected field", `override "transform.map.m" {
    records = []
  }
  expect "sink.collect.c" {
    records = [{ idd = 1 }]
  }`, `p.etltest.hcl:8:18: Unknown field: The records sink.collect.c receives (from filter.where.w) have no field "idd". Did you mean id?`},
		{"unknown block", `override "transform.mapp.m" {
    records = []
  }`, `p.etltest.hcl:4:12: Unknown block: `},
		{"overridden sink", `override "sink.collect.c" {
    records = []
  }`, `A sink has no output to override`},
		{"mock of a block without an API", `override "source.gen.g" {
    records = []
  }
  mock "transform.map.m" {
    x = 1
  }`, `p.etltest.hcl:7:3: the run failed: transform.map.m (`},
		{"undeclared variable", `variables = { nope = 1 }`, `p.etltest.hcl:4:17: Value for undeclared variable: test "t" sets "nope", but the pipeline declares no variable of that name.`},
		{"false assertion", `override "transform.map.m" {
    records = [{ id = 5 }]
  }
  assert {
    condition     = length(sink.collect.c.records) == 2
    error_message = "two records, ${length(sink.collect.c.records)} received"
  }`, "p.etltest.hcl:7:3: two records, 1 received\n    condition: length(sink.collect.c.records) == 2\n    sink.collect.c.records = [{ double = null, id = 5, key = null, partition = \"fixture\" }]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runFile(t, "\ntest \"t\" {\n  "+tc.test+"\n}\n")
			got := failureText(res[0])
			if res[0].Passed() || !strings.Contains(got, tc.want) {
				t.Errorf("failures:\n%s\nwant them to contain:\n%s", got, tc.want)
			}
		})
	}
}

func rec(kv ...any) etl.Record {
	r := etl.Record{}
	for i := 0; i < len(kv); i += 2 {
		switch v := kv[i+1].(type) {
		case string:
			r[kv[i].(string)] = cty.StringVal(v)
		case int:
			r[kv[i].(string)] = cty.NumberIntVal(int64(v))
		}
	}
	return r
}

// compare matches records order aside, on the fields expected, and its
// diff pairs a missing record with the received one closest to it.
func TestCompare(t *testing.T) {
	got := []etl.Record{rec("phone", "1", "lead", "a", "n", 1), rec("phone", "2", "lead", "b", "n", 2)}
	cases := []struct {
		name  string
		want  []etl.Record
		exact bool
		key   string
		diff  string
	}{
		{"exact, order aside", []etl.Record{rec("phone", "2"), rec("phone", "1", "lead", "a")}, true, "", ""},
		{"a number written as a string", []etl.Record{rec("n", "2"), rec("n", "1")}, true, "", ""},
		{"contains a subset", []etl.Record{rec("phone", "2", "lead", "b")}, false, "", ""},
		{"one record too many", []etl.Record{rec("phone", "2")}, true, "", `+ { phone = "1" }  (received, not expected)` + "\n"},
		{"a field differs", []etl.Record{rec("phone", "1", "lead", "a"), rec("phone", "2", "lead", "c")}, true, "phone",
			"~ { lead = \"c\", phone = \"2\" }  (expected at line 0)\n    lead: expected \"c\", received \"b\"\n"},
		{"missing", []etl.Record{rec("phone", "3")}, false, "phone", `- { phone = "3" }  (expected at line 0, not received)` + "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want []expected
			for _, r := range tc.want {
				want = append(want, expected{rec: r})
			}
			diff, ok := compare(want, got, tc.exact, tc.key)
			if ok != (tc.diff == "") || diff != tc.diff {
				t.Errorf("compare = %v\n%s\nwant diff:\n%s", ok, diff, tc.diff)
			}
		})
	}
}

// With a key, the records compared are the last received per key, as a
// keyed sink keeps them.
func TestLastPerKey(t *testing.T) {
	recs := []etl.Record{rec("phone", "1", "call", "a"), rec("phone", "2", "call", "b"), rec("phone", "1", "call", "c")}
	got := lastPerKey(recs, "phone")
	if len(got) != 2 || got[0].String("call") != "b" || got[1].String("call") != "c" {
		t.Errorf("lastPerKey = %v", got)
	}
}
