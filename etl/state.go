package etl

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/etlhq/etl/etl/atomicfile"
)

// LoadCheckpoint reads a checkpoint file. A missing file is an error that
// satisfies errors.Is(err, fs.ErrNotExist); a corrupt one names the file.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cp Checkpoint
	if err := json.Unmarshal(data, &cp); err != nil {
		return nil, fmt.Errorf("checkpoint %s is corrupt: %v", path, err)
	}
	if cp.Version != CheckpointVersion {
		return nil, fmt.Errorf("checkpoint %s has format version %d; this etl reads version %d", path, cp.Version, CheckpointVersion)
	}
	if cp.Sources == nil {
		cp.Sources = map[string][]PartitionDone{}
	}
	if cp.Stages == nil {
		cp.Stages = map[string]json.RawMessage{}
	}
	return &cp, nil
}

// SaveCheckpoint writes cp atomically (temp file, fsync, rename), creating
// the directory.
func SaveCheckpoint(path string, cp *Checkpoint) error {
	data, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding checkpoint: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(data, '\n'), 0o600)
}
