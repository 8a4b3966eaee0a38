package etl

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Expr is a per-record attribute: an expression evaluated for each record
// with `record` in scope, e.g. `key = record.phone`. The zero Expr is unset
// (the attribute was omitted); check IsSet.
//
// Evaluation is cheap in the common cases: `record.FIELD` reads the field
// directly, and an expression that does not mention `record` is evaluated
// once at load time.
type Expr struct {
	expr hcl.Expression
	ctx  *hcl.EvalContext

	field    string    // set when expr is exactly record.FIELD
	constant bool      // true when expr does not refer to record
	value    cty.Value // the value of a constant expression
	// fields lists the record fields the expression reads when it only
	// reads record.NAME forms: the `record` object is then built from
	// those alone, not from the whole (wide) record.
	fields []string
	// source is the expression as written, for fingerprints and messages.
	source string
	// fast evaluates common shapes without HCL (see compileFast); nil
	// when the expression has another shape.
	fast fastFunc
	// object is set when the expression is an object constructor that
	// fast handles: AttrValues reads its attributes without building it.
	object *fastObject
}

// Source returns the expression as written in the pipeline file, e.g.
// "record.phone"; "" when unset.
func (e Expr) Source() string { return e.source }

// compileExpr prepares expr for per-record evaluation in ctx.
func compileExpr(expr hcl.Expression, ctx *hcl.EvalContext) (Expr, hcl.Diagnostics) {
	e := Expr{expr: expr, ctx: ctx}
	if len(recordRefs(expr)) == 0 {
		v, diags := expr.Value(ctx)
		e.constant, e.value = true, v
		return e, diags
	}
	if trav, diags := hcl.AbsTraversalForExpr(expr); !diags.HasErrors() && len(trav) == 2 && trav.RootName() == "record" {
		if a, ok := trav[1].(hcl.TraverseAttr); ok {
			e.field = a.Name
		}
	}
	seen := map[string]bool{}
	for _, t := range recordRefs(expr) {
		a, ok := t[min(1, len(t)-1)].(hcl.TraverseAttr)
		if len(t) < 2 || !ok {
			seen = nil // the whole record is used
			break
		}
		if !seen[a.Name] {
			seen[a.Name] = true
			e.fields = append(e.fields, a.Name)
		}
	}
	if seen == nil {
		e.fields = nil
	}
	e.fast = compileFast(expr, ctx)
	if x, ok := expr.(*hclsyntax.ObjectConsExpr); ok && e.fast != nil {
		e.object = compileObjectParts(x, ctx)
	}
	return e, nil
}

// recordRefs returns the traversals in expr that start at `record`.
func recordRefs(expr hcl.Expression) []hcl.Traversal {
	var refs []hcl.Traversal
	for _, t := range expr.Variables() {
		if t.RootName() == "record" {
			refs = append(refs, t)
		}
	}
	return refs
}

// Constant returns the expression's value when it does not read the
// record (it was evaluated at load time); ok is false otherwise.
func (e Expr) Constant() (v cty.Value, ok bool) {
	return e.value, e.expr != nil && e.constant
}

// Field returns NAME when the expression is exactly record.NAME, whose
// value for a record is that field's; ok is false otherwise.
func (e Expr) Field() (name string, ok bool) { return e.field, e.field != "" }

// IsSet reports whether the attribute was given.
func (e Expr) IsSet() bool { return e.expr != nil }

// Range is where the expression is written, for messages.
func (e Expr) Range() hcl.Range {
	if e.expr == nil {
		return hcl.Range{}
	}
	return e.expr.Range()
}

// Fields returns the record fields the expression reads.
func (e Expr) Fields() []string {
	if e.expr == nil {
		return nil
	}
	var names []string
	for _, t := range recordRefs(e.expr) {
		if len(t) > 1 {
			if a, ok := t[1].(hcl.TraverseAttr); ok {
				names = append(names, a.Name)
			}
		}
	}
	return names
}

// Eval evaluates the expression for rec. An unset Expr yields null. A record
// that lacks a field read as record.FIELD yields null for it, as a missing
// JSON field would; other evaluation errors name the expression's place.
func (e Expr) Eval(rec Record) (cty.Value, error) {
	switch {
	case e.expr == nil:
		return cty.NullVal(cty.DynamicPseudoType), nil
	case e.constant:
		return e.value, nil
	case e.field != "":
		return rec.Get(e.field), nil
	case e.fast != nil:
		if v, ok := e.fast(rec); ok {
			return v, nil
		}
	}
	obj := cty.EmptyObjectVal
	if e.fields != nil {
		sub := make(map[string]cty.Value, len(e.fields))
		for _, f := range e.fields {
			sub[f] = rec.Get(f)
		}
		obj = cty.ObjectVal(sub)
	} else if len(rec) > 0 {
		obj = rec.Value()
	}
	ctx := e.ctx.NewChild()
	ctx.Variables = map[string]cty.Value{"record": obj}
	v, diags := e.expr.Value(ctx)
	if diags.HasErrors() {
		return cty.NilVal, diagsError(diags)
	}
	return v, nil
}

// AttrValues evaluates an object constructor, { a = record.x, b = "lit" },
// attribute by attribute, without building the object (go-cty computes an
// object's type anew for each value, a map per record): names are its
// attribute names in go-cty's order, sorted (shared: not to be modified),
// and vals their values for rec, appended to buf[:0]. The values are those
// Eval's object would hold. ok is false when the expression is not such a
// constructor or a value needs HCL's own evaluation for this record; call
// Eval then.
func (e Expr) AttrValues(rec Record, buf []cty.Value) (names []string, vals []cty.Value, ok bool) {
	if e.object == nil {
		return nil, buf[:0], false
	}
	vals, ok = e.object.appendValues(buf[:0], rec)
	return e.object.keys, vals, ok
}

// EvalString evaluates the expression and returns a string, or "" with
// ok=false when the value is null. Numbers and bools are converted.
func (e Expr) EvalString(rec Record) (s string, ok bool, err error) {
	v, err := e.Eval(rec)
	if err != nil || v.IsNull() || !v.IsKnown() {
		return "", false, err
	}
	v = Unmarked(v)
	switch v.Type() {
	case cty.String:
		return v.AsString(), true, nil
	case cty.Number:
		return v.AsBigFloat().Text('f', -1), true, nil
	case cty.Bool:
		return fmt.Sprint(v.True()), true, nil
	}
	return "", false, fmt.Errorf("%s: want a string, got %s", e.Range(), v.Type().FriendlyName())
}

// Unmarked returns v without its marks (v.UnmarkDeep), skipping
// UnmarkDeep's allocations for the usual case, an unmarked string, number
// or bool: per record they were a few percent of a pipeline's garbage.
func Unmarked(v cty.Value) cty.Value {
	if !v.IsMarked() && v.Type().IsPrimitiveType() {
		return v
	}
	v, _ = v.UnmarkDeep()
	return v
}

// diagsError turns error diagnostics into one error without record values
// (which may hold personal data): "file:line,col: summary; detail".
func diagsError(diags hcl.Diagnostics) error {
	for _, d := range diags {
		d.Expression, d.EvalContext = nil, nil
	}
	return diags.Errs()[0]
}
