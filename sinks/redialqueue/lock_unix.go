//go:build unix

package redialqueue

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockFile takes an exclusive flock on path (created if needed), waiting
// up to wait. The kernel releases a flock when its process dies, so a crash
// leaves no stale lock. unlock removes the file while still holding the
// lock; a waiter that locked the removed file notices (the path no longer
// names its file) and retries on the new one.
func lockFile(path string, wait time.Duration) (unlock func(), err error) {
	deadline := time.Now().Add(wait)
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			held, e1 := f.Stat()
			now, e2 := os.Stat(path)
			if e1 == nil && e2 == nil && os.SameFile(held, now) {
				f.Truncate(0)
				fmt.Fprintf(f, "pid %d since %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339))
				return func() { os.Remove(path); f.Close() }, nil
			}
			f.Close() // locked a file its holder had already removed
			continue
		}
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("queue is being merged by another run: %s is locked (waited %s)", path, wait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writable reports whether the process may create files in dir, without
// creating one (access(2) with W_OK).
func writable(dir string) error {
	return syscall.Access(dir, 0x2)
}
