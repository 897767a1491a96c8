package model

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spofhq/spof/internal/yamltree"
	"go.yaml.in/yaml/v3"
)

// document parses data as one YAML document and returns its root node, or
// nil after recording why there is none: empty, when the document is
// empty (nothing, or only null), is recorded by the caller.
//
// The tree comes from yamltree, which parses as yaml.v3 does but several
// times faster and in half the memory. What yamltree rejects is parsed
// again with yaml.v3 (through yamlDocument), whose error messages and
// positions are the ones users see.
func (d *decoder) document(data []byte, multiHint string) (root *yamltree.Node, empty bool) {
	workers := runtime.GOMAXPROCS(0)
	if d.wholeYAML {
		workers = 1
	}
	root, err := yamltree.ParseParallel(data, workers)
	switch {
	case err != nil:
		if _, empty := d.yamlDocument(data, multiHint); empty {
			return nil, true
		} else if len(d.errs) == 0 {
			// yaml.v3 takes what yamltree refused: say so rather than
			// read the file from two readings of it.
			d.errorf(nil, "", "", "syntax error: %v", err)
		}
		return nil, false
	case root == nil || root.ShortTag() == "!!null":
		return nil, true
	}
	return root, false
}

func (d *decoder) emptyModel() {
	d.errorf(nil, "", `start with "version: 1", "system:" and "components:", or run "spof init"`, "empty model")
}

// v3Pos is the position of a yaml.v3 node.
func (d *decoder) v3Pos(n *yaml.Node) Pos {
	return Pos{File: d.file, Line: n.Line, Col: n.Column}
}

// yamlDocument parses data with yaml.v3 as one YAML document and returns
// its root node. When there is none it returns nil, and empty reports
// whether the document is empty; otherwise it has recorded why (one
// error). multiHint is the hint of the error for more than one document.
func (d *decoder) yamlDocument(data []byte, multiHint string) (root *yaml.Node, empty bool) {
	defer func() {
		// yaml.v3 panics on a few malformed inputs instead of returning an
		// error; bad input must never crash the caller.
		if r := recover(); r != nil {
			d.errorf(nil, "", "", "syntax error: the YAML parser failed: %v", r)
			root, empty = nil, false
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, true
		}
		d.syntaxError(data, err)
		return nil, false
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		d.errorAt(d.v3Pos(&next), "", multiHint, "multiple documents")
		return nil, false
	case err != io.EOF:
		d.syntaxError(data, err)
		return nil, false
	}
	if len(doc.Content) == 0 || doc.Content[0].ShortTag() == "!!null" {
		return nil, true
	}
	root = doc.Content[0]
	if !d.checkAliases(root) {
		return nil, false
	}
	return root, false
}

// syntaxError records a yaml.v3 error at the best position it allows.
//
// yaml.v3 gives a line ("yaml: line 3: ...") but no column, so the column is
// 1. Its scanner counts lines from 1 but its parser from 0, and it leaves
// out "line 0": parserProblems tells the two apart.
func (d *decoder) syntaxError(data []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, after, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil && n > 0 {
				line, msg = n, after
			}
		}
	}
	pos := Pos{File: d.file, Line: line, Col: 1}
	switch {
	case strings.HasPrefix(msg, "unknown anchor '"):
		name, _, _ := strings.Cut(strings.TrimPrefix(msg, "unknown anchor '"), "'")
		pos = d.aliasPos(data, name)
	case strings.HasPrefix(msg, "attempted to go past"):
		pos = Pos{File: d.file}
	case parserProblems[msg]:
		pos.Line++
	case line == 0:
		pos.Line = 1
	}
	hint := ""
	var bad *yamltree.ReaderError
	if _, err := yamltree.Parse(data); errors.As(err, &bad) && bad.Problem == msg {
		// yaml.v3 says what is wrong with a character but not where.
		pos, hint = d.offsetPos(data, bad.Offset), badCharHint(data[bad.Offset:])
	}
	if msg == "found character that cannot start any token" && tabIndented(data, pos.Line) {
		hint = "YAML does not allow tabs for indentation: indent with spaces"
	}
	d.errorAt(pos, "", hint, "syntax error: %s", msg)
}

// offsetPos is the position of the character at byte off of data.
func (d *decoder) offsetPos(data []byte, off int) Pos {
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	line := 1 + bytes.Count(data[:start], []byte("\n"))
	col := 1 + utf8.RuneCount(bytes.TrimPrefix(data[start:off], []byte("\uFEFF")))
	return Pos{File: d.file, Line: line, Col: col}
}

// badCharHint names the character the YAML reader refused at the start of
// b: an invalid UTF-8 byte, or a control character.
func badCharHint(b []byte) string {
	r, size := utf8.DecodeRune(b)
	if r == utf8.RuneError && size <= 1 {
		if len(b) == 0 {
			return "the file ends inside a UTF-8 character: save it as UTF-8"
		}
		return fmt.Sprintf("byte 0x%02X does not start a valid UTF-8 character: save the file as UTF-8", b[0])
	}
	return fmt.Sprintf("remove the character %U", r)
}

// tabIndented reports whether line (from 1) of data is indented with a tab.
func tabIndented(data []byte, line int) bool {
	for i := 1; i < line; i++ {
		_, rest, ok := bytes.Cut(data, []byte("\n"))
		if !ok {
			return false
		}
		data = rest
	}
	text, _, _ := bytes.Cut(data, []byte("\n"))
	indent := text[:len(text)-len(bytes.TrimLeft(text, " \t"))]
	return bytes.IndexByte(indent, '\t') >= 0
}

// parserProblems are the messages of yaml.v3's parser, whose line numbers
// count from 0 (those of its scanner count from 1).
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// aliasPos finds the first use of alias *name in data, for the error about
// an unknown anchor, which yaml.v3 reports without a position.
func (d *decoder) aliasPos(data []byte, name string) Pos {
	needle := []byte("*" + name)
	for off := 0; ; {
		i := bytes.Index(data[off:], needle)
		if i < 0 {
			return Pos{File: d.file}
		}
		i += off
		end := i + len(needle)
		if end == len(data) || bytes.IndexByte([]byte(" \t\r\n,]}"), data[end]) >= 0 {
			line := 1 + bytes.Count(data[:i], []byte("\n"))
			col := 1 + utf8.RuneCount(data[bytes.LastIndexByte(data[:i], '\n')+1:i])
			return Pos{File: d.file, Line: line, Col: col}
		}
		off = end
	}
}

// checkAliases rejects aliases that the decoder could not follow: an alias
// inside the value it names (a cycle), and aliases that expand the document
// to far more nodes than it holds ("billion laughs").
func (d *decoder) checkAliases(root *yaml.Node) bool {
	const (
		limit      = 1 << 40
		inProgress = -1
	)
	raw, aliases := 0, false
	var cycle *yaml.Node
	expanded := map[*yaml.Node]int{} // size of each anchored node
	var walk func(n *yaml.Node, counting bool) int
	walk = func(n *yaml.Node, counting bool) int {
		if n == nil || cycle != nil {
			return 0
		}
		if counting {
			raw++
		}
		if n.Kind == yaml.AliasNode {
			aliases = true
			if n.Alias == nil {
				return 1
			}
			switch s, ok := expanded[n.Alias]; {
			case ok && s == inProgress:
				cycle = n
				return 1
			case ok:
				return s
			}
			return walk(n.Alias, false)
		}
		if n.Anchor != "" {
			expanded[n] = inProgress
		}
		size := 1
		for _, c := range n.Content {
			size = min(size+walk(c, counting), limit)
		}
		if n.Anchor != "" {
			expanded[n] = size
		}
		return size
	}
	size := walk(root, true)
	switch {
	case cycle != nil:
		d.errorAt(d.v3Pos(cycle), "", "", "alias *%s is inside the value it names", cycle.Value)
		return false
	case aliases && size > 10*raw+100000:
		d.errorf(nil, "", "use fewer nested aliases", "aliases expand the document from %d to %d nodes", raw, size)
		return false
	}
	return true
}

// YAMLSyntaxError positions err, an error go.yaml.in/yaml/v3 returned for
// data (the contents of file), as Parse positions a model's syntax errors:
// yaml.v3's parser counts lines from 0 and its scanner from 1, it gives no
// column, and it says what is wrong with a bad character but not where.
// Importers that read YAML with yaml.v3 use it, so that their errors point
// where the model's would.
func YAMLSyntaxError(file string, data []byte, err error) *Error {
	d := &decoder{file: file}
	d.syntaxError(data, err)
	if len(d.errs) == 0 {
		return &Error{Pos: Pos{File: file}, Msg: "syntax error: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	return d.errs[0]
}
