package model

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A MergeConflict is a fact the model file and an import state
// differently. The model's wins; the conflict is reported with both
// positions.
type MergeConflict struct {
	Path          string // e.g. components.redis.replicas
	Model         Pos    // where the model says it
	Source        Pos    // where the import found it
	ModelValue    string
	ImportedValue string
}

func (c MergeConflict) String() string {
	src := ""
	if c.Source.File != "" {
		src = " (" + c.Source.String() + ")"
	}
	return fmt.Sprintf("%s: %s: the model says %s, the import %s%s; kept the model's (delete it from the model to take the import's)",
		c.Model, c.Path, c.ModelValue, c.ImportedValue, src)
}

// A MergeResult is a model file with an import merged in.
type MergeResult struct {
	Data      []byte
	Added     []string        // paths added, e.g. components.cart, components.app.depends_on.cart
	Conflicts []MergeConflict // facts the model kept against the import
	// Gone are components the model says were imported from one of the
	// files read this time, but which the import no longer has. They are
	// kept; the user decides.
	Gone []*Component
	// Reformatted: a part of the file in flow style ({...}, [...]) had
	// to change, so the whole file was written anew: comments are kept,
	// blank lines and alignment are not.
	Reformatted bool
}

// mergeOp is one addition: a key and its value into a mapping, or an item
// at the end of a sequence.
type mergeOp struct {
	parent *yaml.Node // the mapping or sequence added to; nil: the document's root
	key    string     // "" for a sequence item
	value  *yaml.Node
	path   string
}

// Merge merges imported, a model an importer built, into data, the
// contents of the model file file, without dropping anything the file
// says: what the file has, it keeps, even where the import differs
// (reported as conflicts); the import adds the zones, components, flows,
// people and hazards the file lacks, the dependencies its components
// lack, and the keys they do not set. The file is edited in place as
// text, so comments, blank lines and layout stay as they were, except
// where a part in flow style must change (then Reformatted). sources are
// the files the import read; dir is the directory the model is written
// to (source: keys are relative to it).
//
// data must hold a valid model: Merge returns Parse's errors otherwise.
func Merge(file string, data []byte, imported *Model, sources []string, dir string) (*MergeResult, error) {
	base, err := Parse(file, data)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: cannot edit the model's YAML: %v", file, err)
	}
	root := doc.Content[0]
	res := &MergeResult{}
	var ops []mergeOp

	// addEntries adds the entries of a section (zones:, components: ...)
	// that the file lacks: into the section, or as a new section (or in
	// place of a null one) when the file has no mapping there.
	addEntries := func(name string, entries []entry) {
		if len(entries) == 0 {
			return
		}
		sec := mapValue(root, name)
		if sec == nil || sec.Kind != yaml.MappingNode {
			m := mapping()
			for _, en := range entries {
				add(m, en.key, en.node)
				res.Added = append(res.Added, join(name, en.key))
			}
			ops = append(ops, mergeOp{parent: root, key: name, value: m, path: name})
			return
		}
		for _, en := range entries {
			ops = append(ops, mergeOp{parent: sec, key: en.key, value: en.node, path: join(name, en.key)})
			res.Added = append(res.Added, join(name, en.key))
		}
	}

	comps := mapValue(root, "components")
	for _, c := range imported.Components {
		if old := base.Component(c.Name); old != nil {
			ops = append(ops, mergeComponent(res, old, c, mapValue(comps, c.Name), dir)...)
		}
	}
	addEntries("zones", missing(imported.Zones, func(z *Zone) string { return z.Name },
		func(n string) bool { return base.Zone(n) != nil }, func(z *Zone) *yaml.Node { return ZoneNode(z, dir) }))
	addEntries("components", missing(imported.Components, func(c *Component) string { return c.Name },
		func(n string) bool { return base.Component(n) != nil }, func(c *Component) *yaml.Node { return ComponentNode(c, dir) }))
	addEntries("flows", missing(imported.Flows, func(f *Flow) string { return f.Name },
		func(n string) bool { return base.Flow(n) != nil }, func(f *Flow) *yaml.Node { return FlowNode(f, dir) }))
	addEntries("people", missing(imported.People, func(p *Person) string { return p.Name },
		func(n string) bool { return base.Person(n) != nil }, func(p *Person) *yaml.Node { return PersonNode(p, dir) }))
	addEntries("hazards", missing(imported.Hazards, func(h *Hazard) string { return h.Name },
		func(n string) bool { return base.Hazard(n) != nil }, func(h *Hazard) *yaml.Node { return HazardNode(h, dir) }))

	read := map[string]bool{}
	for _, s := range sources {
		read[filepath.Clean(s)] = true
	}
	for _, c := range base.Components {
		if c.Source.File != "" && read[filepath.Clean(c.Source.File)] && imported.Component(c.Name) == nil {
			res.Gone = append(res.Gone, c)
		}
	}

	if len(ops) == 0 {
		res.Data = data
		return res, nil
	}
	out, ok := spliceOps(data, root, ops)
	if !ok {
		for _, op := range ops {
			applyOp(op)
		}
		if out, err = EncodeYAML(&doc); err != nil {
			return nil, err
		}
		res.Reformatted = true
	}
	if _, err := Parse(file, out); err != nil {
		return nil, fmt.Errorf("internal error: the merged model does not load (%v); nothing written", err)
	}
	res.Data = out
	return res, nil
}

// entry is one key and value to add to a section of the model.
type entry struct {
	key  string
	node *yaml.Node
}

// missing returns, in order, the entries of the imported items whose
// name the model does not have.
func missing[T any](items []T, name func(T) string, has func(string) bool, node func(T) *yaml.Node) []entry {
	var out []entry
	for _, it := range items {
		if n := name(it); !has(n) {
			out = append(out, entry{n, node(it)})
		}
	}
	return out
}

// mergeComponent compares a component of the model (old, at node n) with
// the imported one and returns what to add; conflicts go to res.
func mergeComponent(res *MergeResult, old, imp *Component, n *yaml.Node, dir string) []mergeOp {
	var ops []mergeOp
	path := join("components", old.Name)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	src := imp.Source
	if src.File == "" {
		src = imp.Pos
	}
	// set compares a key; unknown: the import says nothing of it.
	set := func(key string, oldV, newV string, value *yaml.Node, unknown bool) {
		if oldV == newV || unknown && key != "replicas" && key != "min_healthy" {
			return
		}
		if k := keyNode(n, key); k != nil {
			res.Conflicts = append(res.Conflicts, MergeConflict{Path: join(path, key),
				Model: Pos{File: old.Pos.File, Line: k.Line, Col: k.Column}, Source: src,
				ModelValue: oldV, ImportedValue: newV})
			return
		}
		if unknown {
			// The model leaves the key to its default and the import
			// says the default: nothing to add.
			return
		}
		ops = append(ops, mergeOp{parent: n, key: key, value: value, path: join(path, key)})
		res.Added = append(res.Added, join(path, key))
	}
	set("kind", string(old.Kind), string(imp.Kind), str(string(imp.Kind)), false)
	set("replicas", strconv.Itoa(old.Replicas), strconv.Itoa(imp.Replicas), intNode(imp.Replicas), imp.Replicas == 1)
	set("min_healthy", strconv.Itoa(old.MinHealthy), strconv.Itoa(imp.MinHealthy), intNode(imp.MinHealthy), imp.MinHealthy == 1)
	set("zones", "["+strings.Join(old.Zones, ", ")+"]", "["+strings.Join(imp.Zones, ", ")+"]", flowList(imp.Zones), len(imp.Zones) == 0)
	set("provider", orNone(old.Provider), orNone(imp.Provider), str(imp.Provider), imp.Provider == "")
	if imp.FailoverSet {
		set("failover", string(old.Failover), string(imp.Failover), str(string(imp.Failover)), false)
	}
	if old.Description == "" && imp.Description != "" && keyNode(n, "description") == nil {
		ops = append(ops, mergeOp{parent: n, key: "description", value: str(imp.Description), path: join(path, "description")})
	}
	var edges []*yaml.Node
	var edgePaths []string
	for _, e := range imp.DependsOn {
		if slices.ContainsFunc(old.DependsOn, func(o *Edge) bool { return o.To == e.To }) {
			continue
		}
		edges = append(edges, EdgeNode(e, dir))
		edgePaths = append(edgePaths, join(path, "depends_on."+e.To))
	}
	if len(edges) > 0 && mapKey(n, "depends_on") == nil && keyNode(n, "depends_on") != nil {
		// The list comes through a merge key (<<: *defaults), shared
		// with other components: it is not the import's to change.
		k := keyNode(n, "depends_on")
		var to []string
		for _, e := range imp.DependsOn {
			if !slices.ContainsFunc(old.DependsOn, func(o *Edge) bool { return o.To == e.To }) {
				to = append(to, e.To)
			}
		}
		res.Conflicts = append(res.Conflicts, MergeConflict{Path: join(path, "depends_on"),
			Model: Pos{File: old.Pos.File, Line: k.Line, Col: k.Column}, Source: src,
			ModelValue: "a list shared through a merge key (<<)", ImportedValue: "adds " + strings.Join(to, ", ")})
		edges, edgePaths = nil, nil
	}
	if len(edges) > 0 {
		if deps := mapValue(n, "depends_on"); deps != nil && deps.Kind == yaml.SequenceNode {
			for i, e := range edges {
				ops = append(ops, mergeOp{parent: deps, value: e, path: edgePaths[i]})
			}
		} else {
			ops = append(ops, mergeOp{parent: n, key: "depends_on", value: &yaml.Node{Kind: yaml.SequenceNode, Content: edges},
				path: join(path, "depends_on")})
		}
		res.Added = append(res.Added, edgePaths...)
	}
	if old.Source.File == "" && imp.Source.File != "" && keyNode(n, "source") == nil {
		ops = append(ops, mergeOp{parent: n, key: "source", value: str(FormatSource(imp.Source, dir)), path: join(path, "source")})
	}
	return ops
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// mapKey returns the key node of key in mapping n, or nil.
func mapKey(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return nil
}

// keyNode returns the key node of key in mapping n, or in a mapping it
// merges (<<: *base), or nil: where the model says it.
func keyNode(n *yaml.Node, key string) *yaml.Node {
	return keyNodeDepth(n, key, 0)
}

func keyNodeDepth(n *yaml.Node, key string, depth int) *yaml.Node {
	if k := mapKey(n, key); k != nil || depth > 10 || n == nil {
		return k
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "<<" && n.Content[i].Tag != "!!merge" {
			continue
		}
		sources := []*yaml.Node{n.Content[i+1]}
		if v := n.Content[i+1]; v.Kind == yaml.SequenceNode {
			sources = v.Content
		}
		for _, src := range sources {
			for src != nil && src.Kind == yaml.AliasNode {
				src = src.Alias
			}
			if k := keyNodeDepth(src, key, depth+1); k != nil {
				return k
			}
		}
	}
	return nil
}

// mapValue returns the value node of key in mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// applyOp makes op's change in the node tree.
func applyOp(op mergeOp) {
	if op.key == "" {
		op.parent.Content = append(op.parent.Content, op.value)
		return
	}
	for i := 0; i+1 < len(op.parent.Content); i += 2 {
		if op.parent.Content[i].Value == op.key {
			op.parent.Content[i+1] = op.value // a null section
			return
		}
	}
	add(op.parent, op.key, op.value)
}

// spliceOps makes the ops' changes as text insertions into data, so that
// the rest of the file stays byte for byte. It fails (false) when a
// parent is in flow style or its end cannot be told.
func spliceOps(data []byte, root *yaml.Node, ops []mergeOp) ([]byte, bool) {
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > 0 && !strings.HasSuffix(lines[len(lines)-1], "\n") {
		if bytes.Contains(data, []byte("\r\n")) {
			lines[len(lines)-1] += "\r"
		}
		lines[len(lines)-1] += "\n"
	}
	ends := blockEnds(root, len(lines))
	// Write what is added with the file's own line ends.
	crlf := bytes.Contains(data, []byte("\r\n"))
	type insert struct {
		at    int // insert before this line index (0-based)
		start int // the line the parent block starts on
		text  string
	}
	var inserts []insert
	for _, op := range ops {
		parent := op.parent
		if parent.Style&yaml.FlowStyle != 0 {
			return nil, false
		}
		var at, indent int
		var text string
		switch {
		case parent == root:
			// A new top-level section, or a null one filled: at the end.
			if v := mapValue(root, op.key); v != nil {
				return nil, false
			}
			at, indent = len(lines), 0
			text = blockText(op.key, op.value, 0)
			if len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) != "" {
				text = "\n" + text
			}
		case parent.Kind == yaml.MappingNode:
			if len(parent.Content) == 0 {
				return nil, false
			}
			at = ends[parent]
			indent = parent.Content[0].Column - 1
			text = blockText(op.key, op.value, indent)
		case parent.Kind == yaml.SequenceNode:
			if len(parent.Content) == 0 {
				return nil, false
			}
			at = ends[parent]
			first := parent.Content[0]
			line := lines[first.Line-1]
			dash := strings.LastIndex(line[:min(first.Column-1, len(line))], "-")
			if dash < 0 {
				return nil, false
			}
			indent = dash
			text = itemText(op.value, indent)
		default:
			return nil, false
		}
		if parent != root {
			// Before the blank lines and comments that end the block:
			// they belong to what follows it.
			for at > parent.Line && at <= len(lines) && isBlankOrComment(lines[at-1]) {
				at--
			}
			if at < parent.Line {
				return nil, false
			}
		}
		if crlf {
			text = strings.ReplaceAll(text, "\n", "\r\n")
		}
		inserts = append(inserts, insert{at: at, start: parent.Line, text: text})
	}
	// At one place, the inner block's additions go first: they end it
	// before the outer block's do (a dependency before a new key of its
	// component).
	slices.SortStableFunc(inserts, func(a, b insert) int {
		if a.at != b.at {
			return a.at - b.at
		}
		return b.start - a.start
	})
	var out bytes.Buffer
	next := 0
	for _, ins := range inserts {
		for ; next < ins.at && next < len(lines); next++ {
			out.WriteString(lines[next])
		}
		out.WriteString(ins.text)
	}
	for ; next < len(lines); next++ {
		out.WriteString(lines[next])
	}
	return out.Bytes(), true
}

func isBlankOrComment(line string) bool {
	t := strings.TrimSpace(line)
	return t == "" || strings.HasPrefix(t, "#")
}

// blockText writes "key: value" as block YAML indented by indent.
func blockText(key string, value *yaml.Node, indent int) string {
	m := mapping()
	add(m, key, value)
	b, err := EncodeYAML(m)
	if err != nil {
		return ""
	}
	return indentText(string(b), indent)
}

// itemText writes "- value" as a block sequence item indented by indent.
func itemText(value *yaml.Node, indent int) string {
	s := &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{value}}
	b, err := EncodeYAML(s)
	if err != nil {
		return ""
	}
	return indentText(string(b), indent)
}

func indentText(s string, indent int) string {
	pad := strings.Repeat(" ", indent)
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line == "" {
			continue
		}
		b.WriteString(pad)
		b.WriteString(line)
	}
	return b.String()
}

// blockEnds maps each block mapping and sequence under root to the index
// of the line its block ends before: the line of the next key or item of
// an enclosing block (less trailing blank and comment lines), or the end
// of the file.
func blockEnds(root *yaml.Node, nlines int) map[*yaml.Node]int {
	ends := map[*yaml.Node]int{}
	var walk func(n *yaml.Node, end int)
	walk = func(n *yaml.Node, end int) {
		ends[n] = end
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				childEnd := end
				if i+2 < len(n.Content) {
					childEnd = n.Content[i+2].Line - 1
				}
				walk(n.Content[i+1], childEnd)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				childEnd := end
				if i+1 < len(n.Content) {
					childEnd = n.Content[i+1].Line - 1
				}
				walk(c, childEnd)
			}
		}
	}
	walk(root, nlines)
	return ends
}
