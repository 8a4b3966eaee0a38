package etl_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
)

func TestCheckpointFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "p.hcl.json")
	for _, stages := range []map[string]json.RawMessage{
		nil,
		{"transform.a.b": json.RawMessage(`{"version":2,"records":[{"k":"v"}]}`), "sink.c.d": json.RawMessage(`[1,2]`)},
	} {
		cp := &etl.Checkpoint{
			Version: etl.CheckpointVersion, Pipeline: "p.hcl", Updated: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			Fingerprint: map[string]map[string]string{"source.x.y": {"a": "b"}},
			Sources:     map[string][]etl.PartitionDone{"source.x.y": {{Name: "2025-12-01", Info: map[string]int64{"calls": 3}}}},
			Stages:      stages,
		}
		if err := etl.SaveCheckpoint(path, cp); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(path)
		if !json.Valid(data) {
			t.Fatalf("not JSON:\n%s", data)
		}
		got, err := etl.LoadCheckpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(cp)
		b, _ := json.Marshal(got)
		if len(stages) == 0 {
			cp.Stages = map[string]json.RawMessage{}
			a, _ = json.Marshal(cp)
		}
		if string(a) != string(b) {
			t.Errorf("round trip:\n got %s\nwant %s", b, a)
		}
		if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
			t.Errorf("checkpoint mode %v, want 0600 (it holds phone numbers)", info.Mode().Perm())
		}
	}
}
