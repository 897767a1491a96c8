//go:build !linux

package demo

import "syscall"

// dieWithParent: only Linux can tie a child's life to its parent's; the
// launcher's Stop (and its signal handling) ends the children elsewhere.
func dieWithParent(*syscall.SysProcAttr) {}
