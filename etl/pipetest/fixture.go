package pipetest

import (
	"context"
	"fmt"

	"github.com/etlhq/etl/etl"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// DefaultPartition is the partition of fixture records that name none.
const DefaultPartition = "fixture"

// fixture is an overridden block's output: its records, partition by
// partition, in the order the test gives them. It is the etl.Source that
// stands for the block.
type fixture struct {
	parts []*fixturePart
}

type fixturePart struct {
	name    string
	records []etl.Record
}

var _ etl.Source = (*fixture)(nil)

// Read emits each partition's records and then its mark.
func (f *fixture) Read(_ context.Context, out etl.Output) error {
	for _, p := range f.parts {
		for _, r := range p.records {
			if err := out.Emit(r); err != nil {
				return err
			}
		}
		if err := out.EndPartition(&etl.Mark{Partition: p.name}); err != nil {
			return err
		}
	}
	return nil
}

// part returns the partition named so, adding it at the end if new.
func (f *fixture) part(name string) *fixturePart {
	for _, p := range f.parts {
		if p.name == name {
			return p
		}
	}
	p := &fixturePart{name: name}
	f.parts = append(f.parts, p)
	return p
}

// newFixture reads an override's records, checks them against the
// block's fields and fills the fields a record leaves out with nulls, as
// a plugin emits a field it has no value for.
func newFixture(o *Override, b *etl.Block, ctx *hcl.EvalContext, dir string) (*fixture, hcl.Diagnostics) {
	f := &fixture{}
	types := b.FieldTypes()
	what := fmt.Sprintf("%s (%s) produces", b.Addr, pos(b.DefRange))
	var diags hcl.Diagnostics
	add := func(records, file *hcl.Attribute, partition string) {
		var ws []written
		if records != nil {
			w, d := recordsAttr(records, ctx)
			diags = append(diags, d...)
			ws = append(ws, w...)
		}
		if file != nil {
			path, d := fileAttr(file, ctx, dir)
			diags = append(diags, d...)
			if !d.HasErrors() {
				w, d := recordsFile(path, file.Expr.Range())
				diags = append(diags, d...)
				ws = append(ws, w...)
			}
		}
		if partition != "" {
			f.part(partition) // a partition without records is still one
		}
		for _, w := range ws {
			skip := partitionKey
			if _, isField := types[partitionKey]; isField {
				skip = "" // the block's records carry a partition field: set it too
			}
			rec, d := checkFields(w, types, what, skip)
			diags = append(diags, d...)
			name := partition
			if pv, ok := objectAttr(w.val, partitionKey); ok {
				if pv.IsNull() || pv.Type() != cty.String || pv.AsString() == "" {
					diags = append(diags, diag(w.valueRange(partitionKey), "Invalid partition", `partition must be a non-empty string, such as "2025-12-01".`))
					continue
				}
				name = pv.AsString()
			}
			if name == "" {
				name = DefaultPartition
			}
			if _, isField := types[partitionKey]; isField && rec[partitionKey] == cty.NilVal {
				rec[partitionKey] = cty.StringVal(name)
			}
			for field, ty := range types {
				if _, set := rec[field]; !set {
					rec[field] = cty.NullVal(ty)
				}
			}
			p := f.part(name)
			p.records = append(p.records, rec)
		}
	}
	add(o.Records, o.File, "")
	for _, p := range o.Partitions {
		add(p.Records, p.File, p.Name)
	}
	return f, diags
}

// objectAttr returns an object's or map's attribute.
func objectAttr(v cty.Value, name string) (cty.Value, bool) {
	ty := v.Type()
	switch {
	case ty.IsObjectType() && ty.HasAttribute(name):
		return v.GetAttr(name), true
	case ty.IsMapType() && v.HasIndex(cty.StringVal(name)).True():
		return v.Index(cty.StringVal(name)), true
	}
	return cty.NilVal, false
}
