//go:build !unix

package redialqueue

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// lockFile creates path exclusively, waiting up to wait while it exists.
// Without flock a crashed run leaves the file behind; the error says so.
func lockFile(path string, wait time.Duration) (unlock func(), err error) {
	deadline := time.Now().Add(wait)
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintf(f, "pid %d since %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339))
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("queue is being merged by another run: %s exists (waited %s; remove it if no run is active)", path, wait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writable probes dir by creating and removing a temp file.
func writable(dir string) error {
	f, err := os.CreateTemp(dir, ".redial-queue-probe-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}
