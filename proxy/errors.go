package proxy

import (
	"errors"
	"fmt"
	"net/http"
)

// An Error is an error with the HTTP status the API answers it with. Its
// JSON form is Toxiproxy's: {"error": "...", "status": 404}.
type Error struct {
	Message string `json:"error"`
	Status  int    `json:"status"`
}

func (e *Error) Error() string { return e.Message }

// Is makes errors.Is(err, ErrProxyNotFound) and the like match on the
// status and the start of the message, so that wrapped details do not
// hide the condition.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status && len(e.Message) >= len(t.Message) && e.Message[:len(t.Message)] == t.Message
}

// Conditions that callers act on. The messages are Toxiproxy's, so that
// its clients recognise them.
var (
	ErrProxyNotFound = &Error{"proxy not found", http.StatusNotFound}
	ErrProxyExists   = &Error{"proxy already exists", http.StatusConflict}
	ErrToxicNotFound = &Error{"toxic not found", http.StatusNotFound}
	ErrToxicExists   = &Error{"toxic already exists", http.StatusConflict}
)

func badRequest(format string, args ...any) error {
	return &Error{fmt.Sprintf(format, args...), http.StatusBadRequest}
}

func notFound(base *Error, name string) error {
	return &Error{fmt.Sprintf("%s: %s", base.Message, name), base.Status}
}

// statusOf returns the HTTP status for err: its own for an *Error, 500
// otherwise.
func statusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return http.StatusInternalServerError
}
