package etl

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
	_ "time/tzdata" // local_time must work on hosts without a zone database

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Functions returns the functions available in pipeline expressions: the
// go-cty standard library, env, file, local_time, timestamp and dateadd,
// plus the registry's extras. dir is the pipeline file's directory, for
// file(); now is what timestamp() returns, and used is set when it is
// called.
func (r *Registry) Functions(dir string, allowUnsetEnv bool, now time.Time, used *atomic.Bool) map[string]function.Function {
	fns := map[string]function.Function{
		"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "floor": stdlib.FloorFunc,
		"max": stdlib.MaxFunc, "min": stdlib.MinFunc, "parseint": stdlib.ParseIntFunc,
		"pow": stdlib.PowFunc, "signum": stdlib.SignumFunc, "log": stdlib.LogFunc,
		"upper": stdlib.UpperFunc, "lower": stdlib.LowerFunc, "title": stdlib.TitleFunc,
		"format": stdlib.FormatFunc, "formatlist": stdlib.FormatListFunc,
		"join": stdlib.JoinFunc, "split": stdlib.SplitFunc, "replace": stdlib.ReplaceFunc,
		"regex": stdlib.RegexFunc, "regexall": stdlib.RegexAllFunc, "regex_replace": stdlib.RegexReplaceFunc,
		"strlen": stdlib.StrlenFunc, "substr": stdlib.SubstrFunc, "chomp": stdlib.ChompFunc,
		"indent": stdlib.IndentFunc, "trim": stdlib.TrimFunc, "trimspace": stdlib.TrimSpaceFunc,
		"trimprefix": stdlib.TrimPrefixFunc, "trimsuffix": stdlib.TrimSuffixFunc, "strrev": stdlib.ReverseFunc,
		"formatdate": stdlib.FormatDateFunc, "timeadd": stdlib.TimeAddFunc,
		"concat": stdlib.ConcatFunc, "contains": stdlib.ContainsFunc, "distinct": stdlib.DistinctFunc,
		"element": stdlib.ElementFunc, "flatten": stdlib.FlattenFunc, "keys": stdlib.KeysFunc,
		"values": stdlib.ValuesFunc, "length": stdlib.LengthFunc, "lookup": stdlib.LookupFunc,
		"merge": stdlib.MergeFunc, "reverse": stdlib.ReverseListFunc, "slice": stdlib.SliceFunc,
		"sort": stdlib.SortFunc, "range": stdlib.RangeFunc, "zipmap": stdlib.ZipmapFunc,
		"compact": stdlib.CompactFunc, "chunklist": stdlib.ChunklistFunc, "index": stdlib.IndexFunc,
		"coalesce": stdlib.CoalesceFunc, "coalescelist": stdlib.CoalesceListFunc,
		"setunion": stdlib.SetUnionFunc, "setintersection": stdlib.SetIntersectionFunc,
		"setsubtract": stdlib.SetSubtractFunc, "csvdecode": stdlib.CSVDecodeFunc,
		"jsonencode": stdlib.JSONEncodeFunc, "jsondecode": stdlib.JSONDecodeFunc,
		"env":        envFunc(allowUnsetEnv),
		"file":       fileFunc(dir),
		"local_time": LocalTimeFunc,
		"timestamp":  timestampFunc(now, used),
		"dateadd":    DateAddFunc,
		"abspath":    abspathFunc,
	}
	for name, fn := range r.funcs() {
		fns[name] = fn
	}
	return fns
}

// functionsFor is Functions for a pipeline loaded with opts: offline, env()
// reads no environment variable.
func (r *Registry) functionsFor(dir string, opts LoadOptions, now time.Time, used *atomic.Bool) map[string]function.Function {
	fns := r.Functions(dir, opts.AllowUnknown, now, used)
	if opts.Offline {
		fns["env"] = offlineEnvFunc
	}
	return fns
}

// offlineEnvFunc is env() in a test: a placeholder naming the variable,
// marked sensitive like a real value, so that a test neither needs the
// keys nor could send or print them.
var offlineEnvFunc = function.New(&function.Spec{
	Description: "A placeholder for an environment variable: tests read none.",
	Params:      []function.Parameter{{Name: "name", Type: cty.String}},
	VarParam:    &function.Parameter{Name: "default", Type: cty.String},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.StringVal("test-placeholder-" + args[0].AsString()).Mark(Sensitive), nil
	},
})

// abspathFunc is abspath(PATH): PATH made absolute against the working
// directory, for a block whose relative paths are relative to the
// pipeline file (source "file") given a path meant from the command line
// (a data_dir that the sinks resolve against the working directory).
var abspathFunc = function.New(&function.Spec{
	Description: "PATH made absolute against the working directory.",
	Params:      []function.Parameter{{Name: "path", Type: cty.String}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		p, err := filepath.Abs(args[0].AsString())
		if err != nil {
			return cty.NilVal, err
		}
		return cty.StringVal(p), nil
	},
})

// envFunc is env(NAME) or env(NAME, DEFAULT): the environment variable, or
// the default, or an error naming the variable when it is unset. The value
// is marked sensitive: environment variables carry keys, and a marked value
// is never printed in a diagnostic.
//
// With allowUnset (etl validate, which must work without secrets), an unset
// variable yields an unknown string instead of an error.
func envFunc(allowUnset bool) function.Function {
	return function.New(&function.Spec{
		Description: "The value of an environment variable; env(NAME, DEFAULT) when it may be unset.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		VarParam:    &function.Parameter{Name: "default", Type: cty.String},
		Type:        function.StaticReturnType(cty.String),
		RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder {
			return b.NotNull()
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			if len(args) > 2 {
				return cty.NilVal, function.NewArgErrorf(2, "env takes a name and at most one default")
			}
			v, ok := os.LookupEnv(name)
			if !ok || v == "" {
				if len(args) == 2 {
					return args[1], nil
				}
				if allowUnset {
					return cty.UnknownVal(cty.String), nil
				}
				return cty.NilVal, function.NewArgErrorf(0, "environment variable %s is not set; export %s=... before running (or give a default: env(%q, \"...\"))", name, name, name)
			}
			return cty.StringVal(v).Mark(Sensitive), nil
		},
	})
}

// Sensitive is the cty mark on values that must never be printed: sensitive
// variables and env() results.
const Sensitive = "sensitive"

// fileFunc is file(PATH): the contents of a file, relative to the pipeline.
func fileFunc(dir string) function.Function {
	return function.New(&function.Spec{
		Description: "The contents of a file; a relative path is relative to the pipeline file.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return cty.NilVal, function.NewArgError(0, err)
			}
			return cty.StringVal(string(b)), nil
		},
	})
}

// LocalTimeFunc is local_time(DATE, "HH:MM", ZONE): that wall-clock time on
// that date in the IANA time zone, as RFC 3339 UTC with milliseconds,
// daylight saving included (11:00 America/New_York is 16:00Z in January and
// 15:00Z in July). DATE may be "YYYY-MM-DD" or an RFC 3339 time (its date
// part is used).
var LocalTimeFunc = function.New(&function.Spec{
	Description: "Wall-clock time on a date in a time zone, as RFC 3339 UTC.",
	Params: []function.Parameter{
		{Name: "date", Type: cty.String},
		{Name: "clock", Type: cty.String},
		{Name: "zone", Type: cty.String},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		t, err := LocalTime(args[0].AsString(), args[1].AsString(), args[2].AsString())
		if err != nil {
			return cty.NilVal, err
		}
		return cty.StringVal(t.Format(MilliLayout)), nil
	},
})

// MilliLayout is RFC 3339 UTC with milliseconds, as the queue file uses.
const MilliLayout = "2006-01-02T15:04:05.000Z"

// LocalTime returns the instant at which the clock reads hhmm on date in
// zone.
func LocalTime(date, hhmm, zone string) (time.Time, error) {
	if len(date) > 10 {
		date = date[:10]
	}
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q is not YYYY-MM-DD", date)
	}
	c, err := time.Parse("15:04", hhmm)
	if err != nil {
		return time.Time{}, fmt.Errorf("clock %q is not HH:MM", hhmm)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return time.Time{}, fmt.Errorf("unknown time zone %q", zone)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), c.Hour(), c.Minute(), 0, 0, loc).UTC(), nil
}
