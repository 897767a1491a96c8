package demo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spofhq/spof/examples/shop/internal/serve"
)

// A process is a child started in its own process group, so that Stop can
// end it together with whatever it forked. Its standard output and error go
// to a log file in the system's directory.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	stopSig syscall.Signal
	done    chan struct{} // closed when the process has exited
	waitErr error         // set before done is closed
	ready   chan string   // the address from the first ready line, if any
}

// startProcess starts cmd as name, logging to dir/logs/name.log. Lines of
// its standard output that look like serve.ReadyLine send their URL on
// p.ready (once).
func startProcess(dir, name string, cmd *exec.Cmd, stopSig syscall.Signal) (*process, error) {
	logPath := filepath.Join(dir, "logs", name+".log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child and the reader have their own descriptors
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = pw
	cmd.Stderr = logFile
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	dieWithParent(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	pw.Close()
	p := &process{name: name, cmd: cmd, logPath: logPath, stopSig: stopSig, done: make(chan struct{}), ready: make(chan string, 1)}
	out, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		pr.Close()
		return nil, err
	}
	go p.readStdout(pr, out)
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) readStdout(r, log *os.File) {
	defer r.Close()
	defer log.Close()
	sc := bufio.NewScanner(r)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(log, line)
		if _, url, ok := serve.ParseReadyLine(line); ok && !sent {
			p.ready <- url
			sent = true
		}
	}
	io.Copy(log, r)
}

// waitReady waits for the process's ready line and returns its URL.
func (p *process) waitReady(ctx context.Context) (string, error) {
	select {
	case url := <-p.ready:
		return url, nil
	case <-p.done:
		return "", p.exitError()
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for %s to listen: %w%s", p.name, context.Cause(ctx), p.logTail())
	}
}

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) exitError() error {
	return fmt.Errorf("%s exited early (%v)%s", p.name, p.waitErr, p.logTail())
}

// logTail is the end of the process's log, to explain a failure.
func (p *process) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return fmt.Sprintf("; end of %s:\n%s", p.logPath, strings.TrimRight(string(b), "\n"))
}

// stop sends the process its stop signal, gives it grace to exit, then
// kills its process group; whatever is left of the group is killed too.
func (p *process) stop(grace time.Duration) error {
	pid := p.cmd.Process.Pid
	var err error
	if !p.exited() {
		_ = syscall.Kill(pid, p.stopSig)
		t := time.NewTimer(grace)
		select {
		case <-p.done:
		case <-t.C:
			err = fmt.Errorf("%s did not stop within %v of %v: killed", p.name, grace, p.stopSig)
		}
		t.Stop()
	}
	if e := syscall.Kill(-pid, syscall.SIGKILL); e != nil && !errors.Is(e, syscall.ESRCH) && err == nil {
		err = fmt.Errorf("killing the process group of %s: %w", p.name, e)
	}
	<-p.done
	return err
}
