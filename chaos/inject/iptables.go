package inject

import (
	"context"
	"errors"
)

// iptablesUndo is a placeholder: the iptables injector is being written.
type iptablesUndo struct{}

func (iptablesUndo) restore(context.Context) error { return errors.New("iptables injector: not implemented") }

func (iptablesUndo) active(context.Context) (bool, error) {
	return false, errors.New("iptables injector: not implemented")
}
