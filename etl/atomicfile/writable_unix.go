//go:build unix

package atomicfile

import (
	"syscall"
)

// writable reports whether the process may create files in dir, without
// creating one (access(2) with W_OK).
func writable(dir string) error {
	return syscall.Access(dir, 0x2)
}
