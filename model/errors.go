package model

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a model file, with where it is and how to fix it.
//
// It formats as "file:line:col: path: message (hint)", the form editors and
// CI annotations understand.
type Error struct {
	Pos  Pos
	Path string // e.g. "components.app.depends_on[2]"
	Msg  string // e.g. `unknown component "paymnts"`
	Hint string // e.g. `did you mean "payments"?`; may be empty
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Pos.Line > 0 || e.Pos.File != "" {
		b.WriteString(e.Pos.String())
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// ErrorList is every problem found in a model, sorted by position. It is the
// error Parse returns for bad input; callers test for it with errors.As.
type ErrorList []*Error

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// TooManyErrors is the error Parse returns for a model with more than
// MaxErrors problems: the first MaxErrors of them by position, and how many
// more it found. It unwraps to the ErrorList, so errors.As finds that too.
type TooManyErrors struct {
	Errors ErrorList
	More   int // at least this many more problems
}

func (e *TooManyErrors) Error() string {
	return fmt.Sprintf("%s\n… and %d more error%s", e.Errors.Error(), e.More, plural(e.More))
}

func (e *TooManyErrors) Unwrap() error { return e.Errors }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Sort orders the list by file, line, column, then message.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		return l[i].Msg < l[j].Msg
	})
}

// Err returns l as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// IsInvalid reports whether err says the model itself is bad (as opposed to,
// say, the file being unreadable).
func IsInvalid(err error) bool {
	var l ErrorList
	var e *Error
	return errors.As(err, &l) || errors.As(err, &e)
}
