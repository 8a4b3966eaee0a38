package etl

import (
	"fmt"
	"maps"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

func assignments(t *testing.T, src string) Assignments {
	t.Helper()
	x, diags := hclsyntax.ParseExpression([]byte(src), "p.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	a, diags := compileAssignments(x, &hcl.EvalContext{}, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return a
}

// fields returns a record of n string fields f0... plus extra.
func fields(n int, extra Record) Record {
	rec := Record{}
	for i := 0; i < n; i++ {
		rec[fmt.Sprintf("f%d", i)] = cty.StringVal(fmt.Sprint(i))
	}
	maps.Copy(rec, extra)
	return rec
}

// Apply sets, then drops, whichever way it copies: a dropped field an
// entry reads is read before it goes, one an entry sets is gone after,
// and the input is left as it was.
func TestApplyDrop(t *testing.T) {
	s := cty.StringVal
	tests := []struct {
		name, set string
		drop      []string
		in, want  Record
	}{
		{"small, unread drop", `{ src = "bench", f0 = "x" }`, []string{"c"},
			fields(7, Record{"c": s("web")}), fields(7, Record{"src": s("bench"), "f0": s("x")})},
		{"drop an entry reads", `{ y = record.c }`, []string{"c"},
			fields(2, Record{"c": s("web")}), fields(2, Record{"y": s("web")})},
		{"drop a field an entry sets", `{ c = "new", y = record.c }`, []string{"c"},
			fields(2, Record{"c": s("web")}), fields(2, Record{"y": s("new")})},
		{"drop a field an entry sets and none reads", `{ c = "new" }`, []string{"c"},
			fields(2, Record{"c": s("web")}), fields(2, nil)},
		{"drop an entry reads by index", `{ y = record["c"] }`, []string{"c"},
			fields(2, Record{"c": s("web")}), fields(2, Record{"y": s("web")})},
		{"drop a field the record lacks", `{ y = "1" }`, []string{"nope", "f1"},
			fields(3, nil), Record{"f0": s("0"), "f2": s("2"), "y": s("1")}},
		{"wide", `{ y = record.f3, z = "z" }`, []string{"f0", "f3", "f11"},
			fields(12, nil), func() Record {
				r := fields(12, Record{"y": s("3"), "z": s("z")})
				delete(r, "f0")
				delete(r, "f3")
				delete(r, "f11")
				return r
			}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := maps.Clone(tt.in)
			got, err := assignments(t, tt.set).Apply(in, tt.drop)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.EqualFunc(got, tt.want, cty.Value.RawEquals) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
			if !maps.EqualFunc(in, tt.in, cty.Value.RawEquals) {
				t.Errorf("the input changed: %#v", in)
			}
		})
	}
}

// A record of eight fields that gets one and loses one is copied as one
// map group, not grown into a table on the way.
func TestApplyCopiesAtSize(t *testing.T) {
	a := assignments(t, `{ src = "bench" }`)
	rec := fields(7, Record{"campaign": cty.StringVal("web")})
	drop := []string{"campaign"}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := a.Apply(rec, drop); err != nil {
			t.Fatal(err)
		}
	})
	// The map and its group (one more under the race detector); a copy
	// that grows into a table makes 9.
	if allocs > 3 {
		t.Errorf("%v allocations, want at most 3", allocs)
	}
}
