package etl

import (
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Variable is a declared pipeline variable and the value it got.
type Variable struct {
	Name        string
	Description string
	Type        cty.Type
	Default     cty.Value
	Sensitive   bool
	// Value is the resolved value; marked Sensitive when the variable is.
	Value cty.Value
	// From says where the value came from: default, a var file, the
	// environment or the command line.
	From      string
	DeclRange hcl.Range
}

var variableSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"},
}}

// FromUnset is Variable.From for a required variable given no value,
// which `etl validate` checks as an unknown value.
const FromUnset = "no value (required; unknown while validating)"

// EnvVarPrefix prefixes environment variables that set pipeline variables:
// ETL_VAR_start_date=2025-12-01.
const EnvVarPrefix = "ETL_VAR_"

// resolveVariables decodes the variable blocks and gives each its value:
// default < --var-file < ETL_VAR_NAME < --var, later wins, as in Terraform.
// It returns the variables and the `var` object for expressions.
func resolveVariables(blocks []*hcl.Block, opts LoadOptions) ([]*Variable, map[string]cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	byName := map[string]*Variable{}
	var vars []*Variable
	for _, hb := range blocks {
		v, d := decodeVariable(hb)
		diags = append(diags, d...)
		if prev, dup := byName[v.Name]; dup {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate variable",
				Detail:   fmt.Sprintf("Variable %q is already declared at %s.", v.Name, prev.DeclRange),
				Subject:  hb.LabelRanges[0].Ptr(),
			})
			continue
		}
		byName[v.Name] = v
		vars = append(vars, v)
	}

	set := func(name, raw string, from string, rng *hcl.Range, parsed *cty.Value) {
		v, ok := byName[name]
		if !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Value for undeclared variable",
				Detail:   fmt.Sprintf("%s sets %q, but the pipeline declares no variable of that name.", from, name),
				Subject:  rng,
			})
			return
		}
		val := cty.NilVal
		if parsed != nil {
			val = *parsed
		} else {
			val = parseVarValue(raw, v.Type)
		}
		conv, err := convert.Convert(val, v.Type)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for variable",
				Detail:   fmt.Sprintf("%s gives var.%s a value that is not %s: %s.%s", from, name, v.Type.FriendlyNameForConstraint(), err, valueHint(name, v.Type)),
				Subject:  rng,
			})
			return
		}
		v.Value, v.From = conv, from
	}

	for _, path := range opts.VarFiles {
		src, err := os.ReadFile(path)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read var file", Detail: err.Error()})
			continue
		}
		f, d := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		attrs, d := f.Body.JustAttributes()
		diags = append(diags, d...)
		for _, name := range sortedKeys(attrs) {
			a := attrs[name]
			val, d := a.Expr.Value(nil)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			set(name, "", "var file "+path, a.NameRange.Ptr(), &val)
		}
	}
	for _, kv := range opts.Environ {
		name, raw, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvVarPrefix) {
			continue
		}
		name = strings.TrimPrefix(name, EnvVarPrefix)
		if _, declared := byName[name]; declared {
			set(name, raw, "environment variable "+EnvVarPrefix+name, nil, nil)
		}
	}
	for _, kv := range opts.Vars {
		name, raw, ok := strings.Cut(kv, "=")
		if !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid --var",
				Detail:   fmt.Sprintf("--var %q must be NAME=VALUE.", kv),
			})
			continue
		}
		set(strings.TrimSpace(name), raw, "--var "+strings.TrimSpace(name), nil, nil)
	}
	for _, v := range opts.Values {
		set(v.Name, "", v.From, v.Range.Ptr(), &v.Value)
	}

	obj := map[string]cty.Value{}
	for _, v := range vars {
		if v.Value == cty.NilVal && opts.AllowUnknown {
			// Validate without a value: check everything that does not
			// depend on it, as env() of an unset variable is checked.
			v.Value, v.From = cty.UnknownVal(v.Type), FromUnset
		}
		if v.Value == cty.NilVal {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "No value for required variable",
				Detail:   fmt.Sprintf("Variable %q has no default; set it with --var %s=VALUE, --var-file or %s%s.", v.Name, v.Name, EnvVarPrefix, v.Name),
				Subject:  v.DeclRange.Ptr(),
			})
			v.Value = cty.UnknownVal(v.Type)
		}
		if v.Sensitive {
			v.Value = v.Value.Mark(Sensitive)
		}
		obj[v.Name] = v.Value
	}
	return vars, map[string]cty.Value{"var": cty.ObjectVal(obj)}, diags
}

// valueHint shows how to write a value of type ty on the command line.
func valueHint(name string, ty cty.Type) string {
	switch {
	case ty == cty.Bool:
		return fmt.Sprintf(" Write --var %s=true or --var %s=false.", name, name)
	case ty == cty.Number:
		return fmt.Sprintf(" Write a number: --var %s=3.", name)
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		return fmt.Sprintf(` Write an HCL list, quoted for the shell: --var '%s=["A","B"]'.`, name)
	case ty.IsMapType() || ty.IsObjectType():
		return fmt.Sprintf(` Write an HCL object, quoted for the shell: --var '%s={a="x"}'.`, name)
	}
	return ""
}

// parseVarValue reads a command-line or environment value: as a plain
// string for string variables; otherwise as an HCL expression when it parses
// as one (["SALE","DNC"], true, 3), else as a string.
func parseVarValue(raw string, ty cty.Type) cty.Value {
	if ty == cty.String {
		return cty.StringVal(raw)
	}
	expr, d := hclsyntax.ParseExpression([]byte(raw), "<value>", hcl.InitialPos)
	if !d.HasErrors() {
		if v, d := expr.Value(nil); !d.HasErrors() {
			return v
		}
	}
	return cty.StringVal(raw)
}

func decodeVariable(hb *hcl.Block) (v *Variable, diags hcl.Diagnostics) {
	v = &Variable{Name: hb.Labels[0], Type: cty.DynamicPseudoType, DeclRange: hb.DefRange, Value: cty.NilVal}
	defer func() {
		if diags.HasErrors() && v.Value == cty.NilVal {
			// Already reported; keep "no value" from cascading.
			v.Value = cty.UnknownVal(v.Type)
		}
	}()
	content, diags := hb.Body.Content(variableSchema)
	if !hclsyntax.ValidIdentifier(v.Name) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid variable name",
			Detail:   "A variable name must start with a letter or underscore and hold only letters, digits, underscores and dashes.",
			Subject:  hb.LabelRanges[0].Ptr(),
		})
	}
	if content == nil {
		return v, diags
	}
	if a, ok := content.Attributes["type"]; ok {
		ty, d := typeexpr.TypeConstraint(a.Expr)
		diags = append(diags, d...)
		if !d.HasErrors() {
			v.Type = ty
		}
	}
	if a, ok := content.Attributes["description"]; ok {
		val, d := a.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() && val.Type() == cty.String && !val.IsNull() {
			v.Description = val.AsString()
		}
	}
	if a, ok := content.Attributes["sensitive"]; ok {
		val, d := a.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() && val.Type() == cty.Bool && !val.IsNull() {
			v.Sensitive = val.True()
		}
	}
	if a, ok := content.Attributes["default"]; ok {
		val, d := a.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			conv, err := convert.Convert(val, v.Type)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid default value for variable",
					Detail:   fmt.Sprintf("The default is not %s: %s.", v.Type.FriendlyNameForConstraint(), err),
					Subject:  a.Expr.Range().Ptr(),
				})
			} else {
				v.Default, v.Value, v.From = conv, conv, "default"
			}
		}
	}
	return v, diags
}
