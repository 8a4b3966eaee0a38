package pipetest

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/etlhq/etl/etl"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// expectation is an expect block, evaluated: the records a sink should
// receive, exactly (records) or at least (contains).
type expectation struct {
	e         *Expect
	sink      etl.Addr
	key       string
	exact     []expected
	contained []expected
}

// expected is one expected record: only the fields it names are compared.
type expected struct {
	rec etl.Record
	rng hcl.Range
}

// expectation evaluates an expect block, checking its records' fields
// against those the sink receives.
func (tr *testRun) expectation(e *Expect) (*expectation, hcl.Diagnostics) {
	b, diags := tr.block(e.Label, e.LabelRange, "expect")
	if b == nil {
		return nil, diags
	}
	if b.Addr.Kind != etl.KindSink {
		return nil, append(diags, diag(e.LabelRange, "Not a sink", fmt.Sprintf("expect compares the records a sink receives; %s is a %s. Name the sink it feeds, or check its counts with an assert block.", b.Addr, b.Addr.Kind)))
	}
	x := &expectation{e: e, sink: b.Addr}
	var types map[string]cty.Type
	what := fmt.Sprintf("The records %s receives have", b.Addr)
	if b.Input != nil {
		types = b.Input.FieldTypes()
		what = fmt.Sprintf("The records %s receives (from %s) have", b.Addr, b.Input.Addr)
	}
	if e.Key != nil {
		v, d := e.Key.Expr.Value(tr.ctx)
		diags = append(diags, d...)
		switch {
		case d.HasErrors():
		case v.IsNull() || v.Type() != cty.String:
			diags = append(diags, diag(e.Key.Expr.Range(), "Invalid key", `key names the field that tells records apart, such as "phone".`))
		case types != nil && types[v.AsString()] == cty.NilType:
			diags = append(diags, diag(e.Key.Expr.Range(), "Unknown field", fmt.Sprintf("%s no field %q.", what, v.AsString())))
		default:
			x.key = v.AsString()
		}
	}
	for _, a := range []struct {
		attr *hcl.Attribute
		into *[]expected
	}{{e.Records, &x.exact}, {e.Contain, &x.contained}} {
		if a.attr == nil {
			continue
		}
		ws, d := recordsAttr(a.attr, tr.ctx)
		diags = append(diags, d...)
		for _, w := range ws {
			rec, d := checkFields(w, types, what, "")
			diags = append(diags, d...)
			*a.into = append(*a.into, expected{rec: rec, rng: w.rng})
		}
		if a.attr == e.Records && *a.into == nil {
			*a.into = []expected{} // records = []: the sink receives nothing
		}
	}
	return x, diags
}

// check compares the outcome with the test's expectations and assertions.
func (tr *testRun) check(out *outcome) []Failure {
	var fails []Failure
	for _, x := range tr.expects {
		got := out.records[x.sink]
		if x.key != "" {
			got = lastPerKey(got, x.key)
		}
		if x.exact != nil {
			if diff, ok := compare(x.exact, got, true, x.key); !ok {
				fails = append(fails, Failure{Range: x.e.DefRange,
					Message: fmt.Sprintf("%s received %s; %s expected exactly (order aside)", x.sink, plural(len(got), "record"), plural(len(x.exact), "record")),
					Diff:    diff})
			}
		}
		if x.contained != nil {
			if diff, ok := compare(x.contained, got, false, x.key); !ok {
				fails = append(fails, Failure{Range: x.e.DefRange,
					Message: fmt.Sprintf("%s received %s, without every record of contains", x.sink, plural(len(got), "record")),
					Diff:    diff})
			}
		}
	}
	if len(tr.test.Asserts) == 0 {
		return fails
	}
	ctx := tr.scope(out)
	for _, a := range tr.test.Asserts {
		if f, failed := tr.assert(a, ctx); failed {
			fails = append(fails, f)
		}
	}
	return fails
}

// assert evaluates one assert block.
func (tr *testRun) assert(a *Assert, ctx *hcl.EvalContext) (Failure, bool) {
	src := strings.TrimSpace(string(a.Condition.Expr.Range().SliceBytes(tr.file.Files()[a.Condition.Expr.Range().Filename].Bytes)))
	v, diags := a.Condition.Expr.Value(ctx)
	if diags.HasErrors() {
		return Failure{Range: a.Condition.Expr.Range(), Message: "the condition cannot be evaluated: " + diagText(diags), Diff: tr.values(a.Condition.Expr, ctx)}, true
	}
	v, _ = v.UnmarkDeep()
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.Bool {
		return Failure{Range: a.Condition.Expr.Range(), Message: "the condition must be true or false, not " + render(v)}, true
	}
	if v.True() {
		return Failure{}, false
	}
	msg := "assertion failed"
	if m, d := a.ErrorMessage.Expr.Value(ctx); !d.HasErrors() {
		m, _ = m.UnmarkDeep()
		if m.Type() == cty.String && !m.IsNull() && m.IsKnown() {
			msg = m.AsString()
		}
	} else {
		msg += " (error_message: " + diagText(d) + ")"
	}
	return Failure{Range: a.DefRange, Message: msg, Diff: "condition: " + src + "\n" + tr.values(a.Condition.Expr, ctx)}, true
}

// values shows what each reference in a failed condition stood for.
func (tr *testRun) values(expr hcl.Expression, ctx *hcl.EvalContext) string {
	var lines []string
	seen := map[string]bool{}
	for _, t := range expr.Variables() {
		// A reference that does not resolve (a key not there) shows the
		// longest part that does: what is there instead.
		for n := len(t); n > 0; n-- {
			r := t[:n].SourceRange()
			name := strings.TrimSpace(string(r.SliceBytes(tr.file.Files()[r.Filename].Bytes)))
			v, d := t[:n].TraverseAbs(ctx)
			if d.HasErrors() {
				continue
			}
			if !seen[name] {
				seen[name] = true
				lines = append(lines, fmt.Sprintf("%s = %s", name, render(v)))
			}
			break
		}
	}
	return strings.Join(lines, "\n")
}

// scope is what assertions see: var, test, and per block its counts, and
// per sink its records and change.
func (tr *testRun) scope(out *outcome) *hcl.EvalContext {
	results := map[etl.Addr]etl.BlockResult{}
	changes := map[etl.Addr]etl.Change{}
	if out.res != nil {
		for _, b := range out.res.Blocks {
			results[b.Addr] = b
		}
		for _, c := range out.res.Changes {
			changes[c.Block] = c
		}
	}
	kinds := map[string]map[string]map[string]cty.Value{}
	for _, b := range tr.p.Blocks {
		br := results[b.Addr]
		obj := map[string]cty.Value{
			"in": cty.NumberIntVal(br.In), "out": cty.NumberIntVal(br.Out),
			"dropped": countsVal(br.Dropped), "counts": countsVal(br.Counts),
			"partitions": partitionsVal(out.partitions[b.Addr.String()]),
		}
		if b.Addr.Kind == etl.KindSink {
			recs := make([]cty.Value, 0, len(out.records[b.Addr]))
			for _, r := range out.records[b.Addr] {
				recs = append(recs, r.Value())
			}
			obj["records"] = cty.TupleVal(recs)
			c := changes[b.Addr]
			details := make([]cty.Value, 0, len(c.Details))
			for _, d := range c.Details {
				details = append(details, cty.StringVal(d))
			}
			obj["change"] = cty.ObjectVal(map[string]cty.Value{"changed": cty.BoolVal(c.Changed), "summary": cty.StringVal(c.Summary), "details": cty.TupleVal(details)})
		}
		k := string(b.Addr.Kind)
		if kinds[k] == nil {
			kinds[k] = map[string]map[string]cty.Value{}
		}
		if kinds[k][b.Addr.Type] == nil {
			kinds[k][b.Addr.Type] = map[string]cty.Value{}
		}
		kinds[k][b.Addr.Type][b.Addr.Name] = cty.ObjectVal(obj)
	}
	vars := map[string]cty.Value{}
	for k, v := range tr.ctx.Variables {
		vars[k] = v
	}
	pv := map[string]cty.Value{}
	for _, v := range tr.p.Variables {
		pv[v.Name] = v.Value
	}
	vars["var"] = cty.ObjectVal(pv)
	for k, types := range kinds {
		tv := map[string]cty.Value{}
		for typ, names := range types {
			tv[typ] = cty.ObjectVal(names)
		}
		vars[k] = cty.ObjectVal(tv)
	}
	return &hcl.EvalContext{Variables: vars, Functions: tr.ctx.Functions}
}

// countsVal is an object rather than a map, so that a test can compare
// it with an object it writes: dropped == { "excluded: SALE" = 1 }.
func countsVal(m map[string]int64) cty.Value {
	vals := map[string]cty.Value{}
	for k, n := range m {
		vals[k] = cty.NumberIntVal(n)
	}
	return cty.ObjectVal(vals)
}

// partitionsVal turns a block's partition events' data into an object by
// partition.
func partitionsVal(parts map[string]map[string]any) cty.Value {
	obj := map[string]cty.Value{}
	for name, data := range parts {
		raw, err := json.Marshal(data)
		if err != nil {
			continue
		}
		ty, err := ctyjson.ImpliedType(raw)
		if err != nil {
			continue
		}
		if v, err := ctyjson.Unmarshal(raw, ty); err == nil {
			obj[name] = v
		}
	}
	return cty.ObjectVal(obj)
}

// compare matches expected records with received ones, order aside: each
// expected record matches a received one that has the same value in every
// field it names. exact requires every received record to be matched too.
// The diff pairs a missing record with the received one closest to it (by
// key, when given) and shows the fields that differ.
func compare(want []expected, got []etl.Record, exact bool, key string) (string, bool) {
	used := make([]bool, len(got))
	var missing []expected
	for _, w := range want {
		j := firstUnused(got, used, func(r etl.Record) bool { return matches(w.rec, r) })
		if j < 0 {
			missing = append(missing, w)
			continue
		}
		used[j] = true
	}
	var extra []int
	for j := range got {
		if !used[j] {
			extra = append(extra, j)
		}
	}
	if len(missing) == 0 && (!exact || len(extra) == 0) {
		return "", true
	}
	fields := map[string]bool{}
	for _, w := range want {
		for k := range w.rec {
			fields[k] = true
		}
	}
	type line struct{ sort, text string }
	var lines []line
	paired := map[int]bool{}
	for _, m := range missing {
		j, score := -1, 0
		for _, c := range extra {
			if paired[c] || (key != "" && !valuesEqual(m.rec.Get(key), got[c].Get(key))) {
				continue
			}
			if s := agreement(m.rec, got[c]); s > score || (key != "" && j < 0) {
				j, score = c, s
			}
		}
		if j < 0 {
			lines = append(lines, line{sortKey(m.rec, key), fmt.Sprintf("- %s  (expected at line %d, not received)", renderRecord(m.rec, nil), m.rng.Start.Line)})
			continue
		}
		paired[j] = true
		var diffs []string
		for _, k := range slices.Sorted(maps.Keys(m.rec)) {
			if !valuesEqual(m.rec[k], got[j].Get(k)) {
				diffs = append(diffs, fmt.Sprintf("%s: expected %s, received %s", k, render(m.rec[k]), render(got[j].Get(k))))
			}
		}
		lines = append(lines, line{sortKey(m.rec, key), fmt.Sprintf("~ %s  (expected at line %d)\n    %s", renderRecord(m.rec, nil), m.rng.Start.Line, strings.Join(diffs, "\n    "))})
	}
	if exact {
		for _, j := range extra {
			if !paired[j] {
				lines = append(lines, line{sortKey(got[j], key), "+ " + renderRecord(got[j], fields) + "  (received, not expected)"})
			}
		}
	}
	sort.SliceStable(lines, func(a, b int) bool { return lines[a].sort < lines[b].sort })
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.text + "\n")
	}
	return b.String(), false
}

// lastPerKey keeps the last record received for each value of key, in
// the order of those last records: what a keyed sink keeps of records
// that came several times (behind dedupe_latest's emit = "updates").
func lastPerKey(recs []etl.Record, key string) []etl.Record {
	last := map[string]int{}
	for i, r := range recs {
		last[render(r.Get(key))] = i
	}
	var out []etl.Record
	for i, r := range recs {
		if last[render(r.Get(key))] == i {
			out = append(out, r)
		}
	}
	return out
}

func firstUnused(got []etl.Record, used []bool, ok func(etl.Record) bool) int {
	for j, r := range got {
		if !used[j] && ok(r) {
			return j
		}
	}
	return -1
}

// matches reports whether r has want's value in every field want names.
func matches(want, r etl.Record) bool {
	for k, v := range want {
		if !valuesEqual(v, r.Get(k)) {
			return false
		}
	}
	return true
}

// agreement counts the fields of want that r has the same value in.
func agreement(want, r etl.Record) int {
	n := 0
	for k, v := range want {
		if valuesEqual(v, r.Get(k)) {
			n++
		}
	}
	return n
}

// valuesEqual compares an expected value with a received one, converting
// the expected to the received one's type first ("1" matches 1).
func valuesEqual(want, got cty.Value) (eq bool) {
	want, _ = want.UnmarkDeep()
	got, _ = got.UnmarkDeep()
	if want.IsNull() || got.IsNull() {
		return want.IsNull() && got.IsNull()
	}
	if c, err := convert.Convert(want, got.Type()); err == nil {
		want = c
	}
	defer func() {
		if recover() != nil {
			eq = false // values of types cty cannot compare
		}
	}()
	e := want.Equals(got)
	return e.IsKnown() && e.True()
}

// sortKey orders diff lines by the key field, then by text.
func sortKey(r etl.Record, key string) string {
	if key != "" {
		return render(r.Get(key))
	}
	return renderRecord(r, nil)
}

// renderRecord writes a record as an HCL object on one line, its fields
// sorted; only the given fields when fields is not nil.
func renderRecord(r etl.Record, fields map[string]bool) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(r)) {
		if fields != nil && !fields[k] {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s = %s", k, render(r[k])))
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// render writes a value as HCL, on one line.
func render(v cty.Value) string {
	v, _ = v.UnmarkDeep()
	ty := v.Type()
	switch {
	case !v.IsKnown():
		return "(unknown)"
	case v.IsNull():
		return "null"
	case ty.IsObjectType() || ty.IsMapType():
		var parts []string
		for it := v.ElementIterator(); it.Next(); {
			k, el := it.Element()
			name := k.AsString()
			if !hclsyntax.ValidIdentifier(name) {
				name = fmt.Sprintf("%q", name)
			}
			parts = append(parts, name+" = "+render(el))
		}
		if len(parts) == 0 {
			return "{}"
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	case ty.IsTupleType() || ty.IsListType() || ty.IsSetType():
		var parts []string
		for it := v.ElementIterator(); it.Next(); {
			_, el := it.Element()
			parts = append(parts, render(el))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return strings.TrimSpace(string(hclwrite.TokensForValue(v).Bytes()))
}

func diagText(diags hcl.Diagnostics) string {
	var parts []string
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			parts = append(parts, strings.TrimSuffix(d.Summary+": "+d.Detail, ": "))
		}
	}
	return strings.Join(parts, "; ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
