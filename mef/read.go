// Package mef reads and writes fault trees in the Open-PSA Model Exchange
// Format (MEF), the XML that SCRAM and other PSA tools exchange, so spof's
// engine runs on the public benchmark trees and SCRAM can check spof's
// results.
//
// Read accepts the fault-tree part of the MEF as SCRAM 0.16 does: several
// files form one model (fault trees in one, basic events in another's
// <model-data>); gates with and, or, atleast, not, null, and nand, nor,
// xor, iff and imply rewritten into those; nested formulas; basic events
// whose probability is an expression (floats, parameters, arithmetic,
// exponential, GLM, Weibull, 4-argument periodic tests, deviates taken at
// their mean, the mission time taken as SCRAM's default 8760 h); house
// events; public and private names in fault trees and components. Event
// trees, CCF groups and substitutions are reported as ErrUnsupported.
package mef

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spofhq/spof/analysis/faulttree"
	spof "github.com/spofhq/spof/model"
)

// File is one input file: its name, used in error positions, and its
// contents.
type File struct {
	Name string
	Data []byte
}

// ReadFiles reads the named files and calls Read.
func ReadFiles(paths ...string) ([]*faulttree.Tree, error) {
	files := make([]File, len(paths))
	for i, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading MEF input: %w", err)
		}
		files[i] = File{Name: p, Data: data}
	}
	return Read(files...)
}

// Read parses files that together form one MEF model and returns a fault
// tree for each top event: in each fault tree, every gate no other gate of
// that fault tree uses, in the order defined (SCRAM analyses each of them).
// A tree holds the gates and events its top reaches, numbered in the
// order a depth-first walk from the top meets them. Public elements keep
// their names; private ones are named by their full path (Tree.Component.name);
// nested formulas and rewritten gates become gates named after their
// parent ("g-1", "g-2"). Errors are *Error, positioned in their file.
func Read(files ...File) ([]*faulttree.Tree, error) {
	m, err := load(files)
	if err != nil {
		return nil, err
	}
	var trees []*faulttree.Tree
	for _, ft := range m.faultTrees {
		tops := m.tops(ft)
		if len(tops) == 0 {
			return nil, ft.n.errorf(nil, "a fault tree needs a gate no other gate uses", "fault tree %q has no top gate", ft.name)
		}
		for _, top := range tops {
			trees = append(trees, build(ft.name, top))
		}
	}
	if len(trees) == 0 {
		return nil, &Error{File: files[0].Name, Line: 1, Col: 1, Msg: "no fault tree in the model", Hint: "define one with <define-fault-tree>"}
	}
	return trees, nil
}

// event is a gate, a basic event or a house event, named or (for nested
// formulas) generated.
type event struct {
	kind faulttree.ArgKind
	name string // in trees: the name if public, the full path if private
	n    *node  // the definition
	base string // path of the container, where references are looked up first
	ft   *faultTreeDef

	// gates
	op        faulttree.Op
	k         int
	args      []*event
	formula   *node
	visit     uint8 // cycle search: 0 new, 1 on the path, 2 done
	anon      int   // how many gates were generated for it
	generated bool  // for a nested formula or a rewrite

	// basic events
	expr *node
	p    float64
	hasP bool

	// house events
	state bool
}

type faultTreeDef struct {
	name  string
	n     *node
	gates []*event // named gates, in definition order
}

// model is what the files define, indexed as SCRAM does: every element by
// its full path (container path "." name), public ones also by name.
type model struct {
	full, public          map[string]*event
	params, publicParams  map[string]*paramDef
	faultTrees            []*faultTreeDef
	gates, basics, houses []*event // named ones, in definition order
	names                 map[string]bool
}

func load(files []File) (*model, error) {
	m := &model{
		full: map[string]*event{}, public: map[string]*event{},
		params: map[string]*paramDef{}, publicParams: map[string]*paramDef{},
		names: map[string]bool{},
	}
	if len(files) == 0 {
		return nil, &Error{File: "(no input)", Line: 1, Col: 1, Msg: "no MEF input files"}
	}
	for _, f := range files {
		root, err := parseXML(newSource(f.Name, f.Data))
		if err != nil {
			return nil, err
		}
		if root.name != "opsa-mef" {
			return nil, root.errorf(nil, "an MEF file's root element is <opsa-mef>", "root element <%s> is not <opsa-mef>", root.name)
		}
		for _, k := range root.kids {
			switch k.name {
			case "define-fault-tree":
				name, err := defName(k)
				if err != nil {
					return nil, err
				}
				for _, ft := range m.faultTrees {
					if ft.name == name {
						return nil, k.errorf(nil, "", "redefinition of fault tree %q, first defined at %s", name, where(ft.n))
					}
				}
				role, err := roleOf(k, true)
				if err != nil {
					return nil, err
				}
				ft := &faultTreeDef{name: name, n: k}
				m.faultTrees = append(m.faultTrees, ft)
				if err := m.container(k, name, role, ft); err != nil {
					return nil, err
				}
			case "model-data":
				if err := m.container(k, "", true, nil); err != nil {
					return nil, err
				}
			case "label", "attributes":
			case "define-event-tree", "define-initiating-event", "define-rule", "define-sequence",
				"define-functional-event", "define-consequence", "define-consequence-group", "define-branch":
				return nil, k.errorf(ErrUnsupported, "spof reads fault trees only", "<%s>: event trees are not supported", k.name)
			case "define-alignment", "define-substitution", "define-CCF-group", "define-extern-function":
				return nil, k.errorf(ErrUnsupported, "spof reads fault trees: gates, basic events, house events and parameters", "<%s> is not supported", k.name)
			default:
				return nil, k.errorf(nil, "", "unexpected <%s> in <opsa-mef>", k.name)
			}
		}
	}
	for _, g := range m.gates {
		if err := m.resolve(g); err != nil {
			return nil, err
		}
	}
	for _, g := range m.gates {
		if err := findCycle(g, nil); err != nil {
			return nil, err
		}
	}
	for _, b := range m.basics {
		if b.expr == nil {
			continue
		}
		p, err := m.eval(b.expr, b.base)
		if err != nil {
			return nil, err
		}
		if p < 0 || p > 1 {
			return nil, b.expr.errorf(nil, "a probability is between 0 and 1", "basic event %q has probability %v", b.name, p)
		}
		b.p, b.hasP = p, true
	}
	return m, nil
}

func where(n *node) string {
	line, col := n.src.pos(n.off)
	return fmt.Sprintf("%s:%d:%d", n.src.name, line, col)
}

func defName(n *node) (string, error) {
	name, ok := n.attr("name")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return "", n.errorf(nil, "", "<%s> has no name", n.name)
	}
	if strings.Contains(name, ".") {
		return "", n.errorf(nil, "a '.' separates the parts of a reference's path", "<%s name=%q>: a name cannot contain '.'", n.name, name)
	}
	return name, nil
}

// roleOf returns whether n is public: its role attribute, else inherited.
func roleOf(n *node, inherited bool) (bool, error) {
	switch r, _ := n.attr("role"); r {
	case "":
		return inherited, nil
	case "public":
		return true, nil
	case "private":
		return false, nil
	default:
		return false, n.errorf(nil, "role is public or private", "<%s role=%q>", n.name, r)
	}
}

// container loads the definitions in a fault tree, a component or model
// data; base is its path, public its default role.
func (m *model) container(c *node, base string, public bool, ft *faultTreeDef) error {
	for _, k := range c.kids {
		switch k.name {
		case "label", "attributes":
			continue
		case "define-component":
			if ft == nil {
				break
			}
			name, err := defName(k)
			if err != nil {
				return err
			}
			role, err := roleOf(k, public)
			if err != nil {
				return err
			}
			if err := m.container(k, base+"."+name, role, ft); err != nil {
				return err
			}
			continue
		case "define-parameter":
			if err := m.defineParam(k, base, public); err != nil {
				return err
			}
			continue
		case "define-gate", "define-basic-event", "define-house-event":
			if k.name == "define-gate" && ft == nil {
				break
			}
			if err := m.defineEvent(k, base, public, ft); err != nil {
				return err
			}
			continue
		case "define-CCF-group", "define-substitution":
			return k.errorf(ErrUnsupported, "", "<%s> is not supported", k.name)
		}
		return k.errorf(nil, "", "unexpected <%s> in <%s>", k.name, c.name)
	}
	return nil
}

func fullPath(base, name string) string {
	if base == "" {
		return name
	}
	return base + "." + name
}

func (m *model) defineEvent(n *node, base string, inherited bool, ft *faultTreeDef) error {
	name, err := defName(n)
	if err != nil {
		return err
	}
	public, err := roleOf(n, inherited)
	if err != nil {
		return err
	}
	path := fullPath(base, name)
	e := &event{name: name, n: n, base: base, ft: ft}
	if !public {
		e.name = path
	}
	if old := m.full[path]; old != nil {
		return n.errorf(nil, "names of gates, basic and house events share one namespace", "redefinition of %q, first defined at %s", path, where(old.n))
	}
	if old := m.public[name]; public && old != nil {
		return n.errorf(nil, "names of gates, basic and house events share one namespace", "redefinition of %q, first defined at %s", name, where(old.n))
	}
	expr, err := exprChild(n)
	if err != nil {
		return err
	}
	switch n.name {
	case "define-gate":
		e.kind = faulttree.ArgGate
		if expr == nil {
			return n.errorf(nil, "", "gate %q has no formula", name)
		}
		e.formula = expr
		m.gates = append(m.gates, e)
		ft.gates = append(ft.gates, e)
	case "define-basic-event":
		e.kind = faulttree.ArgEvent
		e.expr = expr
		m.basics = append(m.basics, e)
	case "define-house-event":
		e.kind = faulttree.ArgHouse
		if expr != nil {
			v, _ := expr.attr("value")
			if expr.name != "constant" || (v != "true" && v != "false") {
				return expr.errorf(nil, `a house event is <constant value="true"/> or "false"`, "house event %q: unexpected <%s>", name, expr.name)
			}
			e.state = v == "true"
		}
		m.houses = append(m.houses, e)
	}
	m.full[path] = e
	if public {
		m.public[name] = e
	}
	m.names[e.name] = true
	return nil
}

func (m *model) defineParam(n *node, base string, inherited bool) error {
	name, err := defName(n)
	if err != nil {
		return err
	}
	public, err := roleOf(n, inherited)
	if err != nil {
		return err
	}
	path := fullPath(base, name)
	if old := m.params[path]; old != nil {
		return n.errorf(nil, "", "redefinition of parameter %q, first defined at %s", path, where(old.n))
	}
	if old := m.publicParams[name]; public && old != nil {
		return n.errorf(nil, "", "redefinition of parameter %q, first defined at %s", name, where(old.n))
	}
	expr, err := exprChild(n)
	if err != nil {
		return err
	}
	p := &paramDef{path: path, base: base, n: n, expr: expr}
	m.params[path] = p
	if public {
		m.publicParams[name] = p
	}
	return nil
}

// refKinds maps reference elements to the kind they name.
var refKinds = map[string]faulttree.ArgKind{
	"gate": faulttree.ArgGate, "basic-event": faulttree.ArgEvent, "house-event": faulttree.ArgHouse,
}

func kindName(k faulttree.ArgKind) string {
	switch k {
	case faulttree.ArgGate:
		return "gate"
	case faulttree.ArgEvent:
		return "basic event"
	}
	return "house event"
}

// lookup resolves a reference as SCRAM does: in the referring container
// first, then among public names, or by full path when it holds a '.'.
func lookup[T any](ref *node, base string, full, public map[string]*T) (*T, string, bool) {
	name, _ := ref.attr("name")
	if base != "" {
		if e := full[base+"."+name]; e != nil {
			return e, name, true
		}
	}
	if !strings.Contains(name, ".") {
		e := public[name]
		return e, name, e != nil
	}
	e := full[name]
	return e, name, e != nil
}

func (m *model) lookupEvent(ref *node, base string) (*event, error) {
	want, typed := refKinds[ref.name]
	if ref.name == "event" {
		switch t, _ := ref.attr("type"); t {
		case "":
		case "gate", "basic-event", "house-event":
			want, typed = refKinds[t], true
		default:
			return nil, ref.errorf(nil, "type is gate, basic-event or house-event", "<event type=%q>", t)
		}
	}
	e, name, ok := lookup(ref, base, m.full, m.public)
	if !ok {
		what := "event"
		if typed {
			what = kindName(want)
		}
		var candidates []string
		for path, c := range m.full {
			if !typed || c.kind == want {
				candidates = append(candidates, c.name)
				if rel, ok := strings.CutPrefix(path, base+"."); ok && base != "" {
					candidates = append(candidates, rel)
				}
			}
		}
		hint := "define it, or also read the file that defines it"
		if s := spof.Closest(name, sortedUnique(candidates)); s != "" {
			hint = fmt.Sprintf("did you mean %q?", s)
		}
		return nil, ref.errorf(ErrUndefined, hint, "undefined %s %q", what, name)
	}
	if typed && e.kind != want {
		return nil, ref.errorf(nil, fmt.Sprintf("it is defined at %s", where(e.n)), "%q is a %s, not a %s", name, kindName(e.kind), kindName(want))
	}
	return e, nil
}

func (m *model) lookupParam(ref *node, base string) (*paramDef, error) {
	p, name, ok := lookup(ref, base, m.params, m.publicParams)
	if !ok {
		var candidates []string
		for path := range m.params {
			candidates = append(candidates, path)
		}
		hint := ""
		if s := spof.Closest(name, sortedUnique(candidates)); s != "" {
			hint = fmt.Sprintf("did you mean %q?", s)
		}
		return nil, ref.errorf(ErrUndefined, hint, "undefined parameter %q", name)
	}
	return p, nil
}

// resolve turns a named gate's formula into its operator and arguments.
func (m *model) resolve(g *event) error {
	f := g.formula
	if _, isRef := refKinds[f.name]; isRef || f.name == "event" {
		a, err := m.lookupEvent(f, g.base)
		if err != nil {
			return err
		}
		g.op, g.args = faulttree.Null, []*event{a}
		return nil
	}
	return m.formula(g, f, g)
}

// formula fills gate g from formula f; owner is the named gate whose
// definition f is part of, after which generated gates are named.
func (m *model) formula(g *event, f *node, owner *event) error {
	args := make([]*event, 0, len(f.kids))
	for _, k := range f.kids {
		if _, isRef := refKinds[k.name]; isRef || k.name == "event" {
			a, err := m.lookupEvent(k, owner.base)
			if err != nil {
				return err
			}
			args = append(args, a)
			continue
		}
		sub := m.anonymous(owner, k)
		if err := m.formula(sub, k, owner); err != nil {
			return err
		}
		args = append(args, sub)
	}
	arity := func(min, max int) error {
		if len(args) < min || (max > 0 && len(args) > max) {
			want := strconv.Itoa(min)
			if max != min {
				want = "at least " + want
			}
			return f.errorf(nil, "", "<%s> takes %s arguments, not %d", f.name, want, len(args))
		}
		return nil
	}
	not := func(a *event) *event {
		n := m.anonymous(owner, f)
		n.op, n.args = faulttree.Not, []*event{a}
		return n
	}
	gate := func(op faulttree.Op, args ...*event) *event {
		n := m.anonymous(owner, f)
		n.op, n.args = op, args
		return n
	}
	switch f.name {
	case "and", "or", "nand", "nor":
		if err := arity(1, 0); err != nil {
			return err
		}
		g.op, g.args = faulttree.And, args
		if f.name == "or" || f.name == "nor" {
			g.op = faulttree.Or
		}
		if f.name == "nand" || f.name == "nor" {
			g.op, g.args = faulttree.Not, []*event{gate(g.op, args...)}
		}
	case "not", "null":
		if err := arity(1, 1); err != nil {
			return err
		}
		g.op, g.args = faulttree.Not, args
		if f.name == "null" {
			g.op = faulttree.Null
		}
	case "atleast":
		s, _ := f.attr("min")
		k, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || k < 1 || k > len(args) {
			return f.errorf(nil, fmt.Sprintf("min is a whole number from 1 to the number of arguments, %d", len(args)), "<atleast min=%q>", s)
		}
		g.op, g.k, g.args = faulttree.AtLeast, k, args
	case "xor", "iff", "imply":
		if err := arity(2, 2); err != nil {
			return err
		}
		a, b := args[0], args[1]
		g.op = faulttree.Or
		switch f.name {
		case "xor":
			g.args = []*event{gate(faulttree.And, a, not(b)), gate(faulttree.And, not(a), b)}
		case "iff":
			g.args = []*event{gate(faulttree.And, a, b), gate(faulttree.And, not(a), not(b))}
		case "imply":
			g.args = []*event{not(a), b}
		}
	case "constant":
		return f.errorf(ErrUnsupported, "use a house event", "a Boolean constant in a formula is not supported")
	default:
		return f.errorf(ErrUnsupported, "gates are and, or, atleast, not, null, nand, nor, xor, iff, imply", "formula <%s> is not supported", f.name)
	}
	return nil
}

// anonymous returns a new gate for a nested or rewritten formula, named
// after owner with a number no other event's name uses.
func (m *model) anonymous(owner *event, f *node) *event {
	for {
		owner.anon++
		name := owner.name + "-" + strconv.Itoa(owner.anon)
		if !m.names[name] {
			m.names[name] = true
			return &event{kind: faulttree.ArgGate, name: name, n: f, base: owner.base, ft: owner.ft, generated: true}
		}
	}
}

// findCycle reports a gate that depends on itself, naming the loop.
func findCycle(g *event, path []*event) error {
	switch g.visit {
	case 2:
		return nil
	case 1:
		var names []string
		start := 0
		for i, p := range path {
			if p == g {
				start = i
			}
		}
		for _, p := range path[start:] {
			names = append(names, p.name)
		}
		names = append(names, g.name)
		return g.n.errorf(ErrCycle, "a gate cannot depend on itself", "gate %q is in a cycle: %s", g.name, strings.Join(names, " -> "))
	}
	g.visit = 1
	path = append(path, g)
	for _, a := range g.args {
		if a.kind == faulttree.ArgGate {
			if err := findCycle(a, path); err != nil {
				return err
			}
		}
	}
	g.visit = 2
	return nil
}

// tops returns the named gates of ft that no gate of ft uses.
func (m *model) tops(ft *faultTreeDef) []*event {
	used := map[*event]bool{}
	var mark func(g *event)
	mark = func(g *event) {
		for _, a := range g.args {
			if a.kind != faulttree.ArgGate || used[a] {
				continue
			}
			used[a] = true
			if a.generated { // part of a formula of ft: walk on
				mark(a)
			}
		}
	}
	for _, g := range ft.gates {
		mark(g)
	}
	var tops []*event
	for _, g := range ft.gates {
		if !used[g] {
			tops = append(tops, g)
		}
	}
	return tops
}

// build numbers what top reaches into a Tree.
func build(name string, top *event) *faulttree.Tree {
	t := &faulttree.Tree{Name: name}
	index := map[*event]int32{}
	var visit func(g *event) int32
	visit = func(g *event) int32 {
		i := int32(len(t.Gates))
		index[g] = i
		t.Gates = append(t.Gates, faulttree.Gate{Name: g.name, Op: g.op, K: g.k})
		args := make([]faulttree.Arg, len(g.args))
		for j, a := range g.args {
			x, seen := index[a]
			if !seen {
				switch a.kind {
				case faulttree.ArgGate:
					x = visit(a)
				case faulttree.ArgEvent:
					x = int32(len(t.Events))
					t.Events = append(t.Events, faulttree.Event{Name: a.name, P: a.p, HasP: a.hasP})
				case faulttree.ArgHouse:
					x = int32(len(t.Houses))
					t.Houses = append(t.Houses, faulttree.House{Name: a.name, State: a.state})
				}
				index[a] = x
			}
			args[j] = faulttree.Arg{Kind: a.kind, Index: x}
		}
		t.Gates[i].Args = args
		return i
	}
	t.Top = visit(top)
	return t
}

func sortedUnique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
