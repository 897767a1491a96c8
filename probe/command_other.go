//go:build !unix

package probe

import (
	"context"
	"errors"
)

func runCommand(context.Context, string, string) verdict {
	return verdict{err: errors.New("command probes need a unix system")}
}
