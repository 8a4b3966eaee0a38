package etl_test

import (
	"context"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl"
)

// mustPanic runs fn and returns what it panicked with, failing the test
// when it did not.
func mustPanic(t *testing.T, fn func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("no panic")
		}
		msg, _ = r.(string)
	}()
	fn()
	return ""
}

// Registration mistakes are programmer errors, found when the binary
// starts: a duplicate, a Processor registered as a sink's kind, a config
// that is not a struct.
func TestRegisterRejectsMistakes(t *testing.T) {
	build := func(*struct{}, etl.Env) (etl.Processor, error) { return passThrough{}, nil }
	reg := etl.NewRegistry()
	etl.RegisterProcessor(reg, etl.KindTransform, etl.Spec[struct{}]{Type: "pass"}, build)
	if msg := mustPanic(t, func() {
		etl.RegisterProcessor(reg, etl.KindTransform, etl.Spec[struct{}]{Type: "pass"}, build)
	}); !strings.Contains(msg, `called twice for transform "pass"`) {
		t.Errorf("duplicate: %q", msg)
	}
	// Another kind may reuse the type name.
	etl.RegisterProcessor(reg, etl.KindFilter, etl.Spec[struct{}]{Type: "pass"}, build)
	if msg := mustPanic(t, func() {
		etl.RegisterProcessor(reg, etl.KindSink, etl.Spec[struct{}]{Type: "p2"}, build)
	}); !strings.Contains(msg, "a transform or a filter, not a sink") {
		t.Errorf("kind: %q", msg)
	}
	if msg := mustPanic(t, func() {
		etl.RegisterSink(reg, etl.Spec[int]{Type: "n"}, func(*int, etl.Env) (etl.Sink, error) { return discardSink{}, nil })
	}); !strings.Contains(msg, "must return a pointer to a struct") {
		t.Errorf("config: %q", msg)
	}
}

// labelConfig has one optional attribute with a default.
type labelConfig struct {
	Label string `hcl:"label,optional" doc:"A label."`
}

// The constructor gets the decoded config, defaults from Spec.Config kept
// where the block sets nothing, and the registry reports the spec.
func TestRegisterPassesTypedConfig(t *testing.T) {
	reg, _ := testRegistry(t)
	var got labelConfig
	etl.RegisterSink(reg, etl.Spec[labelConfig]{
		Type: "labelled", Summary: "Has a label.", Buffers: true,
		Config: func() *labelConfig { return &labelConfig{Label: "default"} },
	}, func(cfg *labelConfig, _ etl.Env) (etl.Sink, error) { got = *cfg; return discardSink{}, nil })
	p := load(t, reg, "source \"gen\" \"g\" {}\nsink \"labelled\" \"s\" {\n  input = source.gen.g\n}\n")
	if _, err := p.Run(context.Background(), etl.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if got.Label != "default" {
		t.Errorf("config = %+v, want the default label", got)
	}
	pl, ok := reg.Lookup(etl.KindSink, "labelled")
	if !ok || pl.Summary != "Has a label." || !pl.Buffers || pl.Replays {
		t.Errorf("plugin = %+v", pl)
	}
}

// A constructor that returns neither a stage nor an error is a plugin bug
// the run reports, naming the block, instead of a nil dereference.
func TestConstructorReturningNoStage(t *testing.T) {
	reg, _ := testRegistry(t)
	etl.RegisterSink(reg, etl.Spec[struct{}]{Type: "none"}, func(*struct{}, etl.Env) (etl.Sink, error) { return nil, nil })
	p := load(t, reg, "source \"gen\" \"g\" {}\nsink \"none\" \"s\" {\n  input = source.gen.g\n}\n")
	_, err := p.Run(context.Background(), etl.RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "sink.none.s") || !strings.Contains(err.Error(), "returned no stage") {
		t.Errorf("err = %v", err)
	}
}
