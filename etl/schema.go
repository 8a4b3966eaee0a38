package etl

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"
)

// AttrSpec describes one attribute of a plugin's block, read from the tags
// of its config struct. The same spec drives decoding, `etl plugins NAME`
// and secret masking.
type AttrSpec struct {
	Name      string
	Type      string // as users write it: string, number, bool, list(string), ...
	Required  bool
	Default   string // rendered default, "" when none
	PerRecord bool   // evaluated for each record with `record` in scope
	Secret    bool   // never printed
	Doc       string

	field  []int // index path in the config struct
	goType reflect.Type
}

var (
	exprType     = reflect.TypeOf(Expr{})
	assignType   = reflect.TypeOf(Assignments{})
	hclExprType  = reflect.TypeOf((*hcl.Expression)(nil)).Elem()
	ctyValueType = reflect.TypeOf(cty.Value{})
	durationType = reflect.TypeOf(time.Duration(0))
	decoderType  = reflect.TypeOf((*ValueDecoder)(nil)).Elem()
)

// Attrs returns the attribute specs of a plugin, in struct order. Fields of
// an embedded struct without an hcl tag are the plugin's own attributes, so
// that plugins share attribute groups (retry.Settings). It panics on a
// malformed config struct: a programmer error caught at registration.
func (p *Plugin) Attrs() []AttrSpec {
	cfg := p.config()
	v := reflect.ValueOf(cfg)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("etl: plugin %s %q: Spec.Config must return a pointer to a struct, got %T", p.Kind, p.Type, cfg))
	}
	specs := attrSpecs(v.Elem(), nil)
	seen := map[string]bool{}
	for _, s := range specs {
		if s.Name == "" || s.Name == "input" || seen[s.Name] {
			panic(fmt.Sprintf("etl: plugin %s %q: bad or repeated hcl attribute name %q", p.Kind, p.Type, s.Name))
		}
		seen[s.Name] = true
	}
	return specs
}

// attrSpecs reads the tagged fields of struct v, descending into embedded
// untagged structs; index is v's path from the config struct.
func attrSpecs(v reflect.Value, index []int) []AttrSpec {
	t := v.Type()
	var specs []AttrSpec
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		path := append(append([]int{}, index...), i)
		tag, ok := f.Tag.Lookup("hcl")
		if !ok {
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				specs = append(specs, attrSpecs(v.Field(i), path)...)
			}
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		s := AttrSpec{
			Name:     name,
			Required: opts != "optional",
			Doc:      f.Tag.Get("doc"),
			Secret:   strings.Contains(f.Tag.Get("etl"), "secret"),
			field:    path,
			goType:   f.Type,
		}
		switch {
		case f.Type == exprType:
			s.PerRecord = true
			s.Type = "expression"
		case f.Type == assignType:
			s.PerRecord = true
			s.Type = "object of expressions"
		case f.Type == hclExprType:
			s.Type = "expression"
		default:
			s.Type = typeName(f.Type)
			if !s.Required {
				s.Default = renderDefault(v.Field(i), s.Secret)
			}
		}
		specs = append(specs, s)
	}
	return specs
}

func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t == ctyValueType:
		return "any"
	case reflect.PointerTo(t).Implements(decoderType):
		if n := t.Name(); n != "" {
			return strings.ToLower(n)
		}
	}
	if ty, err := gocty.ImpliedType(reflect.Zero(t).Interface()); err == nil {
		return ty.FriendlyNameForConstraint()
	}
	return t.String()
}

func renderDefault(v reflect.Value, secret bool) string {
	if v.IsZero() {
		return ""
	}
	if secret {
		return "(sensitive)"
	}
	switch x := v.Interface().(type) {
	case time.Duration:
		return x.String()
	case fmt.Stringer:
		return x.String()
	case string:
		return fmt.Sprintf("%q", x)
	case []string:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprint(v.Interface())
}

// decodeBody decodes the attributes of a block body into cfg, a pointer to
// the plugin's config struct. input says whether the block may have an
// `input` attribute (it is handled by the caller, not here). Per-record
// attributes are compiled against ctx; the rest are evaluated in ctx.
func decodeBody(body hcl.Body, specs []AttrSpec, cfg any, ctx *hcl.EvalContext, input bool, src func(hcl.Range) string) (map[string]*hcl.Attribute, map[string]bool, hcl.Diagnostics) {
	schema := &hcl.BodySchema{}
	if input {
		schema.Attributes = append(schema.Attributes, hcl.AttributeSchema{Name: "input", Required: true})
	}
	for _, s := range specs {
		schema.Attributes = append(schema.Attributes, hcl.AttributeSchema{Name: s.Name, Required: s.Required})
	}
	content, diags := body.Content(schema)
	if content == nil {
		return nil, nil, diags
	}
	unknown := map[string]bool{}
	v := reflect.ValueOf(cfg).Elem()
	for _, s := range specs {
		attr := content.Attributes[s.Name]
		if attr == nil {
			continue
		}
		field := v.FieldByIndex(s.field)
		switch {
		case s.goType == assignType:
			a, d := compileAssignments(attr.Expr, ctx, src)
			diags = append(diags, d...)
			field.Set(reflect.ValueOf(a))
		case s.PerRecord:
			e, d := compileExpr(attr.Expr, ctx)
			diags = append(diags, d...)
			if src != nil {
				e.source = src(attr.Expr.Range())
			}
			field.Set(reflect.ValueOf(e))
		case s.goType == hclExprType:
			field.Set(reflect.ValueOf(attr.Expr))
		default:
			val, d := attr.Expr.Value(ctx)
			diags = append(diags, d...)
			if d.HasErrors() || !val.IsWhollyKnown() {
				// Unknown: an input was already reported as wrong (a
				// variable without a value), or an env() that validate
				// allows to be unset. Leave the default; do not cascade.
				unknown[s.Name] = !d.HasErrors()
				continue
			}
			if err := decodeValue(val, field); err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  fmt.Sprintf("Invalid value for %q", s.Name),
					Detail:   fmt.Sprintf("The %s attribute %s.", s.Name, err),
					Subject:  attr.Expr.Range().Ptr(),
				})
			}
		}
	}
	return content.Attributes, unknown, diags
}

// decodeValue stores val into field, converting as the field's Go type asks.
func decodeValue(val cty.Value, field reflect.Value) error {
	val, _ = val.UnmarkDeep()
	if field.CanAddr() {
		if d, ok := field.Addr().Interface().(ValueDecoder); ok {
			return d.DecodeValue(val)
		}
	}
	switch field.Type() {
	case ctyValueType:
		field.Set(reflect.ValueOf(val))
		return nil
	case durationType:
		if val.IsNull() || val.Type() != cty.String {
			return fmt.Errorf(`must be a duration string such as "500ms" or "2m"`)
		}
		d, err := time.ParseDuration(val.AsString())
		if err != nil {
			return fmt.Errorf(`must be a duration such as "500ms" or "2m", not %q`, val.AsString())
		}
		field.Set(reflect.ValueOf(d))
		return nil
	}
	if val.IsNull() {
		field.Set(reflect.Zero(field.Type()))
		return nil
	}
	ty, err := gocty.ImpliedType(field.Interface())
	if err != nil {
		return fmt.Errorf("has unsupported Go type %s", field.Type())
	}
	conv, err := convert.Convert(val, ty)
	if err != nil {
		return fmt.Errorf("must be %s: %s", ty.FriendlyNameForConstraint(), err)
	}
	if err := gocty.FromCtyValue(conv, field.Addr().Interface()); err != nil {
		return fmt.Errorf("must be %s: %s", ty.FriendlyNameForConstraint(), err)
	}
	return nil
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
