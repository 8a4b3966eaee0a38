package etl

import (
	"fmt"
	"maps"
	"slices"
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
	// reads are the fields the entries may read; readsAll says an entry
	// reads the record whole (record[NAME], a function of record).
	reads    map[string]bool
	readsAll bool
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

// Apply returns a copy of rec with the entries' fields set, in order, and
// then the fields of drop removed; rec is left untouched. An evaluation
// error names the field and the expression's place.
//
// The copy is made at its size: a field dropped that no entry reads or
// sets is left out before the entries run, so that a record of eight
// fields that sets one and drops one stays a map of one group (a copy is
// then one memory copy), rather than growing into a larger table.
func (a Assignments) Apply(rec Record, drop []string) (Record, error) {
	peak := len(rec)
	var early []string // the fields of drop to leave out of the copy
	for _, name := range drop {
		if _, ok := rec[name]; ok && !a.readsAll && !a.reads[name] && !a.sets(name) {
			early = append(early, name)
			peak--
		}
	}
	for _, as := range a.list {
		if _, ok := rec[as.Field]; !ok {
			peak++
		}
	}
	var out Record
	if len(rec) <= 8 && peak <= 8 {
		out = maps.Clone(rec) // one group: a memory copy
		for _, name := range early {
			delete(out, name)
		}
	} else {
		out = make(Record, peak)
		for k, v := range rec {
			if !slices.Contains(early, k) {
				out[k] = v
			}
		}
	}
	for _, as := range a.list {
		v, err := as.Expr.Eval(out)
		if err != nil {
			return nil, fmt.Errorf("setting %s: %w", as.Field, err)
		}
		out[as.Field] = v
	}
	if len(early) < len(drop) {
		for _, name := range drop {
			delete(out, name)
		}
	}
	return out, nil
}

// sets reports whether an entry sets the field.
func (a Assignments) sets(name string) bool {
	return slices.ContainsFunc(a.list, func(as Assignment) bool { return as.Field == name })
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
		a.noteReads(item.Value)
	}
	return a, diags
}

// noteReads adds the fields expr reads to a.reads, or sets a.readsAll
// when it reads the record other than by record.NAME.
func (a *Assignments) noteReads(expr hcl.Expression) {
	for _, t := range recordRefs(expr) {
		step, ok := hcl.TraverseAttr{}, len(t) > 1
		if ok {
			step, ok = t[1].(hcl.TraverseAttr)
		}
		if !ok {
			a.readsAll = true
			continue
		}
		if a.reads == nil {
			a.reads = map[string]bool{}
		}
		a.reads[step.Name] = true
	}
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
