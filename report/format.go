// Package report renders analysis results for people and machines: the
// text a terminal shows, JSON (a stable contract), GitHub-flavoured
// Markdown, SARIF 2.1.0 for code scanning, JUnit XML for CI, and the
// dependency graph as Graphviz DOT, Mermaid or JSON.
//
// Every function writes to the io.Writer it is given and does no other I/O.
// Output is deterministic: the same input gives the same bytes, so reports
// can be diffed and kept as golden files.
package report

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Output names a kind of output by the command that prints it. Each kind
// supports its own set of formats.
type Output string

// Kinds of output.
const (
	OutputCheck     Output = "check"     // analysis.Result: Text, JSON, Markdown, SARIF, JUnit
	OutputGraph     Output = "graph"     // Graph
	OutputChecklist Output = "checklist" // Checklist
	OutputWhatIf    Output = "whatif"    // WhatIf
	OutputExplain   Output = "explain"   // Explain
)

// Format names, as given to --format.
const (
	FormatText     = "text"
	FormatJSON     = "json"
	FormatMarkdown = "markdown"
	FormatSARIF    = "sarif"
	FormatJUnit    = "junit"
	FormatDOT      = "dot"
	FormatMermaid  = "mermaid"
)

// ErrUnknownFormat is wrapped by the error of CheckFormat and of every
// renderer that is given a format it does not support.
var ErrUnknownFormat = errors.New("unknown format")

// Formats returns the formats an output supports, the default first, or nil
// for an unknown output.
func Formats(out Output) []string {
	switch out {
	case OutputCheck:
		return []string{FormatText, FormatJSON, FormatMarkdown, FormatSARIF, FormatJUnit}
	case OutputGraph:
		return []string{FormatDOT, FormatMermaid, FormatJSON}
	case OutputChecklist, OutputWhatIf, OutputExplain:
		return []string{FormatText, FormatJSON, FormatMarkdown}
	}
	return nil
}

// CheckFormat reports whether out can be rendered as format. The error wraps
// ErrUnknownFormat and names the valid formats, e.g.
//
//	format "xml" is not supported by spof check (want text, json, markdown, sarif or junit)
func CheckFormat(out Output, format string) error {
	valid := Formats(out)
	if valid == nil {
		return fmt.Errorf("%w: unknown kind of output %q", ErrUnknownFormat, out)
	}
	if slices.Contains(valid, format) {
		return nil
	}
	return fmt.Errorf("%w: format %q is not supported by spof %s (want %s)",
		ErrUnknownFormat, format, out, orList(valid))
}

// orList formats a, b, c as "a, b or c".
func orList(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// write writes b to w, naming what was being written when it fails.
func write(w io.Writer, what string, b []byte) error {
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("writing %s: %w", what, err)
	}
	return nil
}
