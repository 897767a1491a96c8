package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A child is a proxy running as a child process of the benchmark.
type child struct {
	cmd    *exec.Cmd
	out    *tailBuffer
	cancel context.CancelFunc
	exited chan struct{}
	err    error // Wait's result, set before exited is closed
}

// startChild starts name with args, extra files from descriptor 3 on.
// The child is killed when ctx ends, when stop is called, or (through
// Pdeathsig) when the benchmark dies without calling it. It runs in its
// own process group, so a Ctrl-C in the terminal reaches only the
// benchmark, which then stops its children itself.
func startChild(ctx context.Context, files []*os.File, name string, args ...string) (*child, error) {
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, name, args...)
	out := &tailBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.ExtraFiles = files
	// Pdeathsig is tied to the OS thread that forks; Go keeps its threads
	// unless a goroutine exits locked to one, which nothing here does.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	c := &child{cmd: cmd, out: out, cancel: cancel, exited: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// stop kills the child and waits for it.
func (c *child) stop() {
	c.cancel()
	<-c.exited
}

// exitError describes how the child ended and what it printed last.
func (c *child) exitError() error {
	return fmt.Errorf("%s exited (%v); its last output:\n%s", c.cmd.Path, c.err, indent(c.out.String()))
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "    (nothing)"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// A tailBuffer keeps the last tailSize bytes written to it: enough of a
// child's log to explain a failure, without growing with a chatty proxy.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const tailSize = 4 << 10

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - tailSize; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// clockTicks is the unit of the CPU times in /proc/PID/stat: USER_HZ,
// which is 100 on every Linux architecture Go supports.
const clockTicks = 100

// cpuTime is the CPU time the child has used so far, user and system,
// over all its threads (from /proc, so Linux only).
func (c *child) cpuTime() (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("CPU time: %w", err)
	}
	return parseCPUTime(string(data))
}

// parseCPUTime reads utime and stime, fields 14 and 15 of a
// /proc/PID/stat line, counted after the command name in parentheses
// (which may hold spaces).
func parseCPUTime(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	fields := strings.Fields(stat[i+1:]) // from field 3, the state
	if i < 0 || len(fields) < 13 {
		return 0, fmt.Errorf("CPU time: cannot read %q", stat)
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("CPU time: cannot read %q", stat)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
