package inject

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process injects a fault by signalling a process: STOP pauses it (a hung
// dependency; CONT restores), TERM and KILL end it (a crash; the restart
// command restores). The process is found through a pidfile or a command
// that prints its pid.
type Process struct {
	PIDFile string
	PIDCmd  string
	Signal  string // STOP, TERM or KILL
	Restart string // shell command; required for TERM and KILL
	Dir     string // where relative pidfiles and commands are resolved
}

type processUndo struct {
	PID     int    `json:"pid"`
	Signal  string `json:"signal"`
	Restart string `json:"restart,omitempty"`
	PIDFile string `json:"pidfile,omitempty"`
	PIDCmd  string `json:"pid_cmd,omitempty"`
	Dir     string `json:"dir,omitempty"`
}

var signals = map[string]syscall.Signal{"STOP": syscall.SIGSTOP, "TERM": syscall.SIGTERM, "KILL": syscall.SIGKILL}

// Prepare finds the process and returns the
// undo record of its fault; nothing is signalled yet.
func (p Process) Prepare(ctx context.Context) (Undo, error) {
	if _, ok := signals[p.Signal]; !ok {
		return Undo{}, fmt.Errorf("signal %q: want STOP, TERM or KILL", p.Signal)
	}
	if p.Signal != "STOP" && p.Restart == "" {
		return Undo{}, fmt.Errorf("signal %s ends the process: a restart command is needed to restore it", p.Signal)
	}
	pid, err := findPID(ctx, p.PIDFile, p.PIDCmd, p.Dir)
	if err != nil {
		return Undo{}, err
	}
	return marshalUndo("process", processUndo{PID: pid, Signal: p.Signal, Restart: p.Restart, PIDFile: p.PIDFile, PIDCmd: p.PIDCmd, Dir: p.Dir}), nil
}

// Inject sends the binding's signal to the process that u, from Prepare,
// names. The signal is the fault, whatever fault the experiment names.
func (Process) Inject(_ context.Context, u Undo, _ Fault) error {
	var d processUndo
	if err := json.Unmarshal(u.Data, &d); err != nil {
		return fmt.Errorf("process undo record: %w", err)
	}
	if err := syscall.Kill(d.PID, signals[d.Signal]); err != nil {
		return fmt.Errorf("sending SIG%s to pid %d: %w", d.Signal, d.PID, err)
	}
	return nil
}

func (u processUndo) restore(ctx context.Context) error {
	if u.Signal == "STOP" {
		err := syscall.Kill(u.PID, syscall.SIGCONT)
		if err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("sending SIGCONT to pid %d: %w", u.PID, err)
		}
		return nil
	}
	if on, err := u.active(ctx); err == nil && !on {
		return nil // already running again
	}
	if err := shell(ctx, u.Dir, u.Restart); err != nil {
		return fmt.Errorf("restart command: %w", err)
	}
	// A service may write its pidfile only once it is up: wait for it
	// here, rather than have a retry start it a second time.
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if on, err := u.active(ctx); err == nil && !on {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("restart command ran, but no live process is found (pidfile or pid_cmd) yet: %w", context.Cause(ctx))
		case <-t.C:
		}
	}
}

// heals: a supervisor may restart a process that was ended; a stopped one
// stays stopped.
func (u processUndo) heals() bool { return u.Signal != "STOP" }

func (u processUndo) active(ctx context.Context) (bool, error) {
	if u.Signal == "STOP" {
		return stopped(u.PID), nil
	}
	pid, err := findPID(ctx, u.PIDFile, u.PIDCmd, u.Dir)
	if err != nil {
		return true, nil // nothing running: still down
	}
	return !Alive(pid), nil
}

// findPID reads the pid from the pidfile, or from pid_cmd's output.
func findPID(ctx context.Context, pidfile, pidCmd, dir string) (int, error) {
	var text []byte
	switch {
	case pidfile != "":
		path := pidfile
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return 0, fmt.Errorf("pidfile: %w", err)
		}
		text = data
	case pidCmd != "":
		cmd := exec.CommandContext(ctx, "sh", "-c", pidCmd)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			return 0, fmt.Errorf("pid_cmd %q: %w", pidCmd, err)
		}
		text = out
	default:
		return 0, fmt.Errorf("no pidfile or pid_cmd to find the process")
	}
	fields := strings.Fields(string(bytes.TrimSpace(text)))
	if len(fields) == 0 {
		return 0, fmt.Errorf("no pid found (empty)")
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil || pid <= 1 {
		return 0, fmt.Errorf("%q is not a process id", fields[0])
	}
	return pid, nil
}

// Alive reports whether process pid exists and is not a zombie.
func Alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return (err == nil || errors.Is(err, syscall.EPERM)) && !zombie(pid)
}

// stopped reports whether pid is stopped (state T in /proc/PID/stat).
func stopped(pid int) bool { return procState(pid) == 'T' }

func zombie(pid int) bool { return procState(pid) == 'Z' }

func procState(pid int) byte {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// pid (comm) state ...: comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return 0
	}
	return data[i+2]
}
