package model

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spofhq/spof/internal/yamltree"
)

// Parse reads a model from data, the contents of file. It does no I/O: file
// is used only in positions.
//
// On bad input Parse returns an ErrorList holding every problem it found,
// sorted by position. On success the model is resolved: defaults applied,
// every Pos filled, Edge.From set and the indexes built.
func Parse(file string, data []byte) (*Model, error) {
	m, whole := parsePieces(file, data)
	if m != nil {
		return m, nil
	}
	d := &decoder{file: file, wholeYAML: whole}
	root, empty := d.document(data, `a model is one YAML document: remove the "---" and what follows`)
	if empty {
		d.emptyModel()
	}
	if root != nil {
		if m := d.model(root); len(d.errs) == 0 {
			return m, nil
		}
	}
	return nil, d.finish()
}

// decoder walks the YAML node tree, building the model and collecting
// errors. It keeps going after an error so that one run reports everything.
type decoder struct {
	file string
	errs ErrorList
	// lazy holds hints that are costly to compute (did-you-mean over every
	// component name); finish computes them for the first errors only.
	lazy map[*Error]func() string

	// Declared names, in declaration order, and their index there.
	names [numRefKinds][]string
	index [numRefKinds]map[string]int32
	// unchecked kinds of references: their section is malformed, so
	// reporting every reference as unknown would only be noise.
	unchecked [numRefKinds]bool

	arcs []arc // running-time dependencies, for cycle detection

	// Once MaxErrors errors are recorded, more counts those left out: the
	// errors at or after last, the position of the last one recorded (as
	// of the list's last compaction).
	more int
	last Pos

	arena arena

	// Loading in pieces (see pieces.go): a piece's decoder records the
	// references it cannot check yet, and the running-time dependencies
	// whose target it cannot look up; the model's decoder takes the
	// pieces' components from split, and sets splitFailed if it finds
	// one of those names undeclared.
	deferRefs   bool
	pendingRefs []pendingRef
	pendingArcs []pendingArc
	split       *split
	splitFailed bool
	// wholeYAML: the file's YAML is parsed whole, not in pieces (they
	// were tried).
	wholeYAML bool
}

// arena hands out what decoding one object needs and nothing keeps once the
// entry holding it (a component, a flow ...) is decoded: model resets it
// between entries, so that a large model reuses a few blocks.
type arena struct {
	vals  []value
	objs  []values
	pairs []pair
}

// values returns the zeroed values of an object with n fields.
func (a *arena) values(obj *object) *values {
	n := len(obj.fields)
	if cap(a.vals)-len(a.vals) < n {
		a.vals = make([]value, 0, max(1024, n))
	}
	if len(a.objs) == cap(a.objs) {
		a.objs = make([]values, 0, 128)
	}
	start := len(a.vals)
	a.vals = a.vals[:start+n]
	vals := a.vals[start : start+n : start+n]
	clear(vals)
	a.objs = append(a.objs, values{obj: obj, vals: vals})
	return &a.objs[len(a.objs)-1]
}

// pairList returns an empty list with room for n pairs.
func (a *arena) pairList(n int) []pair {
	if cap(a.pairs)-len(a.pairs) < n {
		a.pairs = make([]pair, 0, max(1024, n))
	}
	start := len(a.pairs)
	a.pairs = a.pairs[:start+n]
	return a.pairs[start : start : start+n]
}

// reset makes everything handed out so far reusable.
func (a *arena) reset() {
	clear(a.objs)
	a.vals, a.objs, a.pairs = a.vals[:0], a.objs[:0], a.pairs[:0]
}

// maxLazyHints bounds how many did-you-mean hints over declared names are
// computed, so that a model with many broken references still loads in
// linear time.
const maxLazyHints = 100

func (d *decoder) pos(n *yamltree.Node) Pos {
	if n == nil {
		return Pos{File: d.file}
	}
	return Pos{File: d.file, Line: int(n.Line), Col: int(n.Column)}
}

// errorf records an error at node n (nil: the whole file).
func (d *decoder) errorf(n *yamltree.Node, path, hint, format string, args ...any) *Error {
	return d.errorAt(d.pos(n), path, hint, format, args...)
}

// MaxErrors is how many errors Parse reports in detail; past it, it only
// counts them (see TooManyErrors).
const MaxErrors = 50

// errorAt records an error at pos and returns it, or only counts it (and
// returns nil) when MaxErrors errors before it are already recorded.
func (d *decoder) errorAt(pos Pos, path, hint, format string, args ...any) *Error {
	if d.skip(pos) {
		return nil
	}
	e := &Error{Pos: pos, Path: path, Msg: fmt.Sprintf(format, args...), Hint: hint}
	d.errs = append(d.errs, e)
	if len(d.errs) == MaxErrors || len(d.errs) == 2*MaxErrors {
		d.compact()
	}
	return e
}

// skip reports whether an error at pos would not be among the first
// MaxErrors, and counts it if so. Callers whose message or hint costs
// something ask first.
func (d *decoder) skip(pos Pos) bool {
	if len(d.errs) < MaxErrors {
		return false
	}
	if !before(pos, d.last) {
		d.more++
		return true
	}
	return false
}

// skipNode is skip at node n.
func (d *decoder) skipNode(n *yamltree.Node) bool {
	return len(d.errs) >= MaxErrors && d.skip(d.pos(n))
}

// compact keeps the first MaxErrors errors by position, counts the others,
// and notes where the last one kept is.
func (d *decoder) compact() {
	d.errs.Sort()
	if len(d.errs) > MaxErrors {
		for _, e := range d.errs[MaxErrors:] {
			delete(d.lazy, e)
		}
		d.more += len(d.errs) - MaxErrors
		clear(d.errs[MaxErrors:])
		d.errs = d.errs[:MaxErrors]
	}
	d.last = d.errs[len(d.errs)-1].Pos
}

// before reports whether a sorts before b.
func before(a, b Pos) bool {
	if a.File != b.File {
		return a.File < b.File
	}
	return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
}

// finish sorts and deduplicates the errors and fills in the lazy hints. It
// returns an ErrorList, or a *TooManyErrors holding one.
func (d *decoder) finish() error {
	d.errs.Sort()
	computed := 0
	out := d.errs[:0]
	seen := make(map[string]bool, len(d.errs))
	for _, e := range d.errs {
		if f := d.lazy[e]; f != nil && computed < maxLazyHints {
			e.Hint = f()
			computed++
		}
		s := e.Error()
		if seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, e)
	}
	if len(out) > MaxErrors {
		d.more += len(out) - MaxErrors
		out = out[:MaxErrors]
	}
	if d.more > 0 {
		return &TooManyErrors{Errors: out, More: d.more}
	}
	return out
}

// resolve follows an alias to the node it names.
func resolve(n *yamltree.Node) *yamltree.Node {
	for i := 0; n != nil && n.Kind == yamltree.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// pair is one key: value of a mapping, with the value's aliases resolved.
type pair struct{ key, val *yamltree.Node }

// pairs returns the entries of mapping n in order, without duplicates
// (reported), with merge keys (<<: *base) expanded: explicit keys win over
// merged ones.
func (d *decoder) pairs(n *yamltree.Node, path string) []pair {
	c := n.Content
	out := d.arena.pairList(len(c) / 2)
	var seen map[string]*yamltree.Node // built once out is too long to scan
	find := func(key string) *yamltree.Node {
		if seen == nil && len(out) > 16 {
			seen = make(map[string]*yamltree.Node, len(c)/2)
			for _, p := range out {
				seen[p.key.Value] = p.key
			}
		}
		if seen != nil {
			return seen[key]
		}
		for _, p := range out {
			if p.key.Value == key {
				return p.key
			}
		}
		return nil
	}
	var merges []*yamltree.Node
	for i := 0; i+1 < len(c); i += 2 {
		k, v := resolve(c[i]), resolve(c[i+1])
		if k == nil || v == nil {
			continue
		}
		if k.Kind != yamltree.ScalarNode {
			d.errorf(k, path, "", "want a string key, got %s", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if first := find(k.Value); first != nil {
			d.errorf(k, join(path, k.Value), fmt.Sprintf("first defined at line %d", first.Line), "duplicate key")
			continue
		}
		if seen != nil {
			seen[k.Value] = k
		}
		out = append(out, pair{k, v})
	}
	for _, m := range merges {
		var sources []*yamltree.Node
		switch m.Kind {
		case yamltree.MappingNode:
			sources = []*yamltree.Node{m}
		case yamltree.SequenceNode:
			for _, s := range m.Content {
				sources = append(sources, resolve(s))
			}
		default:
			d.errorf(m, path, "", "want a mapping to merge (<<), got %s", describe(m))
		}
		for _, s := range sources {
			if s == nil || s.Kind != yamltree.MappingNode {
				got := m
				if s != nil {
					got = s
				}
				d.errorf(got, path, "", "want a mapping to merge (<<), got %s", describe(got))
				break
			}
			for _, p := range d.pairs(s, path) {
				if find(p.key.Value) == nil {
					if seen != nil {
						seen[p.key.Value] = p.key
					}
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// join appends a key to a path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// describe names what a node holds, for "want X, got Y" messages.
func describe(n *yamltree.Node) string {
	switch n.Kind {
	case yamltree.MappingNode:
		return "a mapping"
	case yamltree.SequenceNode:
		return "a list"
	case yamltree.DocumentNode:
		return "a document"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:37] + "..."
	}
	switch n.ShortTag() {
	case "!!str":
		return "string " + strconv.Quote(v)
	case "!!int":
		return "integer " + v
	case "!!float":
		return "number " + v
	case "!!bool":
		return "boolean " + v
	case "!!null":
		return "null"
	}
	return "value " + strconv.Quote(v) + " tagged " + n.Tag
}

// typeError records that n is not what was wanted (want: "a string").
func (d *decoder) typeError(n *yamltree.Node, path, want string) {
	if d.skipNode(n) {
		return
	}
	hint := ""
	switch {
	case n.Kind == yamltree.ScalarNode && n.ShortTag() != "!!null" && (want == "a string" || want == "a list"):
		if want == "a list" {
			hint = fmt.Sprintf("write [%s] to make it a list", n.Value)
		} else {
			hint = fmt.Sprintf("quote it: %q", n.Value)
		}
	case want == "an integer" && isString(n):
		if _, err := strconv.Atoi(n.Value); err == nil {
			hint = "remove the quotes: " + n.Value
		}
	case strings.HasPrefix(want, "a duration") && n.ShortTag() == "!!int":
		hint = fmt.Sprintf("add a unit: %q", n.Value+"s")
	}
	d.errorf(n, path, hint, "want %s, got %s", want, describe(n))
}

func isString(n *yamltree.Node) bool {
	return n.Kind == yamltree.ScalarNode && n.ShortTag() == "!!str"
}

// value is what a key of an object holds once checked against its field.
type value struct {
	set   bool           // the key is present
	ok    bool           // and its value has the right type and bounds
	key   *yamltree.Node // the key
	node  *yamltree.Node // the value, aliases resolved
	str   string         // typeString, typeEnum, typeURL
	num   int            // typeInt
	flag  bool           // typeBool
	dur   time.Duration
	frac  float64          // typeFraction, in (0, 1]
	list  []string         // typeList
	items []*yamltree.Node // typeList: the node of each entry of list
	pairs []pair           // typeMap
}

// values are the checked keys of one object.
type values struct {
	obj     *object
	vals    []value
	unknown bool // the mapping has an unknown key
}

// get returns the value of key, which must be a field of the object.
func (vs *values) get(key string) *value {
	i := vs.obj.lookup(key)
	if i < 0 {
		panic("model: internal error: no key " + key + " in " + vs.obj.name)
	}
	return &vs.vals[i]
}

// object checks mapping n against obj: unknown and missing keys, and the
// type, bounds and references of each scalar or list value. at is the node
// that missing-key errors point to (the object's own key). It returns nil
// when n is not a mapping.
func (d *decoder) object(n *yamltree.Node, obj *object, path string, at *yamltree.Node) *values {
	if n.Kind != yamltree.MappingNode {
		d.typeError(n, path, "a mapping")
		return nil
	}
	vs := d.arena.values(obj)
	for _, p := range d.pairs(n, path) {
		i := obj.lookup(p.key.Value)
		if i < 0 && d.skipNode(p.key) {
			vs.unknown = true
			continue
		}
		if i < 0 {
			hint := didYouMean(p.key.Value, obj.keys())
			for _, f := range obj.fields {
				if hint == "" && f.typ == typeObject && f.object.lookup(p.key.Value) >= 0 {
					hint = fmt.Sprintf("%s goes under %s:", p.key.Value, f.key)
				}
			}
			if hint == "" {
				hint = "valid keys: " + strings.Join(obj.keys(), ", ")
			}
			d.errorf(p.key, join(path, p.key.Value), hint, "unknown key")
			vs.unknown = true
			continue
		}
		vs.vals[i].key = p.key
		d.check(&obj.fields[i], p.val, path, &vs.vals[i])
	}
	for i := range obj.fields {
		if f := &obj.fields[i]; f.required && !vs.vals[i].set {
			d.errorf(at, path, "example: "+f.example, "missing required key %q", f.key)
		}
	}
	d.requires(obj, vs, path)
	d.choice(obj, vs, path, at)
	return vs
}

// requires checks that keys set only with another key have it.
func (d *decoder) requires(obj *object, vs *values, path string) {
	for i := range obj.fields {
		f := &obj.fields[i]
		if f.requires == "" || !vs.vals[i].set || vs.get(f.requires).set {
			continue
		}
		other := ""
		for _, k := range obj.choice {
			if vs.get(k).set {
				other = k
				break
			}
		}
		switch {
		case other == "" && slices.Contains(obj.choice, f.requires):
			// No choice at all: choice reports it.
		case other != "" && !obj.choiceMany:
			// Exactly one choice is allowed, and another one is made.
			d.errorf(vs.vals[i].key, join(path, f.key), "remove it", "%s applies only with %s, not with %s", f.key, f.requires, other)
		default:
			d.errorf(vs.vals[i].key, join(path, f.key), "remove it, or add "+f.requires, "%s is set without %s", f.key, f.requires)
		}
	}
}

// choice checks that exactly one (with choiceMany, at least one) of the
// object's choice keys is set.
func (d *decoder) choice(obj *object, vs *values, path string, at *yamltree.Node) {
	if len(obj.choice) == 0 {
		return
	}
	var set []*value
	for _, k := range obj.choice {
		if v := vs.get(k); v.set {
			set = append(set, v)
		}
	}
	keys := strings.Join(obj.choice, ", ")
	switch {
	case len(set) == 0 && vs.unknown:
		// Most likely a misspelt choice, reported as an unknown key.
	case len(set) == 0 && obj.choiceMany:
		d.errorf(at, path, "example: "+obj.choiceExample, "want at least one of the keys %s", keys)
	case len(set) == 0:
		d.errorf(at, path, "example: "+obj.choiceExample, "want one of the keys %s", keys)
	case len(set) > 1 && !obj.choiceMany:
		// Report at the key written last: the first one stays.
		sort.Slice(set, func(i, j int) bool {
			a, b := set[i].key, set[j].key
			return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
		})
		first, second := set[0].key.Value, set[1].key.Value
		d.errorf(set[1].key, join(path, second), "keep exactly one of: "+keys, "%s and %s are both set", first, second)
	}
}

// check checks the value n of field f and records it in v.
func (d *decoder) check(f *field, n *yamltree.Node, parent string, v *value) {
	v.set, v.node = true, n
	// Paths are built only for errors: most values have none.
	path := func() string { return join(parent, f.key) }
	switch f.typ {
	case typeString:
		v.str, v.ok = d.str(f, n, path)
		if v.ok && f.nonEmpty && v.str == "" {
			d.errorf(n, path(), "", "must not be empty")
			v.ok = false
		}
	case typeHostPort:
		v.str, v.ok = d.hostPort(n, path, f.listen)
	case typeBool:
		// An explicit !!bool tag does not make "yes" a boolean.
		switch b := strings.ToLower(n.Value); {
		case n.Kind != yamltree.ScalarNode || n.ShortTag() != "!!bool" || b != "true" && b != "false":
			d.typeError(n, path(), "true or false")
		default:
			v.flag, v.ok = b == "true", true
		}
	case typeRefused:
		d.errorf(v.key, path(), f.desc, "cannot be set here")
	case typeEnum:
		if !isString(n) {
			d.typeError(n, path(), "a string")
			return
		}
		for _, e := range f.enum {
			if n.Value == e {
				v.str, v.ok = e, true
				return
			}
		}
		hint := didYouMean(n.Value, f.enum)
		if hint == "" {
			hint = "want one of: " + strings.Join(f.enum, ", ")
		}
		d.errorf(n, path(), hint, "invalid value %q", n.Value)
	case typeInt:
		if n.Kind != yamltree.ScalarNode || n.ShortTag() != "!!int" {
			d.typeError(n, path(), "an integer")
			return
		}
		i, ok := n.Int()
		if !ok {
			d.errorf(n, path(), "", "integer %s is out of range", n.Value)
			return
		}
		switch {
		case f.max > 0 && f.min == f.max && i != f.min:
			d.errorf(n, path(), "", "must be %d, got %d", f.min, i)
		case i < f.min:
			d.errorf(n, path(), "", "must be at least %d, got %d", f.min, i)
		case f.max > 0 && i > f.max:
			d.errorf(n, path(), "", "must be at most %d, got %d", f.max, i)
		default:
			v.num, v.ok = i, true
		}
	case typeDuration:
		if !isString(n) {
			d.typeError(n, path(), `a duration such as "3s"`)
			return
		}
		dur, err := time.ParseDuration(n.Value)
		switch {
		case err != nil:
			d.errorf(n, path(), `write a duration such as "500ms", "3s" or "1m"`, "invalid duration %q", n.Value)
		case dur <= 0:
			d.errorf(n, path(), "", "must be greater than 0, got %q", n.Value)
		default:
			v.dur, v.ok = dur, true
		}
	case typeFraction:
		v.frac, v.ok = d.fraction(n, path)
	case typeURL:
		if !isString(n) {
			d.typeError(n, path(), "a string")
			return
		}
		u, err := url.Parse(n.Value)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			d.errorf(n, path(), `want an http:// or https:// URL with a host`, "invalid URL %q", n.Value)
			return
		}
		v.str, v.ok = n.Value, true
	case typeList:
		v.list, v.items, v.ok = d.list(f, n, path)
	case typeObject:
		switch {
		case n.Kind == yamltree.MappingNode:
			v.ok = true
		case f.nullable && n.ShortTag() == "!!null":
			v.ok = true
		default:
			d.typeError(n, path(), "a mapping")
		}
	case typeMap:
		if n.Kind != yamltree.MappingNode {
			d.typeError(n, path(), "a mapping")
			return
		}
		v.ok = true
		v.pairs = d.pairs(n, path())
		if f.nonEmpty && len(v.pairs) == 0 {
			d.errorf(n, path(), "", "must have at least one %s", f.noun)
		}
		if f.name {
			for _, p := range v.pairs {
				if !validName(p.key.Value) {
					d.errorf(p.key, join(path(), p.key.Value), nameHint, "invalid name %q", p.key.Value)
				}
			}
		}
	case typeDependsOn:
		if n.Kind != yamltree.SequenceNode {
			d.typeError(n, path(), "a list")
			return
		}
		v.ok = true
	}
}

// hostPort checks a "host:port" value: a host, and a numeric port in
// 1..65535; with listen, an address to listen on, whose host may be empty
// and whose port may be 0. It resolves nothing: the model does no I/O.
func (d *decoder) hostPort(n *yamltree.Node, path func() string, listen bool) (string, bool) {
	const hint = `write host:port, e.g. "127.0.0.1:6379" or "[::1]:6379"`
	switch {
	case n.Kind == yamltree.ScalarNode && n.ShortTag() == "!!int":
		d.errorf(n, path(), fmt.Sprintf(`add the host: "127.0.0.1:%s"`, n.Value), "want host:port, got %s", describe(n))
		return "", false
	case !isString(n):
		d.typeError(n, path(), "a host:port string")
		return "", false
	}
	if listen && n.Value == "" {
		return "", true // the default
	}
	host, port, err := net.SplitHostPort(n.Value)
	if err != nil {
		d.errorf(n, path(), hint, "invalid address %q", n.Value)
		return "", false
	}
	if host == "" && !listen || strings.ContainsAny(host, " \t/") {
		d.errorf(n, path(), hint, "invalid address %q: want a host before the port", n.Value)
		return "", false
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 && !listen || p < 0 || p > 65535 {
		portHint := "a port is a number from 1 to 65535"
		if listen {
			portHint = "a port is a number from 0 (any free port) to 65535"
		}
		d.errorf(n, path(), portHint, "invalid port %q in %q", port, n.Value)
		return "", false
	}
	return n.Value, true
}

// str checks a string value, its name syntax and what it refers to.
func (d *decoder) str(f *field, n *yamltree.Node, path func() string) (string, bool) {
	if !isString(n) {
		d.typeError(n, path(), "a string")
		return "", false
	}
	if f.name && !validName(n.Value) {
		d.errorf(n, path(), nameHint, "invalid name %q", n.Value)
	}
	if f.ref != refNone {
		d.ref(n, path, f.ref, n.Value)
	}
	return n.Value, true
}

// list checks a list of strings: the type of each entry, duplicates and
// references. Entries of the wrong type are left out.
func (d *decoder) list(f *field, n *yamltree.Node, path func() string) ([]string, []*yamltree.Node, bool) {
	if n.Kind != yamltree.SequenceNode {
		d.typeError(n, path(), "a list")
		return nil, nil, false
	}
	if f.nonEmpty && len(n.Content) == 0 {
		d.errorf(n, path(), "", "must have at least one %s", f.noun)
	}
	list := make([]string, 0, len(n.Content))
	items := make([]*yamltree.Node, 0, len(n.Content))
	var seen map[string]int // only for long lists
	if len(n.Content) > 16 {
		seen = make(map[string]int, len(n.Content))
	}
	for i, item := range n.Content {
		item = resolve(item)
		p := func() string { return indexPath(path(), i) }
		if !isString(item) {
			d.typeError(item, p(), "a string")
			continue
		}
		s, first := item.Value, -1
		if seen != nil {
			if j, dup := seen[s]; dup {
				first = j
			} else {
				seen[s] = i
			}
		} else {
			for j, prev := range n.Content[:i] {
				if prev = resolve(prev); isString(prev) && prev.Value == s {
					first = j
					break
				}
			}
		}
		if first >= 0 {
			d.errorf(item, p(), "already listed at "+indexPath(f.key, first), "duplicate %s %q", f.noun, s)
			continue
		}
		d.str(f, item, p)
		list = append(list, s)
		items = append(items, item)
	}
	return list, items, true
}

// declare records the names of a section (zones, components, flows) so that
// references to them can be checked wherever they appear.
func (d *decoder) declare(kind refKind, pairs []pair) {
	names := make([]string, len(pairs))
	index := make(map[string]int32, len(pairs))
	for i, p := range pairs {
		names[i] = p.key.Value
		index[p.key.Value] = int32(i)
	}
	d.names[kind], d.index[kind] = names, index
}

// ref checks that name is declared, and records an error at n if not.
func (d *decoder) ref(n *yamltree.Node, path func() string, kind refKind, name string) bool {
	if d.deferRefs {
		d.pendingRefs = append(d.pendingRefs, pendingRef{kind, name})
		return true
	}
	if _, ok := d.index[kind][name]; ok || d.unchecked[kind] {
		return ok
	}
	if d.skipNode(n) {
		return false
	}
	e := d.errorf(n, path(), "", "unknown %s %q", refNouns[kind], name)
	if d.lazy == nil {
		d.lazy = map[*Error]func() string{}
	}
	names := d.names[kind]
	d.lazy[e] = func() string { return didYouMean(name, names) }
	return false
}

// fraction checks a value of typeFraction: a number in (0, 1], or a
// percentage written as a string, "99.95%".
func (d *decoder) fraction(n *yamltree.Node, path func() string) (float64, bool) {
	const hint = `write a fraction such as 0.9995 or a percentage such as "99.95%"`
	if n.Kind != yamltree.ScalarNode {
		d.typeError(n, path(), `a fraction such as 0.9995 or a percentage such as "99.95%"`)
		return 0, false
	}
	text, scale := n.Value, 1.0
	switch tag := n.ShortTag(); {
	case tag == "!!str" && strings.HasSuffix(strings.TrimSpace(text), "%"):
		text, scale = strings.TrimSuffix(strings.TrimSpace(text), "%"), 100
	case tag == "!!int" || tag == "!!float":
	default:
		d.errorf(n, path(), hint, "invalid value %q", n.Value)
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		d.errorf(n, path(), hint, "invalid value %q", n.Value)
		return 0, false
	}
	switch {
	case f <= 0 || f > scale:
		if scale == 1 && f > 1 && f <= 100 {
			d.errorf(n, path(), fmt.Sprintf(`a fraction is at most 1: write "%s%%" or %s`, n.Value, strconv.FormatFloat(f/100, 'g', 12, 64)), "%s is greater than 1", n.Value)
		} else {
			d.errorf(n, path(), hint, "%s is not in (0, %s]", n.Value, map[bool]string{true: "1", false: "100%"}[scale == 1])
		}
		return 0, false
	}
	return f / scale, true
}
