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
// runbooks do (an iptables rule, an RDS failover): Inject runs to put the
// fault in, Restore to take it out, and Check, if set, exits 0 while the
// fault is in place.
type Command struct {
	Inject, Restore, Check string
	Dir                    string // working directory: the model's
}

type commandUndo struct {
	Restore string `json:"restore"`
	Check   string `json:"check,omitempty"`
	Dir     string `json:"dir,omitempty"`
}

// Prepare returns the undo record of the fault, before it is injected.
func (c Command) Prepare() Undo {
	return marshalUndo("command", commandUndo{c.Restore, c.Check, c.Dir})
}

// Run puts the fault in.
func (c Command) Run(ctx context.Context) error {
	if err := shell(ctx, c.Dir, c.Inject); err != nil {
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
