package mef

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
)

// maxDepth bounds element nesting, so hostile input cannot exhaust the
// stack of the recursive passes over formulas.
const maxDepth = 1000

// source is one input file, kept to turn byte offsets into line:col.
type source struct {
	name  string
	data  []byte
	lines []int // offset of the start of each line after the first
}

func newSource(name string, data []byte) *source {
	s := &source{name: name, data: data}
	for i, b := range data {
		if b == '\n' {
			s.lines = append(s.lines, i+1)
		}
	}
	return s
}

func (s *source) pos(off int64) (line, col int) {
	i := sort.Search(len(s.lines), func(i int) bool { return int64(s.lines[i]) > off })
	start := 0
	if i > 0 {
		start = s.lines[i-1]
	}
	return i + 1, int(off) - start + 1
}

// node is an XML element with where it starts; text is ignored (MEF keeps
// values in attributes; labels are the only text and are ignored).
type node struct {
	name  string
	attrs []xml.Attr
	kids  []*node
	src   *source
	off   int64
}

func (n *node) attr(name string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// errorf returns an *Error at n; err is a sentinel or nil, hint may be "".
func (n *node) errorf(err error, hint, format string, args ...any) *Error {
	line, col := n.src.pos(n.off)
	return &Error{File: n.src.name, Line: line, Col: col, Msg: fmt.Sprintf(format, args...), Hint: hint, Err: err}
}

// parseXML reads a whole file into a tree of nodes.
func parseXML(src *source) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(src.data))
	var root *node
	var stack []*node
	for {
		off := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			line, col := d.InputPos()
			col = max(col, 1) // at a line's start the decoder says 0
			msg := err.Error()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				msg = se.Msg
			}
			return nil, &Error{File: src.name, Line: line, Col: col, Msg: "malformed XML: " + msg}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name.Local, attrs: t.Attr, src: src, off: off}
			if len(stack) == 0 {
				if root != nil {
					return nil, n.errorf(nil, "", "malformed XML: a second root element <%s>", n.name)
				}
				root = n
			} else {
				parent := stack[len(stack)-1]
				parent.kids = append(parent.kids, n)
			}
			if len(stack) >= maxDepth {
				return nil, n.errorf(ErrUnsupported, "", "elements nested deeper than %d", maxDepth)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if root == nil {
		line, col := src.pos(int64(len(src.data)))
		return nil, &Error{File: src.name, Line: line, Col: col, Msg: "malformed XML: no root element", Hint: "an MEF file is <opsa-mef>...</opsa-mef>"}
	}
	return root, nil
}
