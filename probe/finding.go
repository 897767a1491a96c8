package probe

import (
	"errors"
	"fmt"
	"io"
)

// Sentinel errors of DNS and TLS, for callers that choose an exit code:
// wrapped by every error those probes return.
var (
	// ErrBadInput: a domain or address that cannot be probed as given.
	ErrBadInput = errors.New("bad input")
	// ErrUnreachable: a resolver or server that did not answer at all.
	ErrUnreachable = errors.New("unreachable")
)

// Severity says how bad a Finding is.
type Severity string

const (
	// SeverityError: broken now, or a single point of failure.
	SeverityError Severity = "error"
	// SeverityWarning: works now, but is fragile or about to break.
	SeverityWarning Severity = "warning"
)

// A Finding is one thing a DNS or TLS probe saw that the user should act on.
// Findings are not Go errors: a probe that found an expired certificate
// succeeded.
type Finding struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`    // stable, e.g. "single-provider", "expiring"
	Message  string   `json:"message"` // what was seen, naming the input
	Fix      string   `json:"fix,omitempty"`
}

func (f Finding) String() string {
	s := fmt.Sprintf("%s: %s: %s", f.Severity, f.Code, f.Message)
	if f.Fix != "" {
		s += " (fix: " + f.Fix + ")"
	}
	return s
}

// writeFindings renders findings one a line, indented, or "no findings".
func writeFindings(w io.Writer, findings []Finding) {
	if len(findings) == 0 {
		fmt.Fprintln(w, "  no findings")
		return
	}
	for _, f := range findings {
		fmt.Fprintf(w, "  %s\n", f)
	}
}

// An inputError is an ErrBadInput worded for the user: what was wrong and
// a hint.
type inputError struct{ msg string }

func (e *inputError) Error() string        { return e.msg }
func (e *inputError) Is(target error) bool { return target == ErrBadInput }

func badInput(format string, args ...any) error {
	return &inputError{msg: fmt.Sprintf(format, args...)}
}
