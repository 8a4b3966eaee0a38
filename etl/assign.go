package etl

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Assignments is a per-record object attribute, `set = { a = EXPR, b = EXPR }`:
// each value is an Expr evaluated for each record, in the order written,
// and an entry sees in `record` the fields the entries before it set
// (`set = { a = record.x + 1, b = record.a * 2 }`). A config field of this
// type is decoded so; the zero Assignments sets nothing.
type Assignments struct {
	list []Assignment
}

// Assignment is one entry of Assignments.
type Assignment struct {
	// Field is the field the entry sets.
	Field string
	// Expr is its value.
	Expr Expr
	// NameRange is where the field's name is written.
	NameRange hcl.Range
}

// List returns the entries in the order written.
func (a Assignments) List() []Assignment { return a.list }

// Fields returns the names the entries set, in order.
func (a Assignments) Fields() []string {
	names := make([]string, len(a.list))
	for i, as := range a.list {
		names[i] = as.Field
	}
	return names
}

// Apply returns a copy of rec with the entries' fields set, in order; rec
// is left untouched. An evaluation error names the field and the
// expression's place.
func (a Assignments) Apply(rec Record, extra int) (Record, error) {
	out := rec.Clone(len(a.list) + extra)
	for _, as := range a.list {
		v, err := as.Expr.Eval(out)
		if err != nil {
			return nil, fmt.Errorf("setting %s: %w", as.Field, err)
		}
		out[as.Field] = v
	}
	return out, nil
}

// Source renders the entries as written, "a = record.x + 1; b = ...", for
// fingerprints.
func (a Assignments) Source() string {
	parts := make([]string, len(a.list))
	for i, as := range a.list {
		parts[i] = as.Field + " = " + as.Expr.Source()
	}
	return strings.Join(parts, "; ")
}

// inputRefs returns the record traversals of the entries that read the
// input record: a reference to a field an earlier entry set reads that
// entry's value, not the input.
func (a Assignments) inputRefs() []hcl.Traversal {
	var refs []hcl.Traversal
	set := map[string]bool{}
	for _, as := range a.list {
		for _, t := range recordRefs(as.Expr.expr) {
			if len(t) > 1 {
				if step, ok := t[1].(hcl.TraverseAttr); ok && set[step.Name] {
					continue
				}
			}
			refs = append(refs, t)
		}
		set[as.Field] = true
	}
	return refs
}

// compileAssignments reads an object constructor, `{ name = EXPR, ... }`,
// whose keys are field names and whose values become per-record Exprs.
func compileAssignments(expr hcl.Expression, ctx *hcl.EvalContext, src func(hcl.Range) string) (Assignments, hcl.Diagnostics) {
	items, diags := hcl.ExprMap(expr)
	if diags.HasErrors() {
		return Assignments{}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid assignments",
			Detail:   "Expected an object of field = expression, such as { full_name = \"${record.first} ${record.last}\" }.",
			Subject:  expr.Range().Ptr(),
		}}
	}
	var a Assignments
	seen := map[string]hcl.Range{}
	for _, item := range items {
		name, ok := fieldName(item.Key)
		if !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid field name",
				Detail:   "A field name is a name or a quoted string, known before the run; it cannot read the record or a function.",
				Subject:  item.Key.Range().Ptr(),
			})
			continue
		}
		if prev, dup := seen[name]; dup {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Field set twice",
				Detail:   fmt.Sprintf("%s is already set at %s; set each field once (a later entry may read it as record.%s).", name, pos(prev), name),
				Subject:  item.Key.Range().Ptr(),
			})
			continue
		}
		seen[name] = item.Key.Range()
		e, d := compileExpr(item.Value, ctx)
		diags = append(diags, d...)
		if src != nil {
			e.source = src(item.Value.Range())
		}
		a.list = append(a.list, Assignment{Field: name, Expr: e, NameRange: item.Key.Range()})
	}
	return a, diags
}

// fieldName reads an object key written as a bare name or a literal
// string.
func fieldName(key hcl.Expression) (string, bool) {
	if kw := hcl.ExprAsKeyword(key); kw != "" {
		return kw, true
	}
	v, diags := key.Value(nil)
	if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() || v.Type() != cty.String || v.AsString() == "" {
		return "", false
	}
	return v.AsString(), true
}
