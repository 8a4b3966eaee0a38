package etl

import (
	"fmt"
	"sync"

	"github.com/agext/levenshtein"
	"github.com/zclconf/go-cty/cty/function"
)

// Registry holds the plugins and extra functions a pipeline may use. Plugin
// packages register into Default from init; tests build their own with
// NewRegistry.
type Registry struct {
	mu        sync.RWMutex
	plugins   map[Kind]map[string]*Plugin
	functions map[string]function.Function
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{plugins: map[Kind]map[string]*Plugin{}, functions: map[string]function.Function{}}
}

// Default is the registry `etl` uses; plugin packages add to it from init.
var Default = NewRegistry()

// Clone returns a registry holding the same plugins and functions, to
// which a test may add its own without touching r.
func (r *Registry) Clone() *Registry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c := NewRegistry()
	for k, byType := range r.plugins {
		c.plugins[k] = map[string]*Plugin{}
		for t, p := range byType {
			c.plugins[k][t] = p
		}
	}
	for n, f := range r.functions {
		c.functions[n] = f
	}
	return c
}

// RegisterFunction adds an HCL function to the Default registry.
func RegisterFunction(name string, fn function.Function) { Default.RegisterFunction(name, fn) }

// RegisterSource adds a source: build makes it from its decoded config.
func RegisterSource[C any](r *Registry, spec Spec[C], build func(cfg *C, env Env) (Source, error)) {
	add(r, KindSource, spec, build)
}

// RegisterProcessor adds a transform or filter (kind) that handles one
// record at a time.
func RegisterProcessor[C any](r *Registry, kind Kind, spec Spec[C], build func(cfg *C, env Env) (Processor, error)) {
	mustTransform(kind, spec.Type)
	add(r, kind, spec, build)
}

// RegisterStreamer adds a transform or filter (kind) that reads its input
// itself.
func RegisterStreamer[C any](r *Registry, kind Kind, spec Spec[C], build func(cfg *C, env Env) (Streamer, error)) {
	mustTransform(kind, spec.Type)
	add(r, kind, spec, build)
}

// RegisterSink adds a sink.
func RegisterSink[C any](r *Registry, spec Spec[C], build func(cfg *C, env Env) (Sink, error)) {
	add(r, KindSink, spec, build)
}

func mustTransform(kind Kind, typ string) {
	if kind != KindTransform && kind != KindFilter {
		panic(fmt.Sprintf("etl: plugin %q: a Processor or Streamer is a transform or a filter, not a %s", typ, kind))
	}
}

// add registers a plugin whose constructor returns S. A duplicate or
// malformed plugin panics: it is a programmer error, found the first time
// the binary starts.
func add[C, S any](r *Registry, kind Kind, spec Spec[C], build func(*C, Env) (S, error)) {
	if spec.Type == "" || build == nil {
		panic(fmt.Sprintf("etl: plugin %s %q needs a type and a constructor", kind, spec.Type))
	}
	newConfig := spec.Config
	if newConfig == nil {
		newConfig = func() *C { return new(C) }
	}
	p := &Plugin{
		Kind: kind, Type: spec.Type, Summary: spec.Summary, Fields: spec.Fields,
		ReadsDeclaredFields: spec.ReadsDeclaredFields, Buffers: spec.Buffers, Replays: spec.Replays, Mock: spec.Mock,
		config: func() any { return newConfig() },
		build: func(cfg any, env Env) (any, error) {
			stage, err := build(cfg.(*C), env)
			if err != nil {
				return nil, err
			}
			if any(stage) == nil {
				return nil, fmt.Errorf("plugin bug: the constructor returned no stage and no error")
			}
			return stage, nil
		},
	}
	p.Attrs() // panics on a malformed config struct
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.plugins[kind] == nil {
		r.plugins[kind] = map[string]*Plugin{}
	}
	if _, dup := r.plugins[kind][spec.Type]; dup {
		panic(fmt.Sprintf("etl: Register called twice for %s %q", kind, spec.Type))
	}
	r.plugins[kind][spec.Type] = p
}

// RegisterFunction adds a function pipelines may call. A duplicate panics.
func (r *Registry) RegisterFunction(name string, fn function.Function) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.functions[name]; dup {
		panic(fmt.Sprintf("etl: RegisterFunction called twice for %q", name))
	}
	r.functions[name] = fn
}

// Lookup returns the plugin of a kind and type.
func (r *Registry) Lookup(kind Kind, typ string) (*Plugin, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, ok := r.plugins[kind][typ]
	return p, ok
}

// Plugins returns every plugin, by kind in pipeline order then by type.
func (r *Registry) Plugins() []*Plugin {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var all []*Plugin
	for _, k := range Kinds {
		for _, t := range sortedKeys(r.plugins[k]) {
			all = append(all, r.plugins[k][t])
		}
	}
	return all
}

// Find returns the plugins whose type is name, of any kind.
func (r *Registry) Find(name string) []*Plugin {
	var found []*Plugin
	for _, p := range r.Plugins() {
		if p.Type == name {
			found = append(found, p)
		}
	}
	return found
}

// suggest returns the registered type of kind closest to typ, or "".
func (r *Registry) suggest(kind Kind, typ string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return nearest(typ, sortedKeys(r.plugins[kind]))
}

// nearest returns the candidate within edit distance 3 of s, or "".
func nearest(s string, candidates []string) string {
	best, bestDist := "", 4
	for _, c := range candidates {
		if d := levenshtein.Distance(s, c, nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

func (r *Registry) funcs() map[string]function.Function {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make(map[string]function.Function, len(r.functions))
	for k, v := range r.functions {
		out[k] = v
	}
	return out
}

func validKind(k Kind) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}
