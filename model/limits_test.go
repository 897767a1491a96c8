package model

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestErrorFlood checks that a model with a huge number of problems gets
// the first MaxErrors of them in detail and a count of the rest, and that
// an error found last but placed first is among those shown.
func TestErrorFlood(t *testing.T) {
	const keys = 200_000
	var b strings.Builder
	b.WriteString("version: 1\nsystem: flood\n")
	for i := range keys {
		fmt.Fprintf(&b, "unknown-%d: 1\n", i)
	}
	_, err := Parse("flood.yaml", []byte(b.String()))
	var many *TooManyErrors
	if !errors.As(err, &many) {
		t.Fatalf("error is %T, want *TooManyErrors", err)
	}
	var list ErrorList
	if !errors.As(err, &list) || len(list) != MaxErrors || !IsInvalid(err) {
		t.Fatalf("errors.As gives %d errors, want %d", len(list), MaxErrors)
	}
	// The missing components key is found after every unknown key, at the
	// top of the file.
	if got, want := list[0].Error(), `flood.yaml:1:1: missing required key "components" (example: components: {app: {kind: service}})`; got != want {
		t.Errorf("first error:\n got %s\nwant %s", got, want)
	}
	if got, want := list[1].Error(), "flood.yaml:3:1: unknown-0: unknown key (valid keys: version, system, description, environment, zones, regions, providers, components, flows, people, hazards, chaos)"; got != want {
		t.Errorf("second error:\n got %s\nwant %s", got, want)
	}
	if got, want := list[MaxErrors-1].Pos.Line, MaxErrors+1; got != want {
		t.Errorf("last error shown is on line %d, want %d", got, want)
	}
	if want := keys + 1 - MaxErrors; many.More != want {
		t.Errorf("More = %d, want %d", many.More, want)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != MaxErrors+1 || lines[MaxErrors] != fmt.Sprintf("… and %d more errors", keys+1-MaxErrors) {
		t.Errorf("Error() has %d lines, ending %q", len(lines), lines[len(lines)-1])
	}
}

// TestErrorsUnderTheCap checks that up to MaxErrors problems come back as a
// plain ErrorList, as before the cap.
func TestErrorsUnderTheCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nsystem: few\ncomponents: {app: {kind: service}}\n")
	for i := range MaxErrors {
		fmt.Fprintf(&b, "unknown-%d: 1\n", i)
	}
	_, err := Parse("few.yaml", []byte(b.String()))
	list, ok := err.(ErrorList)
	if !ok || len(list) != MaxErrors {
		t.Fatalf("error is %T with %d errors, want an ErrorList of %d", err, len(list), MaxErrors)
	}
}
