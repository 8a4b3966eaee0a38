package mapper

import (
	"fmt"
	"slices"
	"strings"

	"github.com/etlhq/etl/etl"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Config is the map block.
type Config struct {
	Set  etl.Assignments `hcl:"set,optional" doc:"Fields to set, { field = expression, ... }, evaluated per record in order; an entry may read a field an earlier one set (record.NAME)."`
	Drop []string        `hcl:"drop,optional" doc:"Fields to remove from every record, after set."`
}

// Validate requires something to do, and a drop list that names fields
// the input produces, each once, none of them also set.
func (c *Config) Validate(b *etl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if len(c.Set.List()) == 0 && len(c.Drop) == 0 && b.Known("set") && b.Known("drop") {
		diags = append(diags, b.Diag("set", "Nothing to do",
			"A map sets fields (set = { field = expression }) or drops them (drop = [\"field\"]); this one does neither."))
	}
	set := c.Set.Fields()
	seen := map[string]bool{}
	for _, name := range c.Drop {
		switch {
		case seen[name]:
			diags = append(diags, b.Diag("drop", "Field dropped twice", fmt.Sprintf("%q appears twice in drop.", name)))
		case slices.Contains(set, name):
			diags = append(diags, b.Diag("drop", "Field set and dropped",
				fmt.Sprintf("%q is set, then dropped: remove it from set, or from drop.", name)))
		case b.Input != nil && b.Input.Fields != nil && !b.Input.Fields[name]:
			var names []string
			for f := range b.Input.Fields {
				names = append(names, f)
			}
			slices.Sort(names)
			diags = append(diags, b.Diag("drop", "Unknown record field",
				fmt.Sprintf("%s does not produce a field %q to drop. It produces: %s.", b.Input.Addr, name, strings.Join(names, ", "))))
		}
		seen[name] = true
	}
	return diags
}

// DeclaredFields returns the fields set, for the blocks after the map.
func (c *Config) DeclaredFields() []etl.Field {
	var fields []etl.Field
	for _, name := range c.Set.Fields() {
		fields = append(fields, etl.Field{Name: name, Type: cty.DynamicPseudoType})
	}
	return fields
}

// RemovedFields returns the fields dropped.
func (c *Config) RemovedFields() []string { return c.Drop }

// Fingerprint returns the entries and the drop list: state saved after a
// map that set or dropped other fields holds other records.
func (c *Config) Fingerprint() map[string]string {
	return map[string]string{"set": c.Set.Source(), "drop": strings.Join(c.Drop, ", ")}
}

// Register adds map to r.
func Register(r *etl.Registry) {
	etl.RegisterProcessor(r, etl.KindTransform, etl.Spec[Config]{
		Type:    "map",
		Summary: "Sets fields from per-record expressions, in order, and drops fields.",
		// Reads only its set entries; emits its input records with the
		// fields set and dropped.
		ReadsDeclaredFields: true,
	}, func(cfg *Config, env etl.Env) (etl.Processor, error) {
		return New(cfg, env), nil
	})
}

// Interface guards: a hook whose signature drifts fails to compile.
var (
	_ etl.Validator      = (*Config)(nil)
	_ etl.FieldDeclarer  = (*Config)(nil)
	_ etl.FieldRemover   = (*Config)(nil)
	_ etl.Fingerprinter  = (*Config)(nil)
	_ etl.Processor      = (*Map)(nil)
	_ etl.PartitionEnder = (*Map)(nil)
	_ etl.Finisher       = (*Map)(nil)
)

func init() { Register(etl.Default) }
