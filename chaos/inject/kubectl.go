package inject

import (
	"context"
	"errors"
)

// kubectlUndo is a placeholder: the kubectl injector is being written.
type kubectlUndo struct{}

func (kubectlUndo) restore(context.Context) error { return errors.New("kubectl injector: not implemented") }

func (kubectlUndo) active(context.Context) (bool, error) {
	return false, errors.New("kubectl injector: not implemented")
}
