//go:build unix

package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"

	"github.com/spofhq/spof/analysis"
)

// waitDelay bounds how long Wait waits for output pipes after the process
// group is killed.
const waitDelay = time.Second

// runCommand runs command with sh -c in dir, in its own process group so
// that ending ctx kills the command and everything it started.
func runCommand(ctx context.Context, command, dir string) verdict {
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Dir = dir
	out := &tail{max: maxQuoted}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = waitDelay

	err := cmd.Run()
	switch {
	case err == nil:
		return verdict{state: analysis.Up, detail: "exit status 0"}
	case ctx.Err() != nil:
		return verdict{err: fmt.Errorf("command killed: %w%s", ctx.Err(), out.suffix())}
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return down(exit.Error() + out.suffix())
	}
	return verdict{err: fmt.Errorf("command: %w", err)}
}

// tail keeps the last max bytes written to it. exec.Cmd calls Write from
// one goroutine at a time when Stdout and Stderr are the same tail.
type tail struct {
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= t.max {
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		return n, nil
	}
	if over := len(t.buf) + len(p) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	t.buf = append(t.buf, p...)
	return n, nil
}

// suffix is ": <output>" for a Detail, or "" when there was no output.
func (t *tail) suffix() string {
	out := bytes.TrimSpace(t.buf)
	if len(out) == 0 {
		return ""
	}
	return fmt.Sprintf(": %q", out)
}
