package pipetest

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/etlhq/etl/etl"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// partitionKey is the key of a fixture record that names its partition
// rather than a field.
const partitionKey = "partition"

// written is a record as a test file writes it (a fixture or an expected
// record): its value and where it and each of its keys and values are, so
// that a problem is reported at its file:line.
type written struct {
	val    cty.Value
	rng    hcl.Range
	keys   map[string]hcl.Range
	values map[string]hcl.Range
}

// keyRange is where field k is written, or the record when unknown.
func (w written) keyRange(k string) hcl.Range {
	if r, ok := w.keys[k]; ok {
		return r
	}
	return w.rng
}

func (w written) valueRange(k string) hcl.Range {
	if r, ok := w.values[k]; ok {
		return r
	}
	return w.keyRange(k)
}

// recordsAttr evaluates a list of records written in HCL, keeping where
// each element and key is written.
func recordsAttr(a *hcl.Attribute, ctx *hcl.EvalContext) ([]written, hcl.Diagnostics) {
	v, diags := a.Expr.Value(ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	ty := v.Type()
	if v.IsNull() || !(ty.IsTupleType() || ty.IsListType()) {
		return nil, hcl.Diagnostics{diag(a.Expr.Range(), "Invalid records", "records must be a list of objects, such as [{ phone = \"5615550100\" }].")}
	}
	var elems []hclsyntax.Expression
	if tc, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok {
		elems = tc.Exprs
	}
	var out []written
	i := 0
	for it := v.ElementIterator(); it.Next(); i++ {
		_, el := it.Element()
		w := written{val: el, rng: a.Expr.Range(), keys: map[string]hcl.Range{}, values: map[string]hcl.Range{}}
		if i < len(elems) {
			w.rng = elems[i].Range()
			w.keys, w.values = objectItems(elems[i], ctx)
		}
		if !el.Type().IsObjectType() && !el.Type().IsMapType() || el.IsNull() {
			diags = append(diags, diag(w.rng, "Invalid record", "Each record is an object of fields, such as { phone = \"5615550100\" }."))
			continue
		}
		out = append(out, w)
	}
	return out, diags
}

// objectItems returns where each key of an object written in HCL is, and
// its value; empty maps for an expression that is not an object
// constructor.
func objectItems(expr hcl.Expression, ctx *hcl.EvalContext) (keys, values map[string]hcl.Range) {
	keys, values = map[string]hcl.Range{}, map[string]hcl.Range{}
	oc, ok := expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return keys, values
	}
	for _, item := range oc.Items {
		name := hcl.ExprAsKeyword(item.KeyExpr)
		if name == "" {
			if kv, d := item.KeyExpr.Value(ctx); !d.HasErrors() && kv.Type() == cty.String && kv.IsKnown() && !kv.IsNull() {
				name = kv.AsString()
			}
		}
		if name != "" {
			keys[name], values[name] = item.KeyExpr.Range(), item.ValueExpr.Range()
		}
	}
	return keys, values
}

// keyRanges is where each key of an object written in HCL is.
func keyRanges(expr hcl.Expression, ctx *hcl.EvalContext) map[string]hcl.Range {
	keys, _ := objectItems(expr, ctx)
	return keys
}

// recordsFile reads a JSON Lines file of records, one object a line; each
// record's place is its line, each key's the column where it is written.
func recordsFile(path string, rng hcl.Range) ([]written, hcl.Diagnostics) {
	f, err := os.Open(path)
	if err != nil {
		return nil, hcl.Diagnostics{diag(rng, "Cannot read fixture file", fmt.Sprintf("%v; the path is relative to the test file.", err))}
	}
	defer f.Close()
	var out []written
	var diags hcl.Diagnostics
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if strings.TrimSpace(text) == "" {
			continue
		}
		lr := hcl.Range{Filename: path, Start: hcl.Pos{Line: line, Column: 1, Byte: 0}, End: hcl.Pos{Line: line, Column: len(text) + 1}}
		ty, err := ctyjson.ImpliedType([]byte(text))
		var v cty.Value
		if err == nil {
			v, err = ctyjson.Unmarshal([]byte(text), ty)
		}
		if err != nil || !ty.IsObjectType() {
			if err == nil {
				err = fmt.Errorf("a line must hold one JSON object")
			}
			diags = append(diags, diag(lr, "Invalid fixture line", fmt.Sprintf("%v.", err)))
			continue
		}
		w := written{val: v, rng: lr, keys: map[string]hcl.Range{}, values: map[string]hcl.Range{}}
		for k := range ty.AttributeTypes() {
			if col := strings.Index(text, fmt.Sprintf("%q", k)); col >= 0 {
				w.keys[k] = hcl.Range{Filename: path, Start: hcl.Pos{Line: line, Column: col + 1}, End: hcl.Pos{Line: line, Column: col + len(k) + 3}}
			}
		}
		out = append(out, w)
	}
	if err := sc.Err(); err != nil {
		diags = append(diags, diag(rng, "Cannot read fixture file", err.Error()))
	}
	return out, diags
}

// fileAttr evaluates a file attribute: a path relative to the test file.
func fileAttr(a *hcl.Attribute, ctx *hcl.EvalContext, dir string) (string, hcl.Diagnostics) {
	v, diags := a.Expr.Value(ctx)
	if diags.HasErrors() {
		return "", diags
	}
	if v.IsNull() || v.Type() != cty.String {
		return "", hcl.Diagnostics{diag(a.Expr.Range(), "Invalid file", `file must be a path, relative to the test file, such as "fixtures/calls.jsonl".`)}
	}
	p := v.AsString()
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return p, nil
}

// checkFields reports a record's keys that are not fields of the block
// (what a misspelt field is) and converts its values to their declared
// types. what says whose fields ("source.bland_calls.calls produces").
// A nil types map means the fields are unknown: nothing is checked.
func checkFields(w written, types map[string]cty.Type, what string, skip string) (etl.Record, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	rec := etl.Record{}
	for it := w.val.ElementIterator(); it.Next(); {
		k, v := it.Element()
		name := k.AsString()
		if name == skip {
			continue
		}
		if types == nil {
			rec[name] = v
			continue
		}
		ty, ok := types[name]
		if !ok {
			names := slices.Sorted(maps.Keys(types))
			detail := fmt.Sprintf("%s no field %q.", what, name)
			if s := etl.Nearest(name, names); s != "" {
				detail += fmt.Sprintf(" Did you mean %s?", s)
			} else {
				detail += " Its fields: " + strings.Join(names, ", ") + "."
			}
			diags = append(diags, diag(w.keyRange(name), "Unknown field", detail))
			continue
		}
		if ty != cty.DynamicPseudoType {
			c, err := convert.Convert(v, ty)
			if err != nil {
				diags = append(diags, diag(w.valueRange(name), "Invalid field value", fmt.Sprintf("Field %s is %s: %v.", name, ty.FriendlyName(), err)))
				continue
			}
			v = c
		}
		rec[name] = v
	}
	return rec, diags
}
