//go:build !unix

package atomicfile

import (
	"os"
)

// writable probes dir by creating and removing a temp file.
func writable(dir string) error {
	f, err := os.CreateTemp(dir, ".etl-probe-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}
