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

// Register adds p to the Default registry.
func Register(p Plugin) { Default.Register(p) }

// RegisterFunction adds an HCL function to the Default registry.
func RegisterFunction(name string, fn function.Function) { Default.RegisterFunction(name, fn) }

// Register adds a plugin. A duplicate or malformed plugin panics: it is a
// programmer error, found the first time the binary starts.
func (r *Registry) Register(p Plugin) {
	if !validKind(p.Kind) || p.Type == "" || p.Config == nil || p.New == nil {
		panic(fmt.Sprintf("etl: Register: plugin %s %q needs a kind, a type, Config and New", p.Kind, p.Type))
	}
	p.Attrs() // panics on a malformed config struct
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.plugins[p.Kind] == nil {
		r.plugins[p.Kind] = map[string]*Plugin{}
	}
	if _, dup := r.plugins[p.Kind][p.Type]; dup {
		panic(fmt.Sprintf("etl: Register called twice for %s %q", p.Kind, p.Type))
	}
	r.plugins[p.Kind][p.Type] = &p
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
