package etl_test

import (
	"testing"

	"github.com/etlhq/etl/etl"
)

func TestInfoKey(t *testing.T) {
	m := &etl.Mark{}
	if _, ok := etl.InfoBytes.Get(m); ok {
		t.Error("an empty mark states bytes")
	}
	etl.InfoBytes.Set(m, 42)
	if n, ok := etl.InfoBytes.Get(m); !ok || n != 42 {
		t.Errorf("bytes = %d, %v", n, ok)
	}
	if _, ok := etl.InfoInvalidPhones.Get(m); ok {
		t.Error("invalid phones stated though only bytes was set")
	}
	// The name is what the checkpoint saves: it must not change.
	if m.Info["bytes"] != 42 || etl.InfoInvalidPhones.Name() != "invalid_phones" {
		t.Errorf("info = %v", m.Info)
	}
}
