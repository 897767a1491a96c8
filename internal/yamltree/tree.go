// Package yamltree parses one YAML document into a compact tree of nodes with
// positions, for loading large models quickly.
//
// It is the scanner and parser of go.yaml.in/yaml/v3 (a port of libyaml),
// copied unchanged but for the package name (see LICENSE and NOTICE), with a
// tree builder of its own: v3's public API builds a yaml.Node per value (152
// bytes, comments included, one allocation each), which for a 28 MB model
// is 540 MB and most of the load time. Node here is half that size and is
// allocated in blocks, and nothing but the tree is built.
//
// Parse accepts exactly the documents yaml.v3 accepts, giving the same tree
// (kinds, tags, styles, values, positions) without comments. It does not
// explain what it rejects: callers parse rejected input again with yaml.v3
// to report the error in yaml.v3's words.
package yamltree

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unsafe"
)

// Kind is the kind of a node; the values are those of yaml.v3's Kind.
type Kind uint8

const (
	DocumentNode Kind = 1 << iota
	SequenceNode
	MappingNode
	ScalarNode
	AliasNode
)

// Style is how a node was written; the values are those of yaml.v3's Style.
type Style uint8

const (
	TaggedStyle Style = 1 << iota
	DoubleQuotedStyle
	SingleQuotedStyle
	LiteralStyle
	FoldedStyle
	FlowStyle
)

// Node is one node of the tree: the fields of yaml.v3's Node that say what a
// value is and where, without comments and anchors.
type Node struct {
	Kind   Kind
	Style  Style
	Line   int32 // from 1
	Column int32 // from 1
	// Tag is the short tag: explicit (!!str, !foo), or resolved from a
	// plain scalar's value (!!int, !!bool, !!null ...).
	Tag string
	// Value is a scalar's text, or an alias's anchor name.
	Value string
	// Alias is the node an alias names.
	Alias *Node
	// Content holds a mapping's keys and values, alternating, or a
	// sequence's items.
	Content []*Node
}

// ShortTag returns the node's tag as yaml.v3's Node.ShortTag does.
func (n *Node) ShortTag() string {
	if n.indicatedString() {
		return strTag
	}
	if n.Tag == "" || n.Tag == "!" {
		switch n.Kind {
		case MappingNode:
			return mapTag
		case SequenceNode:
			return seqTag
		case AliasNode:
			if n.Alias != nil {
				return n.Alias.ShortTag()
			}
		case ScalarNode:
			tag, _ := resolve("", n.Value)
			return tag
		}
		return ""
	}
	return shortTag(n.Tag)
}

func (n *Node) indicatedString() bool {
	return n.Kind == ScalarNode &&
		(shortTag(n.Tag) == strTag ||
			(n.Tag == "" || n.Tag == "!") && n.Style&(SingleQuotedStyle|DoubleQuotedStyle|LiteralStyle|FoldedStyle) != 0)
}

// Int returns the value of an integer scalar as yaml.v3's Node.Decode into
// an int gives it, and false where Decode fails (out of range, or a value
// that its tag does not allow).
func (n *Node) Int() (i int, ok bool) {
	if n.Kind != ScalarNode || n.indicatedString() {
		return 0, false
	}
	if n.Tag == intTag && smallDecimal(n.Value) {
		i, err := strconv.Atoi(n.Value)
		return i, err == nil
	}
	return n.slowInt()
}

func (n *Node) slowInt() (i int, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, isYAML := r.(yamlError); !isYAML {
				panic(r)
			}
			i, ok = 0, false
		}
	}()
	_, resolved := resolve(n.Tag, n.Value)
	switch v := resolved.(type) {
	case int:
		return v, true
	case int64:
		if v == int64(int(v)) {
			return int(v), true
		}
	case uint64:
		if v <= math.MaxInt64 && int64(v) == int64(int(v)) {
			return int(v), true
		}
	case float64:
		if v <= math.MaxInt64 && int64(v) == int64(int(int64(v))) {
			return int(int64(v)), true
		}
	}
	return 0, false
}

// plainTag is the tag resolve gives a plain scalar, found without
// resolve's cost (a deferred check and a boxed value) for what most of a
// document is: strings that cannot be anything else, and small decimal
// integers.
func plainTag(v string) string {
	switch {
	case v != "" && resolveTable[v[0]] == 0:
		return strTag
	case smallDecimal(v):
		return intTag
	}
	tag, _ := resolve("", v)
	return tag
}

// smallDecimal reports whether v is a decimal integer of at most 18 digits
// without a sign or leading zero: resolve gives it !!int, whatever its
// value.
func smallDecimal(v string) bool {
	if len(v) == 0 || len(v) > 18 || len(v) > 1 && v[0] == '0' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// ErrRejected is wrapped by every error of Parse: yaml.v3 would not accept
// the input either (a syntax error, more than one document, an unknown
// anchor), or its aliases are unsafe to follow (a cycle, or an expansion
// far beyond the document's size, as the model's loader checks).
var ErrRejected = errors.New("rejected")

// ReaderError is a character that the YAML reader refuses in UTF-8 input:
// an invalid UTF-8 sequence, or a control character. It wraps ErrRejected.
type ReaderError struct {
	Problem string // yaml.v3's message, e.g. "invalid leading UTF-8 octet"
	Offset  int    // where its UTF-8 sequence starts, in bytes from the start of the input
}

func (e *ReaderError) Error() string {
	return fmt.Sprintf("%v: %s at byte %d", ErrRejected, e.Problem, e.Offset)
}

func (e *ReaderError) Unwrap() error { return ErrRejected }

// yamlError is what failf panics with, as in yaml.v3.
type yamlError struct{ err error }

func failf(format string, args ...any) {
	panic(yamlError{fmt.Errorf("yaml: "+format, args...)})
}

// Parse parses data as one YAML document and returns its root node, or nil
// for an empty document (nothing, or only comments).
func Parse(data []byte) (root *Node, err error) {
	b := builder{anchors: map[string]*anchor{}}
	return b.parse(data)
}

func (b *builder) parse(data []byte) (root *Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			// yaml.v3's scanner panics on a few malformed inputs;
			// its tree builder fails with failf.
			root, err = nil, fmt.Errorf("%w: %v", ErrRejected, r)
			if re, ok := r.(*ReaderError); ok {
				err = re
			}
		}
	}()
	if len(data) == 0 {
		data = []byte{'\n'}
	}
	if !yaml_parser_initialize(&b.p) {
		return nil, fmt.Errorf("%w: cannot initialize the parser", ErrRejected)
	}
	yaml_parser_set_input_string(&b.p, data)
	b.expect(yaml_STREAM_START_EVENT)
	if b.peek() == yaml_STREAM_END_EVENT {
		return nil, nil
	}
	b.expect(yaml_DOCUMENT_START_EVENT)
	root, size := b.node()
	if b.peek() == yaml_TAIL_COMMENT_EVENT {
		b.expect(yaml_TAIL_COMMENT_EVENT)
	}
	b.expect(yaml_DOCUMENT_END_EVENT)
	if b.peek() != yaml_STREAM_END_EVENT {
		return nil, fmt.Errorf("%w: more than one document", ErrRejected)
	}
	switch {
	case b.cycle:
		return nil, fmt.Errorf("%w: an alias is inside the value it names", ErrRejected)
	case b.aliases && size > 10*b.raw+100000:
		return nil, fmt.Errorf("%w: aliases expand the document from %d to %d nodes", ErrRejected, b.raw, size)
	}
	return root, nil
}

// aliasLimit bounds the size of a node, in nodes once aliases are
// expanded (sizes are for the check against documents that expand far
// beyond their length: "billion laughs").
const aliasLimit = 1 << 40

// anchor is a node with an anchor, its size, and whether it is still being
// parsed (an alias to it then would be a cycle).
type anchor struct {
	n    *Node
	size int
	open bool
}

// Blocks hold the memory of a tree that its caller is done with, for the
// next tree to reuse (see Piece.ParseReusing). Nil Blocks allocate.
type Blocks struct {
	nodes    [][]Node
	children [][]*Node
	ni, ci   int // blocks handed out since the last reset
}

func (bl *Blocks) reset() {
	if bl != nil {
		bl.ni, bl.ci = 0, 0
	}
}

// nodeBlock returns a zeroed block of nodes.
func (bl *Blocks) nodeBlock() []Node {
	if bl == nil {
		return make([]Node, 1024)
	}
	if bl.ni == len(bl.nodes) {
		bl.nodes = append(bl.nodes, make([]Node, 1024))
	} else {
		clear(bl.nodes[bl.ni])
	}
	bl.ni++
	return bl.nodes[bl.ni-1]
}

// childBlock returns a block of at least n child pointers.
func (bl *Blocks) childBlock(n int) []*Node {
	size := max(4096, n)
	if bl == nil {
		return make([]*Node, size)
	}
	if bl.ci == len(bl.children) || len(bl.children[bl.ci]) < n {
		// Keep the block list in the order blocks are handed out.
		bl.children = slices.Insert(bl.children, bl.ci, make([]*Node, size))
	}
	bl.ci++
	return bl.children[bl.ci-1]
}

// builder builds the tree from the parser's events.
type builder struct {
	p     yaml_parser_t
	event yaml_event_t

	anchors map[string]*anchor
	raw     int  // nodes in the document, aliases not expanded
	aliases bool // the document has an alias
	cycle   bool // an alias is inside the node it names

	lineOffset int // added to every line: where the input starts in a larger one

	blocks *Blocks // where nodes come from, if not from new blocks

	nodes    []Node  // block the next nodes are allocated from
	children []*Node // block the next Content slices are cut from
	stack    []*Node // children of the collections being built
}

// peek returns the type of the next event, parsing it if needed.
func (b *builder) peek() yaml_event_type_t {
	if b.event.typ != yaml_NO_EVENT {
		return b.event.typ
	}
	if !yaml_parser_parse(&b.p, &b.event) || b.p.error != yaml_NO_ERROR {
		if b.p.error == yaml_READER_ERROR && b.p.encoding == yaml_UTF8_ENCODING {
			off := b.p.problem_offset
			if b.p.problem == "invalid trailing UTF-8 octet" {
				// The offset is the bad octet's: point at the
				// start of its sequence.
				for off > 0 && b.p.input[off-1]&0xC0 == 0x80 {
					off--
				}
				off = max(off-1, 0)
			}
			panic(&ReaderError{Problem: b.p.problem, Offset: off})
		}
		failf("%s", b.p.problem)
	}
	return b.event.typ
}

// expect consumes the next event, which must be of type e.
func (b *builder) expect(e yaml_event_type_t) {
	if b.peek() != e {
		failf("expected %s event but got %s", e, b.event.typ)
	}
	b.event = yaml_event_t{}
}

func (b *builder) newNode(kind Kind, defaultTag, tag, value string) *Node {
	if len(b.nodes) == 0 {
		b.nodes = b.blocks.nodeBlock()
	}
	n := &b.nodes[0]
	b.nodes = b.nodes[1:]
	b.raw++
	var style Style
	if tag != "" && tag != "!" {
		tag = shortTag(tag)
		style = TaggedStyle
	} else if defaultTag != "" {
		tag = defaultTag
	} else if kind == ScalarNode {
		tag = plainTag(value)
	}
	n.Kind, n.Style, n.Tag, n.Value = kind, style, tag, value
	n.Line = int32(min(b.event.start_mark.line+1+b.lineOffset, math.MaxInt32))
	n.Column = int32(min(b.event.start_mark.column+1, math.MaxInt32))
	return n
}

// open records the anchor of the collection or scalar n, if it has one.
func (b *builder) open(n *Node) *anchor {
	if b.event.anchor == nil {
		return nil
	}
	a := &anchor{n: n, open: true}
	b.anchors[string(b.event.anchor)] = a
	return a
}

// str returns the bytes of an event as a string without copying them: the
// scanner allocates each token's value and never touches it again.
func str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// node parses one node and what it holds, and returns it with its size.
func (b *builder) node() (*Node, int) {
	switch b.peek() {
	case yaml_SCALAR_EVENT:
		return b.scalar()
	case yaml_ALIAS_EVENT:
		return b.alias()
	case yaml_MAPPING_START_EVENT:
		n := b.newNode(MappingNode, mapTag, string(b.event.tag), "")
		if b.event.mapping_style()&yaml_FLOW_MAPPING_STYLE != 0 {
			n.Style |= FlowStyle
		}
		return n, b.collection(n, yaml_MAPPING_START_EVENT, yaml_MAPPING_END_EVENT)
	case yaml_SEQUENCE_START_EVENT:
		n := b.newNode(SequenceNode, seqTag, string(b.event.tag), "")
		if b.event.sequence_style()&yaml_FLOW_SEQUENCE_STYLE != 0 {
			n.Style |= FlowStyle
		}
		return n, b.collection(n, yaml_SEQUENCE_START_EVENT, yaml_SEQUENCE_END_EVENT)
	}
	failf("unexpected %s event", b.event.typ)
	return nil, 0
}

// collection parses the entries of mapping or sequence n, from its start
// event to its end event, and returns its size.
func (b *builder) collection(n *Node, start, end yaml_event_type_t) int {
	a := b.open(n)
	size := 1
	b.expect(start)
	base := len(b.stack)
	for {
		switch b.peek() {
		case end:
		case yaml_TAIL_COMMENT_EVENT:
			b.expect(yaml_TAIL_COMMENT_EVENT)
			continue
		default:
			c, s := b.node()
			size = min(size+s, aliasLimit)
			b.stack = append(b.stack, c)
			continue
		}
		break
	}
	b.expect(end)
	if a != nil {
		a.open, a.size = false, size
	}
	kids := b.stack[base:]
	if len(kids) > 0 {
		if len(b.children) < len(kids) {
			b.children = b.blocks.childBlock(len(kids))
		}
		n.Content = b.children[:len(kids):len(kids)]
		b.children = b.children[len(kids):]
		copy(n.Content, kids)
	}
	clear(kids)
	b.stack = b.stack[:base]
	return size
}

func (b *builder) scalar() (*Node, int) {
	parsedStyle := b.event.scalar_style()
	var style Style
	switch {
	case parsedStyle&yaml_DOUBLE_QUOTED_SCALAR_STYLE != 0:
		style = DoubleQuotedStyle
	case parsedStyle&yaml_SINGLE_QUOTED_SCALAR_STYLE != 0:
		style = SingleQuotedStyle
	case parsedStyle&yaml_LITERAL_SCALAR_STYLE != 0:
		style = LiteralStyle
	case parsedStyle&yaml_FOLDED_SCALAR_STYLE != 0:
		style = FoldedStyle
	}
	value := str(b.event.value)
	var defaultTag string
	if style == 0 {
		if value == "<<" {
			defaultTag = mergeTag
		}
	} else {
		defaultTag = strTag
	}
	n := b.newNode(ScalarNode, defaultTag, string(b.event.tag), value)
	n.Style |= style
	if a := b.open(n); a != nil {
		a.open, a.size = false, 1
	}
	b.expect(yaml_SCALAR_EVENT)
	return n, 1
}

func (b *builder) alias() (*Node, int) {
	name := string(b.event.anchor)
	n := b.newNode(AliasNode, "", "", name)
	a := b.anchors[name]
	if a == nil {
		failf("unknown anchor '%s' referenced", name)
	}
	b.aliases = true
	n.Alias = a.n
	size := a.size
	if a.open {
		b.cycle, size = true, 1
	}
	b.expect(yaml_ALIAS_EVENT)
	return n, size
}
