package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrInvalid is returned (wrapped) for input a method refuses: an empty
// or oversized name, a negative limit, JSON that does not parse, an
// unknown verdict... The error says which field and why. (A server maps it
// to 400, other errors to 500.)
var ErrInvalid = errors.New("invalid")

// Sizes the store accepts; larger input is refused with ErrInvalid. Model
// sources, baselines, snapshot reports, checklists, a run's flows and a
// fault's undo are bodies; descriptions, reasons and sample details are
// texts; everything else (system names, experiments, edges, flows,
// nodes...) is a name.
const (
	maxName    = 1 << 10  // 1 KiB
	maxText    = 64 << 10 // 64 KiB
	maxBody    = 64 << 20 // 64 MiB
	maxSamples = 1 << 20  // samples per run
	maxEdges   = 1 << 12  // fallback edges per run
	maxRun     = 256 << 20
	maxLease   = 64 // a lease name's bytes
)

// Times outside these years are refused: both backends keep years 1 to
// 9999, and a time out there is a bug upstream.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// invalid is an ErrInvalid saying what is wrong.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// checkName: a name is 1 to maxName bytes of UTF-8 without control
// characters.
func checkName(field, s string) error {
	if s == "" {
		return invalid("%s is empty", field)
	}
	return checkOptionalName(field, s)
}

// checkOptionalName is checkName where the name may be empty.
func checkOptionalName(field, s string) error {
	if len(s) > maxName {
		return invalid("%s is %d bytes long, over the limit of %d", field, len(s), maxName)
	}
	if !utf8.ValidString(s) {
		return invalid("%s %q is not UTF-8", field, s)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return invalid("%s %q has a control character (%U)", field, s, r)
		}
	}
	return nil
}

// checkText: a text is UTF-8 up to limit bytes, without NUL (which
// PostgreSQL cannot store).
func checkText(field, s string, limit int) error {
	if len(s) > limit {
		return invalid("%s is %d bytes long, over the limit of %d", field, len(s), limit)
	}
	if !utf8.ValidString(s) {
		return invalid("%s is not UTF-8", field)
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return invalid("%s has a NUL byte at %d", field, i)
		}
	}
	return nil
}

// checkJSON: an empty body is absent; otherwise it must be valid UTF-8
// JSON up to maxBody bytes.
func checkJSON(field string, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if len(b) > maxBody {
		return invalid("%s is %d bytes long, over the limit of %d", field, len(b), maxBody)
	}
	if !utf8.Valid(b) || !json.Valid(b) {
		return invalid("%s is not valid JSON", field)
	}
	return nil
}

// checkLimit: a limit is 0 (the default) or positive.
func checkLimit(limit int) error {
	if limit < 0 {
		return invalid("limit %d is negative (0 is the default)", limit)
	}
	return nil
}

// normTime returns t as the store keeps it: UTC, to the microsecond
// (PostgreSQL's precision, which SQLite keeps too), so that what a Put
// returns equals what is read back. The zero time stays zero.
func normTime(field string, t time.Time) (time.Time, error) {
	if t.IsZero() {
		return time.Time{}, nil
	}
	if t.Before(minTime) || !t.Before(maxTime) {
		return time.Time{}, invalid("%s %s is outside the years 1 to 9999", field, t)
	}
	return t.UTC().Truncate(time.Microsecond), nil
}

// normSince is normTime for a lower bound: rounded up to the
// microsecond, so that "at or after since" holds of what is kept to the
// microsecond exactly as of the times given.
func normSince(t time.Time) (time.Time, error) {
	n, err := normTime("since", t)
	if err == nil && n.Before(t) {
		n = n.Add(time.Microsecond)
	}
	return n, err
}

// orNow is t, or now when t is zero.
func orNow(t time.Time, now func() time.Time) time.Time {
	if t.IsZero() {
		return now()
	}
	return t
}

// absent is nil for an empty JSON body: the store keeps no empty bodies.
func absent(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return b
}
