//go:build !linux

package pgtest

import (
	"os/exec"
	"syscall"
)

// setProcessGroup starts cmd in a process group of its own, so that it is
// killed with its children. Only Linux can tie a child's life to its
// parent's.
func setProcessGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}
