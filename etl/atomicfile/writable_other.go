//go:build !unix

package redialqueue

import (
	"os"
)

// writable probes dir by creating and removing a temp file.
func writable(dir string) error {
	f, err := os.CreateTemp(dir, ".redial-queue-probe-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}
