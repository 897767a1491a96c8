//go:build unix

package proxy

import "syscall"

// DefaultMaxConns is MaxConnsFor the process's RLIMIT_NOFILE (which Go
// raises to the hard limit at start), or 0 (no cap) if it cannot be read.
func DefaultMaxConns() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == 0 {
		return 0
	}
	return MaxConnsFor(uint64(rl.Cur))
}
