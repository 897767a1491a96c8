package report

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/spofhq/spof/analysis"
)

// wrapFields is wrap as it was first written: words from strings.Fields,
// joined while they fit.
func wrapFields(text string, width int) []string {
	words := strings.Fields(text)
	if len(words) == 0 {
		return []string{""}
	}
	var lines []string
	line := words[0]
	n := utf8.RuneCountInString(line)
	for _, w := range words[1:] {
		wn := utf8.RuneCountInString(w)
		if n+1+wn > width {
			lines = append(lines, line)
			line, n = w, wn
			continue
		}
		line += " " + w
		n += 1 + wn
	}
	return append(lines, line)
}

// TestWrapSameAsFields: wrap cuts lines from the text itself, and gives what joining
// its words would, on random text with every kind of white space, long
// words and multi-byte runes.
func TestWrapSameAsFields(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "bb", "cccc", "ddddddddddddddd", "é", "→→", " ", " ", " ", "  ", "\t", "\n", "\u00a0", "x\u3000y"}
	for range 20000 {
		var b strings.Builder
		for range r.IntN(30) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		text, width := b.String(), 1+r.IntN(20)
		if got, want := wrap(text, width), wrapFields(text, width); !slices.Equal(got, want) {
			t.Fatalf("wrap(%q, %d) = %q, want %q", text, width, got, want)
		}
	}
}

// TestEvidenceCapped: text and markdown show the first maxEvidence lines
// of an item's evidence and count the rest; JSON keeps them all.
func TestEvidenceCapped(t *testing.T) {
	var ev []string
	for i := range maxEvidence + 12 {
		ev = append(ev, fmt.Sprintf("component-%03d: a single replica", i))
	}
	r := &analysis.Result{System: "big", Checklist: []analysis.ChecklistItem{{Item: 1, Title: "Stateful", Status: analysis.Fail, Evidence: ev}}}
	var text, md, js strings.Builder
	if err := Text(&text, r, analysis.Gate{}, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&md, r, analysis.Gate{}, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := JSON(&js, r, analysis.Gate{}); err != nil {
		t.Fatal(err)
	}
	last, hidden := fmt.Sprintf("component-%03d", maxEvidence-1), fmt.Sprintf("component-%03d", maxEvidence)
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String()} {
		if !strings.Contains(out, last) || strings.Contains(out, hidden) || !strings.Contains(out, "… and 12 more (--format json lists every one)") {
			t.Errorf("%s: want the first %d lines and a count of the 12 others:\n%s", name, maxEvidence, out)
		}
	}
	if !strings.Contains(js.String(), fmt.Sprintf("component-%03d", maxEvidence+11)) {
		t.Error("json: evidence cut")
	}
}
