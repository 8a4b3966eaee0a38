package redialqueue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gofrs/flock"
)

// lockFile takes an exclusive lock on path (created if needed), waiting up
// to wait, through github.com/gofrs/flock: flock(2) on Unix, LockFileEx on
// Windows. The operating system releases the lock when its process dies,
// so a crash leaves no stale lock. The file itself stays (empty) beside the
// queue: removing it on unlock would let a waiter lock the removed file
// while a newcomer locks a new one.
func lockFile(path string, wait time.Duration) (unlock func(), err error) {
	fl := flock.New(path)
	ok, err := fl.TryLock()
	if err == nil && !ok && wait > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		ok, err = fl.TryLockContext(ctx, 50*time.Millisecond)
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		return nil, fmt.Errorf("queue is being merged by another run: %s is locked (waited %s)", path, wait)
	}
	return func() { fl.Unlock() }, nil
}
