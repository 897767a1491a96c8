//go:build !unix

package store

import "errors"

// tryLockFile needs flock, which only Unix systems have.
func tryLockFile(path string) (held, bool, error) {
	return nil, false, errors.New("leading on SQLite locks a file with flock, which this system does not have: use PostgreSQL")
}
