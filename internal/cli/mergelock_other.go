//go:build !unix

package cli

import "io"

// lockMerge does nothing where flock is not available: two merges into one
// model at once may then lose one's additions.
func lockMerge(dir string, stderr io.Writer) (unlock func(), err error) {
	return func() {}, nil
}
