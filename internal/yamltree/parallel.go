package yamltree

import (
	"bytes"
	"slices"
	"sync"
)

// Parallel parsing: a large model is one mapping whose "components:" entry
// holds most of the file, one key per component at a fixed indentation.
// ParseParallel cuts that entry between components, parses the pieces on
// several goroutines, and joins their trees. It returns exactly what Parse
// returns: whenever the input is not of that shape, or any piece fails or
// holds something whose meaning could depend on the other pieces (an anchor
// or an alias), it parses the whole input with Parse instead.
//
// Why a cut is safe: the pieces are cut before a line that starts, at the
// indentation of the components' keys, with a character that can start a
// key. In the whole document such a line either starts the next component
// or is where a construct that began earlier goes on (a quoted scalar or a
// flow collection spanning lines). In the second case the piece before the
// cut ends inside that construct, which is a syntax error in that piece,
// and the input is parsed whole. Block scalars and plain scalars end at a
// line indented no deeper than their key, in the whole document as in a
// piece. Positions stay right: pieces keep their columns, and each counts
// lines from where it starts.

// Thresholds of ParseParallel; variables so that tests can use small inputs.
var (
	parallelMin   = 1 << 20   // inputs below this size are parsed whole
	parallelPiece = 256 << 10 // the least size of a piece
)

// ParseParallel parses data as Parse does, with up to workers goroutines.
func ParseParallel(data []byte, workers int) (*Node, error) {
	if workers < 2 {
		return Parse(data)
	}
	root, components, pieces, ok := Split(data, workers*16)
	if !ok {
		return Parse(data)
	}
	roots := make([]*Node, len(pieces))
	failed := make([]bool, len(pieces))
	next := make(chan int, len(pieces))
	for i := range pieces {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(workers, len(pieces)) {
		wg.Go(func() {
			for i := range next {
				r, ok := pieces[i].Parse()
				roots[i], failed[i] = r, !ok
			}
		})
	}
	wg.Wait()
	if slices.Contains(failed, true) {
		return Parse(data)
	}
	for _, r := range roots {
		components.Content = append(components.Content, r.Content...)
	}
	return root, nil
}

// A Piece is a run of components of a large model, which parses alone.
type Piece struct{ p piece }

// Len is the piece's size in bytes.
func (p Piece) Len() int { return len(p.p.data) }

// Parse parses the piece to the mapping of its components, or reports
// false: the piece does not parse alone, or holds an anchor or an alias.
// Then the whole input must be parsed with Parse.
func (p Piece) Parse() (*Node, bool) {
	return p.ParseReusing(nil)
}

// ParseReusing is Parse, with the tree's nodes taken from blocks: those of
// the tree that the last ParseReusing with the same blocks returned, which
// the caller must no longer use (nor anything but the strings in it).
func (p Piece) ParseReusing(blocks *Blocks) (*Node, bool) {
	blocks.reset()
	root, failed := parsePiece(p.p, blocks)
	if failed || !blockMapping(root, p.p.col) {
		return nil, false
	}
	return root, true
}

// Split prepares data, a large model, to be parsed in pieces on several
// goroutines; data too small, or not of the shape ParseParallel describes,
// is not split (ok is false). It parses the rest of the model itself: root
// is the top-level mapping, whose "components" entry is the mapping
// components, left empty; the caller appends to it the entries of each
// piece, in order, once every piece has parsed. A false from a piece's
// Parse means that the whole input must be parsed with Parse.
func Split(data []byte, n int) (root, components *Node, pieces []Piece, ok bool) {
	if len(data) < parallelMin {
		return nil, nil, nil, false
	}
	cuts, ok := cut(data, n)
	if !ok {
		return nil, nil, nil, false
	}
	head, failed := parsePiece(cuts[0], nil)
	if failed {
		return nil, nil, nil, false
	}
	root, val, ok := headOf(head)
	if !ok {
		return nil, nil, nil, false
	}
	for _, c := range cuts[1:] {
		if c.role == roleComponents {
			pieces = append(pieces, Piece{c})
			continue
		}
		tail, failed := parsePiece(c, nil)
		if failed || !blockMapping(tail, 1) {
			return nil, nil, nil, false
		}
		root.Content = append(root.Content[:len(root.Content):len(root.Content)], tail.Content...)
	}
	// The components' mapping starts where its first key does.
	first := pieces[0].p
	*val = Node{Kind: MappingNode, Tag: mapTag, Line: int32(first.line + 1), Column: first.col}
	return root, val, pieces, true
}

// piece is a part of the input, the line it starts on (from 0), and what it
// must parse to: the head (the top-level mapping up to "components:", which
// has no value there), a run of components (a block mapping at column
// col), or the tail (the top-level keys after the components).
type piece struct {
	data []byte
	line int
	col  int32
	role pieceRole
}

type pieceRole uint8

const (
	roleHead pieceRole = iota
	roleComponents
	roleTail
)

// cut finds the components: entry and cuts the input into a head, runs of
// components of about len(data)/n bytes each (at least one), and a tail
// (which may be empty). It reports false when the input does not have that shape or
// holds what the pieces could not parse alone.
func cut(data []byte, n int) (pieces []piece, ok bool) {
	// Line breaks other than \n (a lone \r, NEL, LS, PS) would make the
	// line count of each piece differ from the parser's; UTF-16 and
	// UTF-32 input is not cut.
	if len(data) >= 2 && (data[0] == 0xFE || data[0] == 0xFF || data[0] == 0 || data[1] == 0) ||
		bytes.Contains(data, []byte("\xc2\x85")) || bytes.Contains(data, []byte("\xe2\x80\xa8")) ||
		bytes.Contains(data, []byte("\xe2\x80\xa9")) || loneCR(data) {
		return nil, false
	}
	size := max(len(data)/n, parallelPiece)
	var (
		line       int
		inSection  bool // inside the components: entry
		indent     = -1 // of the components' keys
		keys       int  // component keys seen
		start      int  // of the current piece
		startLine  int
		sectionEnd = -1
		endLine    int
		role       = roleHead
	)
	for off := 0; off < len(data); line++ {
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += off + 1
		}
		l := data[off:end]
		switch {
		case hasPrefix(l, "%") || hasPrefix(l, "...") || hasPrefix(l, "---") && line > 0:
			return nil, false // directives, or more than one document
		case !inSection && sectionEnd < 0 && isComponentsKey(l):
			inSection = true
		case inSection && len(l) > 0 && l[0] != ' ' && l[0] != '\n' && l[0] != '\r' && l[0] != '#':
			if l[0] == '\t' {
				return nil, false
			}
			inSection, sectionEnd, endLine = false, off, line
		case inSection:
			sp := 0
			for sp < len(l) && l[sp] == ' ' {
				sp++
			}
			if sp == len(l) || !startsKey(l[sp]) || indent >= 0 && sp != indent {
				break
			}
			if indent < 0 {
				indent = sp
			}
			keys++
			if keys == 1 || off-start >= size {
				pieces = append(pieces, piece{data: data[start:off], line: startLine, col: int32(indent + 1), role: role})
				start, startLine, role = off, line, roleComponents
			}
		}
		off = end
	}
	if keys == 0 {
		return nil, false
	}
	if sectionEnd < 0 {
		sectionEnd, endLine = len(data), line
	}
	pieces = append(pieces, piece{data: data[start:sectionEnd], line: startLine, col: int32(indent + 1), role: role})
	if sectionEnd < len(data) {
		pieces = append(pieces, piece{data: data[sectionEnd:], line: endLine, role: roleTail})
	}
	return pieces, true
}

// loneCR reports whether data has a \r not followed by \n.
func loneCR(data []byte) bool {
	for i := bytes.IndexByte(data, '\r'); i >= 0; {
		if i+1 >= len(data) || data[i+1] != '\n' {
			return true
		}
		j := bytes.IndexByte(data[i+1:], '\r')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

func hasPrefix(l []byte, p string) bool {
	return len(l) >= len(p) && string(l[:len(p)]) == p
}

// isComponentsKey reports whether line l is "components:" at the top
// level, with nothing after it but blanks or a comment.
func isComponentsKey(l []byte) bool {
	if !hasPrefix(l, "components:") {
		return false
	}
	rest := bytes.TrimLeft(l[len("components:"):], " \t")
	return len(rest) == 0 || rest[0] == '\n' || rest[0] == '\r' || rest[0] == '#'
}

// startsKey reports whether c can start a component's key: not a blank,
// comment, sequence entry, explicit key or flow indicator.
func startsKey(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '#', '-', '?', ':', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '%', '@', '`':
		return false
	}
	return true
}

// parsePiece parses one piece; failed is true when it does not parse alone,
// or has an anchor or alias.
func parsePiece(p piece, blocks *Blocks) (root *Node, failed bool) {
	b := builder{anchors: map[string]*anchor{}, lineOffset: p.line, blocks: blocks}
	root, err := b.parse(p.data)
	if err != nil || root == nil || b.aliases || len(b.anchors) > 0 {
		return nil, true
	}
	return root, false
}

// headOf checks the root of a head piece: a block mapping whose last key
// is components, with no value. It returns that value's node, which the
// caller fills in.
func headOf(head *Node) (root, components *Node, ok bool) {
	if !blockMapping(head, 1) || len(head.Content) < 2 {
		return nil, nil, false
	}
	key, val := head.Content[len(head.Content)-2], head.Content[len(head.Content)-1]
	if key.Kind != ScalarNode || key.Style != 0 || key.Value != "components" || key.Tag != strTag ||
		val.Kind != ScalarNode || val.Style != 0 || val.Tag != nullTag || val.Value != "" {
		return nil, nil, false
	}
	return head, val, true
}

// blockMapping reports whether n is an untagged block mapping at column col.
func blockMapping(n *Node, col int32) bool {
	return n.Kind == MappingNode && n.Style == 0 && n.Tag == mapTag && n.Column == col
}

// SmallPieces makes Split and ParseParallel cut inputs of any size into
// pieces of a few bytes, until restore is called: for tests elsewhere.
func SmallPieces() (restore func()) {
	minSize, size := parallelMin, parallelPiece
	parallelMin, parallelPiece = 1, 1
	return func() { parallelMin, parallelPiece = minSize, size }
}
