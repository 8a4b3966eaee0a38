package etl

import (
	"sync/atomic"
	"time"

	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// TestFastMatchesHCL evaluates expressions over records of every kind of
// value both ways: where the fast path answers, its value must be HCL's,
// type included; where HCL fails, the fast path must not answer.
func TestFastMatchesHCL(t *testing.T) {
	exprs := []string{
		`record.s == "pending"`, `record.s != "pending"`, `record.n == 3`, `record.n != record.m`,
		`record.n < 4`, `record.n <= record.m`, `record.n > 1.5`, `record.n >= 3`,
		`record.b && record.c`, `record.b || record.c`, `!record.b`,
		`record.s == "pending" && record.n < 4`, `(record.n + 1) * 2 - record.m`,
		`record.n / record.m`, `record.n % 2 == 0`, `record.n % record.m`,
		`"${record.s}-${record.t}"`, `"x${record.s}"`, `"${record.n}"`,
		`record.missing == null`, `record.missing != "a"`, `record.s == var.v`, `record.s == upper("pending")`,
		`{ a = record.s, b = record.n, c = "lit" }`, `{ "k" = record.s == "x", 1 = record.b }`,
		`{ (var.v) = record.s }`, `{ a = { b = record.s } }`, `{ a = record.missing }`,
	}
	vals := []cty.Value{
		cty.StringVal("pending"), cty.StringVal("p\u00e9nding"), cty.StringVal("pe\u0301nding"), cty.StringVal(""), cty.StringVal("5"), cty.StringVal("true"), cty.NumberIntVal(3), cty.NumberIntVal(0),
		cty.NumberFloatVal(2.5), cty.True, cty.False, cty.NullVal(cty.String), cty.NullVal(cty.Number),
		cty.NullVal(cty.DynamicPseudoType), cty.StringVal("pending").Mark(Sensitive), cty.ListValEmpty(cty.String),
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{"v": cty.StringVal("pending")})},
		Functions: Default.Functions(".", false, time.Time{}, new(atomic.Bool)),
	}
	// A constructor that repeats a key is HCL's: it evaluates the value
	// the later one replaces, and fails when that one does.
	for _, src := range []string{`{ a = record.s, a = record.t }`, `{ a = record.n + 1, a = record.s }`} {
		x, diags := hclsyntax.ParseExpression([]byte(src), "p.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if e, _ := compileExpr(x, ctx); e.fast != nil || e.object != nil {
			t.Errorf("%s: a fast path for a repeated key", src)
		}
	}
	answered, objects := 0, 0
	for _, src := range exprs {
		x, diags := hclsyntax.ParseExpression([]byte(src), "p.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		e, _ := compileExpr(x, ctx)
		if e.fast == nil {
			t.Errorf("%s: no fast path", src)
			continue
		}
		slow := e
		slow.fast = nil
		for i, a := range vals {
			for j, b := range vals {
				rec := Record{"s": a, "t": b, "n": a, "m": b, "b": a, "c": b}
				fv, ok := e.fast(rec)
				sv, err := slow.Eval(rec)
				switch {
				case !ok:
				case err != nil:
					t.Errorf("%s with %d,%d: fast gave %#v, HCL failed: %v", src, i, j, fv, err)
				case !fv.RawEquals(sv):
					t.Errorf("%s with %d,%d: fast gave %#v, HCL %#v", src, i, j, fv, sv)
				default:
					answered++
				}
				if names, attrs, ok := e.AttrValues(rec, nil); ok {
					objects++
					switch {
					case err != nil:
						t.Errorf("%s with %d,%d: AttrValues answered, HCL failed: %v", src, i, j, err)
					case !sv.Type().IsObjectType() || len(names) != len(attrs) || len(names) != len(sv.Type().AttributeTypes()):
						t.Errorf("%s with %d,%d: AttrValues gave %q %#v, HCL %#v", src, i, j, names, attrs, sv)
					default:
						k := 0
						for it := sv.ElementIterator(); it.Next(); k++ {
							name, v := it.Element()
							if names[k] != name.AsString() || !attrs[k].RawEquals(v) {
								t.Errorf("%s with %d,%d: attribute %d: AttrValues gave %s = %#v, HCL %s = %#v", src, i, j, k, names[k], attrs[k], name.AsString(), v)
							}
						}
					}
				}
			}
		}
	}
	if answered < 500 {
		t.Errorf("the fast path answered only %d cases", answered)
	}
	if objects < 1000 { // 5 constructors, 256 records each
		t.Errorf("AttrValues answered only %d cases", objects)
	}
}
