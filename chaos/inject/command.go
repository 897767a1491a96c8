package inject

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Command injects a fault with shell commands, the way the articles'
// runbooks do (an iptables rule, an RDS failover): InjectCmd runs to put
// the fault in, RestoreCmd to take it out, and CheckCmd, if set, exits 0
// while the fault is in place.
type Command struct {
	InjectCmd, RestoreCmd, CheckCmd string
	Dir                             string // working directory: the model's
}

type commandUndo struct {
	Restore string `json:"restore"`
	Check   string `json:"check,omitempty"`
	Dir     string `json:"dir,omitempty"`
}

// Undo returns the undo record of the fault: the restore command.
func (c Command) Undo() Undo {
	return marshalUndo("command", commandUndo{c.RestoreCmd, c.CheckCmd, c.Dir})
}

// Prepare returns the undo record of the fault, before it is injected.
func (c Command) Prepare(context.Context) (Undo, error) {
	return c.Undo(), nil
}

// Inject runs the inject command: the fault is the command's, whatever
// fault the experiment names.
func (c Command) Inject(ctx context.Context, _ Undo, _ Fault) error {
	if err := shell(ctx, c.Dir, c.InjectCmd); err != nil {
		return fmt.Errorf("inject command: %w", err)
	}
	return nil
}

func (u commandUndo) restore(ctx context.Context) error {
	if err := shell(ctx, u.Dir, u.Restore); err != nil {
		return fmt.Errorf("restore command: %w", err)
	}
	return nil
}

// blind: without a check command nobody can tell whether the fault is in.
func (u commandUndo) blind() bool { return u.Check == "" }

func (u commandUndo) active(ctx context.Context) (bool, error) {
	if u.Check == "" {
		return false, nil // nothing to ask: trust the restore command
	}
	err := shell(ctx, u.Dir, u.Check)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ee):
		return false, nil
	}
	return false, fmt.Errorf("check command: %w", err)
}

// shell runs script with sh -c, and returns its output in the error when
// it fails.
func shell(ctx context.Context, dir, script string) error {
	cmd := exec.CommandContext(ctx, "sh", "-c", script)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(out.String()); msg != "" {
			return fmt.Errorf("%q: %w: %s", script, err, msg)
		}
		return fmt.Errorf("%q: %w", script, err)
	}
	return nil
}
