package demo

import "syscall"

// dieWithParent makes the child die too if the launcher dies without
// stopping it.
func dieWithParent(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
