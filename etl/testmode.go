package etl

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// TestHooks turn a run into a test run (`etl test`, see package pipetest):
// some blocks' output is given instead of computed, stages that call an
// API answer from plain data, and every record a sink receives is handed
// to the test. Everything else is the real pipeline with its real plugins.
type TestHooks struct {
	// Replace gives the blocks whose output a test states: each runs as
	// the Source given, in place of its plugin and with no input. Blocks
	// whose output reaches only replaced blocks are not run at all, so
	// that a replaced source's API is never asked.
	Replace map[Addr]Source
	// Mocks are the data Mockable stages answer from, by block. Every
	// Mockable stage a test runs is switched off its API: one without a
	// mock here fails at its first call with ErrNotMocked.
	Mocks map[Addr]Mock
	// Tap, when set, is called with each record a sink receives, before
	// the sink: what the test's expectations compare. It is called from
	// the sink's goroutine, one per sink.
	Tap func(sink Addr, rec Record)
}

// Mock is the data a test gives a Mockable stage in place of its API: the
// attributes of the test's mock block, and where that block is.
type Mock struct {
	// Data is an object of the mock block's attributes, or cty.NilVal
	// when the test gives the stage none.
	Data  cty.Value
	Range hcl.Range
}

// Mockable is implemented by stages that call an API, so that a test can
// run the plugin's own logic (its rules, its counts, its records) on
// answers given as plain data. Mock is called once, after the stage is
// built and before Preflight, in test runs only. The stage then sends no
// request: it answers from m.Data, and when m.Data is cty.NilVal (the
// test gives no mock) each call fails with an error wrapping
// ErrNotMocked, so that a test that reaches the API says which block
// needs a mock instead of touching the network. An error names what in
// the data is wrong (a field, a date) and how to write it.
type Mockable interface {
	Mock(m Mock) error
}

// ErrNotMocked is what a Mockable stage's calls fail with in a test that
// gives it no mock.
var ErrNotMocked = errors.New("no mock for this block's API in this test")

// forTest returns the pipeline a test runs: p with the replaced blocks cut
// from their inputs and standing for themselves, and without the blocks
// that then feed nothing but them. p is left as it is.
func (p *Pipeline) forTest(h *TestHooks) *Pipeline {
	if h == nil || len(h.Replace) == 0 {
		return p
	}
	needed := map[*Block]bool{}
	for _, b := range p.Blocks {
		if b.Addr.Kind != KindSink {
			continue
		}
		for x := b; x != nil; x = x.Input {
			needed[x] = true
			if h.Replace[x.Addr] != nil {
				break
			}
		}
	}
	copies := map[*Block]*Block{}
	q := &Pipeline{Path: p.Path, Dir: p.Dir, Variables: p.Variables, parser: p.parser, now: p.now}
	q.nowUsed.Store(p.nowUsed.Load())
	for _, b := range p.Blocks { // in order: an input is copied before its consumers
		if !needed[b] {
			continue
		}
		c := *b
		c.Consumers = nil
		if src := h.Replace[b.Addr]; src != nil {
			c.Input = nil
			c.Config = nil
			c.Plugin = &Plugin{Kind: b.Addr.Kind, Type: b.Addr.Type, Summary: "fixture records",
				build: func(any, Env) (any, error) { return src, nil }}
		} else if b.Input != nil {
			c.Input = copies[b.Input]
			c.Input.Consumers = append(c.Input.Consumers, &c)
		}
		copies[b] = &c
		q.Blocks = append(q.Blocks, &c)
	}
	return q
}

// mock switches a Mockable stage to its test data; a mock given to a
// stage that calls no API is an error at the mock.
func (h *TestHooks) mock(b *Block, impl any) error {
	if h == nil {
		return nil
	}
	m, given := h.Mocks[b.Addr]
	mk, ok := impl.(Mockable)
	switch {
	case !ok && given:
		return &StageError{Addr: b.Addr, Range: m.Range, Err: fmt.Errorf("%s calls no API to mock; give its output with an override block instead", b.Addr.Type)}
	case !ok:
		return nil
	}
	if !given {
		m = Mock{Data: cty.NilVal, Range: b.DefRange}
	}
	if err := mk.Mock(m); err != nil {
		return &StageError{Addr: b.Addr, Range: m.Range, Err: fmt.Errorf("mock: %w", err)}
	}
	return nil
}

// DecodeMock decodes a mock's data into v, a pointer to a struct with json
// tags, as encoding/json would decode the same value written as JSON: the
// one decoder every Mockable plugin uses. A key that v has no field for is
// an error naming where it is and the fields there are, so that a
// misspelt field in a mock fails the test rather than being ignored.
func DecodeMock(data cty.Value, v any) error {
	if data.IsNull() || !data.IsWhollyKnown() {
		return errors.New("the mock has no data")
	}
	if err := checkMockKeys(data, reflect.TypeOf(v), ""); err != nil {
		return err
	}
	raw, err := ctyjson.Marshal(data, data.Type())
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("%s: a %s where a %s is expected", te.Field, te.Value, te.Type)
		}
		return err
	}
	return nil
}

// checkMockKeys walks data along t, the Go type it decodes into, and
// reports the first object key that names no field.
func checkMockKeys(data cty.Value, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	ty := data.Type()
	if data.IsNull() {
		return nil
	}
	switch {
	case t.Kind() == reflect.Struct && (ty.IsObjectType() || ty.IsMapType()):
		fields := map[string]reflect.Type{}
		var names []string
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if name != "" && name != "-" {
				fields[name] = t.Field(i).Type
				names = append(names, name)
			}
		}
		for it := data.ElementIterator(); it.Next(); {
			k, el := it.Element()
			ft, ok := fields[k.AsString()]
			if !ok {
				at := ""
				if path != "" {
					at = path + ": "
				}
				return fmt.Errorf("%sunknown field %q; the fields there are %s", at, k.AsString(), strings.Join(names, ", "))
			}
			if err := checkMockKeys(el, ft, joinPath(path, k.AsString())); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Map && (ty.IsObjectType() || ty.IsMapType()):
		for it := data.ElementIterator(); it.Next(); {
			k, el := it.Element()
			if err := checkMockKeys(el, t.Elem(), fmt.Sprintf("%s[%q]", path, k.AsString())); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Slice && (ty.IsTupleType() || ty.IsListType() || ty.IsSetType()):
		i := 0
		for it := data.ElementIterator(); it.Next(); i++ {
			_, el := it.Element()
			if err := checkMockKeys(el, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// FieldTypes returns the fields of the block's output with their declared
// types (cty.DynamicPseudoType where no plugin says), or nil when the
// fields are unknown: what a test's fixture for the block may hold.
func (b *Block) FieldTypes() map[string]cty.Type {
	if b.Fields == nil {
		return nil
	}
	types := make(map[string]cty.Type, len(b.Fields))
	for x := b; x != nil; x = x.Input {
		if x.Plugin == nil {
			continue
		}
		fields := x.Plugin.Fields
		if fd, ok := x.Config.(FieldDeclarer); ok {
			fields = append(slices.Clip(fields), fd.DeclaredFields()...)
		}
		for _, f := range fields {
			if _, set := types[f.Name]; !set && b.Fields[f.Name] && f.Type != cty.NilType {
				types[f.Name] = f.Type
			}
		}
	}
	for name := range b.Fields {
		if _, set := types[name]; !set {
			types[name] = cty.DynamicPseudoType
		}
	}
	return types
}

// Block returns the block at addr, or nil.
func (p *Pipeline) Block(addr Addr) *Block {
	for _, b := range p.Blocks {
		if b.Addr == addr {
			return b
		}
	}
	return nil
}

// ParseAddr reads "kind.type.name".
func ParseAddr(s string) (Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || !validKind(Kind(parts[0])) || parts[1] == "" || parts[2] == "" {
		return Addr{}, false
	}
	return Addr{Kind: Kind(parts[0]), Type: parts[1], Name: parts[2]}, true
}

// Nearest returns the candidate closest to s when it is close enough to be
// a likely typo, else "": for "did you mean" hints.
func Nearest(s string, candidates []string) string { return nearest(s, candidates) }
