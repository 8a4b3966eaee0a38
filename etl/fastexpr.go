package etl

import (
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// fastFunc evaluates an expression for a record without HCL's machinery;
// ok is false when the operands are not the plain values it handles
// (null, unknown, marked, or of a type HCL would convert), and the caller
// then evaluates the expression with HCL, whose result and errors are the
// ones that count. It holds no state: an Expr is safe to share.
type fastFunc func(rec Record) (v cty.Value, ok bool)

// compileFast returns a fastFunc for the common shapes of per-record
// expressions (record.FIELD, literals, comparisons, && || !, arithmetic,
// string templates), or nil for any other shape. A subexpression that does
// not read the record is evaluated once, here. Per record, HCL's evaluation
// builds an object of the fields read, a child context and a function call
// per operator, several microseconds and a dozen allocations; this costs
// a few map reads and the result.
func compileFast(expr hcl.Expression, ctx *hcl.EvalContext) fastFunc {
	if len(recordRefs(expr)) == 0 {
		v, diags := expr.Value(ctx)
		if diags.HasErrors() || !v.IsWhollyKnown() || v.IsMarked() {
			return nil
		}
		return func(Record) (cty.Value, bool) { return v, true }
	}
	switch x := expr.(type) {
	case *hclsyntax.ParenthesesExpr:
		return compileFast(x.Expression, ctx)
	case *hclsyntax.TemplateWrapExpr:
		return compileFast(x.Wrapped, ctx)
	case *hclsyntax.ScopeTraversalExpr:
		if len(x.Traversal) != 2 {
			return nil
		}
		step, ok := x.Traversal[1].(hcl.TraverseAttr)
		if !ok {
			return nil
		}
		name := step.Name
		return func(rec Record) (cty.Value, bool) { return rec.Get(name), true }
	case *hclsyntax.UnaryOpExpr:
		val := compileFast(x.Val, ctx)
		if val == nil || x.Op != hclsyntax.OpLogicalNot {
			return nil
		}
		return func(rec Record) (cty.Value, bool) {
			v, ok := val(rec)
			if !ok || !plain(v, cty.Bool) {
				return cty.NilVal, false
			}
			return v.Not(), true
		}
	case *hclsyntax.BinaryOpExpr:
		return compileBinary(x, ctx)
	case *hclsyntax.TemplateExpr:
		return compileTemplate(x, ctx)
	case *hclsyntax.ObjectConsExpr:
		return compileObject(x, ctx)
	}
	return nil
}

// fastObject is an object constructor, { a = record.x, b = "lit" }, whose
// keys do not read the record and are distinct: the keys evaluated once,
// as HCL would (converted to strings), in go-cty's attribute order
// (sorted), with the fast functions of their values.
type fastObject struct {
	keys []string
	vals []fastFunc
}

// compileObjectParts returns x as a fastObject, or nil when a key reads the
// record or repeats, or a value has a shape compileFast does not handle.
func compileObjectParts(x *hclsyntax.ObjectConsExpr, ctx *hcl.EvalContext) *fastObject {
	byKey := make(map[string]fastFunc, len(x.Items))
	for _, item := range x.Items {
		if len(recordRefs(item.KeyExpr)) > 0 {
			return nil
		}
		k, diags := item.KeyExpr.Value(ctx)
		if diags.HasErrors() || !k.IsKnown() || k.IsNull() || k.IsMarked() {
			return nil
		}
		k, err := convert.Convert(k, cty.String)
		if err != nil {
			return nil
		}
		val := compileFast(item.ValueExpr, ctx)
		if _, dup := byKey[k.AsString()]; dup || val == nil {
			// A duplicate key: HCL evaluates the value it replaces too,
			// and fails when that one does; leave it to HCL.
			return nil
		}
		byKey[k.AsString()] = val
	}
	o := &fastObject{keys: slices.Sorted(maps.Keys(byKey))}
	o.vals = make([]fastFunc, len(o.keys))
	for i, k := range o.keys {
		o.vals[i] = byKey[k]
	}
	return o
}

// appendValues appends the values of the object's attributes for rec to
// dst, in key order; ok is false as soon as one needs HCL.
func (o *fastObject) appendValues(dst []cty.Value, rec Record) ([]cty.Value, bool) {
	for _, val := range o.vals {
		v, ok := val(rec)
		if !ok {
			return dst, false
		}
		dst = append(dst, v)
	}
	return dst, true
}

// compileObject evaluates an object constructor natively (see fastObject).
func compileObject(x *hclsyntax.ObjectConsExpr, ctx *hcl.EvalContext) fastFunc {
	o := compileObjectParts(x, ctx)
	if o == nil {
		return nil
	}
	return func(rec Record) (cty.Value, bool) {
		m := make(map[string]cty.Value, len(o.keys))
		for i, val := range o.vals {
			v, ok := val(rec)
			if !ok {
				return cty.NilVal, false
			}
			m[o.keys[i]] = v
		}
		return cty.ObjectVal(m), true
	}
}

// compileBinary handles the operators whose HCL functions reduce, for
// plain operands, to one cty method.
func compileBinary(x *hclsyntax.BinaryOpExpr, ctx *hcl.EvalContext) fastFunc {
	lhs, rhs := compileFast(x.LHS, ctx), compileFast(x.RHS, ctx)
	if lhs == nil || rhs == nil {
		return nil
	}
	var op func(a, b cty.Value) (cty.Value, bool)
	number := func(f func(a, b cty.Value) cty.Value) func(a, b cty.Value) (cty.Value, bool) {
		return func(a, b cty.Value) (cty.Value, bool) {
			if !plain(a, cty.Number) || !plain(b, cty.Number) {
				return cty.NilVal, false
			}
			return f(a, b), true
		}
	}
	nonZero := func(f func(a, b cty.Value) cty.Value) func(a, b cty.Value) (cty.Value, bool) {
		return func(a, b cty.Value) (cty.Value, bool) {
			if !plain(a, cty.Number) || !plain(b, cty.Number) || b.AsBigFloat().Sign() == 0 {
				return cty.NilVal, false // HCL's error for a zero divisor
			}
			return f(a, b), true
		}
	}
	boolean := func(f func(a, b cty.Value) cty.Value) func(a, b cty.Value) (cty.Value, bool) {
		return func(a, b cty.Value) (cty.Value, bool) {
			if !plain(a, cty.Bool) || !plain(b, cty.Bool) {
				return cty.NilVal, false
			}
			return f(a, b), true
		}
	}
	switch x.Op {
	case hclsyntax.OpEqual, hclsyntax.OpNotEqual:
		not := x.Op == hclsyntax.OpNotEqual
		op = func(a, b cty.Value) (cty.Value, bool) {
			if !a.IsKnown() || !b.IsKnown() || a.IsMarked() || b.IsMarked() {
				return cty.NilVal, false
			}
			var eq cty.Value
			if a.Type() == cty.String && b.Type() == cty.String && !a.IsNull() && !b.IsNull() {
				// What Equals does for two strings (both normalised when
				// made), without its checks of marks, unknowns and types.
				eq = cty.BoolVal(a.AsString() == b.AsString())
			} else {
				eq = a.Equals(b) // what HCL's == calls
			}
			if not {
				return eq.Not(), true
			}
			return eq, true
		}
	case hclsyntax.OpLessThan:
		op = number(cty.Value.LessThan)
	case hclsyntax.OpLessThanOrEqual:
		op = number(cty.Value.LessThanOrEqualTo)
	case hclsyntax.OpGreaterThan:
		op = number(cty.Value.GreaterThan)
	case hclsyntax.OpGreaterThanOrEqual:
		op = number(cty.Value.GreaterThanOrEqualTo)
	case hclsyntax.OpAdd:
		op = number(cty.Value.Add)
	case hclsyntax.OpSubtract:
		op = number(cty.Value.Subtract)
	case hclsyntax.OpMultiply:
		op = number(cty.Value.Multiply)
	case hclsyntax.OpDivide:
		op = nonZero(cty.Value.Divide)
	case hclsyntax.OpModulo:
		op = nonZero(cty.Value.Modulo)
	case hclsyntax.OpLogicalAnd:
		op = boolean(cty.Value.And)
	case hclsyntax.OpLogicalOr:
		op = boolean(cty.Value.Or)
	default:
		return nil
	}
	return func(rec Record) (cty.Value, bool) {
		a, ok := lhs(rec)
		if !ok {
			return cty.NilVal, false
		}
		b, ok := rhs(rec)
		if !ok {
			return cty.NilVal, false
		}
		return op(a, b)
	}
}

// compileTemplate handles "${...}" templates whose parts are strings.
func compileTemplate(x *hclsyntax.TemplateExpr, ctx *hcl.EvalContext) fastFunc {
	parts := make([]fastFunc, len(x.Parts))
	for i, p := range x.Parts {
		if parts[i] = compileFast(p, ctx); parts[i] == nil {
			return nil
		}
	}
	return func(rec Record) (cty.Value, bool) {
		var b strings.Builder
		for _, part := range parts {
			v, ok := part(rec)
			if !ok || !plain(v, cty.String) {
				return cty.NilVal, false // numbers and bools: HCL converts
			}
			b.WriteString(v.AsString())
		}
		return cty.StringVal(b.String()), true
	}
}

// plain reports whether v is a known, non-null, unmarked value of type t.
func plain(v cty.Value, t cty.Type) bool {
	return v.IsKnown() && !v.IsNull() && !v.IsMarked() && v.Type() == t
}
