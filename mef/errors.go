package mef

import (
	"errors"
	"fmt"
)

// Conditions a caller may act on; every error Read returns is an *Error
// that wraps one of them when it applies.
var (
	// ErrUnsupported: the input uses a part of the MEF this reader does not
	// implement (event trees, CCF groups, substitutions, some expressions).
	ErrUnsupported = errors.New("unsupported")
	// ErrUndefined: a reference names nothing that is defined.
	ErrUndefined = errors.New("undefined")
	// ErrCycle: gates or parameters that depend on themselves.
	ErrCycle = errors.New("cycle")
)

// Error is a problem in an input file, at a position.
type Error struct {
	File      string
	Line, Col int
	Msg       string
	Hint      string // how to fix it, or ""
	Err       error  // a sentinel above, or nil
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }
