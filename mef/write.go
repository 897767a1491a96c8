package mef

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/spofhq/spof/analysis/faulttree"
)

// Write writes trees as one MEF model SCRAM reads: a define-fault-tree
// per tree with its gates, then one model-data with every basic and house
// event. Trees may share events: an event of a given name must then be
// the same (kind and probability) in each.
//
// Names are made valid MEF identifiers (letters, digits, '_' and single
// '-'; not starting with a digit), and made unique: gates share one
// namespace with events across all trees, so a gate name used by another
// tree or by an event gets a "_2" suffix. A name that had to change keeps
// the original in a <label>. An and or or gate with one argument is
// written as null, an atleast gate with min 1 as or and with min equal to
// its number of arguments as and.
func Write(w io.Writer, trees ...*faulttree.Tree) error {
	for i, t := range trees {
		if err := check(t); err != nil {
			return fmt.Errorf("writing MEF: tree %d (%q): %w", i, t.Name, err)
		}
	}
	names := newNamer()
	treeNames := newNamer()
	// Events first, so that their names survive and gates yield.
	type shared struct {
		name, orig string
		house      bool
		state      bool
		p          float64
		hasP       bool
	}
	var order []*shared
	byName := map[string]*shared{}
	eventNames := make([][]string, len(trees))
	houseNames := make([][]string, len(trees))
	for i, t := range trees {
		add := func(orig string, house, state bool, p float64, hasP bool) (string, error) {
			if s := byName[orig]; s != nil {
				if s.house != house || s.state != state || s.hasP != hasP || s.p != p {
					return "", fmt.Errorf("writing MEF: tree %q: event %q differs from the one of that name in an earlier tree", t.Name, orig)
				}
				return s.name, nil
			}
			s := &shared{name: names.take(orig), orig: orig, house: house, state: state, p: p, hasP: hasP}
			byName[orig] = s
			order = append(order, s)
			return s.name, nil
		}
		for _, e := range t.Events {
			n, err := add(e.Name, false, false, e.P, e.HasP)
			if err != nil {
				return err
			}
			eventNames[i] = append(eventNames[i], n)
		}
		for _, h := range t.Houses {
			n, err := add(h.Name, true, h.State, 0, false)
			if err != nil {
				return err
			}
			houseNames[i] = append(houseNames[i], n)
		}
	}

	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	label := func(indent, name, orig string) {
		if name != orig {
			p("%s<label>%s</label>\n", indent, escape(orig))
		}
	}
	p("<?xml version=\"1.0\"?>\n<opsa-mef>\n")
	for i, t := range trees {
		orig := t.Name
		if orig == "" {
			orig = "FaultTree" + strconv.Itoa(i+1)
		}
		ftName := treeNames.take(orig)
		p("  <define-fault-tree name=\"%s\">\n", ftName)
		label("    ", ftName, orig)
		gateNames := make([]string, len(t.Gates))
		for j, g := range t.Gates {
			gateNames[j] = names.take(g.Name)
		}
		for j, g := range t.Gates {
			p("    <define-gate name=\"%s\">\n", gateNames[j])
			label("      ", gateNames[j], g.Name)
			op, attr := g.Op.String(), ""
			switch n := len(g.Args); {
			case (g.Op == faulttree.And || g.Op == faulttree.Or) && n == 1:
				op = "null"
			case g.Op == faulttree.AtLeast && g.K == n:
				op = "and"
			case g.Op == faulttree.AtLeast && g.K == 1:
				op = "or"
				if n == 1 {
					op = "null"
				}
			case g.Op == faulttree.AtLeast:
				attr = fmt.Sprintf(" min=\"%d\"", g.K)
			}
			if g.Op == faulttree.Null {
				op = "null"
			}
			// A single argument passed through is the gate's formula
			// itself: SCRAM refuses <null> inside a gate's definition.
			bare := op == "null"
			indent := "        "
			if bare {
				indent = "      "
			} else {
				p("      <%s%s>\n", op, attr)
			}
			for _, a := range g.Args {
				switch a.Kind {
				case faulttree.ArgGate:
					p("%s<gate name=\"%s\"/>\n", indent, gateNames[a.Index])
				case faulttree.ArgEvent:
					p("%s<basic-event name=\"%s\"/>\n", indent, eventNames[i][a.Index])
				case faulttree.ArgHouse:
					p("%s<house-event name=\"%s\"/>\n", indent, houseNames[i][a.Index])
				}
			}
			if !bare {
				p("      </%s>\n", op)
			}
			p("    </define-gate>\n")
		}
		p("  </define-fault-tree>\n")
	}
	if len(order) > 0 {
		p("  <model-data>\n")
		for _, s := range order {
			kind := "basic"
			if s.house {
				kind = "house"
			}
			p("    <define-%s-event name=\"%s\">\n", kind, s.name)
			label("      ", s.name, s.orig)
			switch {
			case s.house:
				p("      <constant value=\"%t\"/>\n", s.state)
			case s.hasP:
				p("      <float value=\"%s\"/>\n", strconv.FormatFloat(s.p, 'g', -1, 64))
			}
			p("    </define-%s-event>\n", kind)
		}
		p("  </model-data>\n")
	}
	p("</opsa-mef>\n")
	return bw.Flush()
}

// check rejects trees Write would turn into invalid MEF.
func check(t *faulttree.Tree) error {
	if t.Top < 0 || int(t.Top) >= len(t.Gates) {
		return fmt.Errorf("top %d is not a gate (the tree has %d)", t.Top, len(t.Gates))
	}
	for _, g := range t.Gates {
		n := len(g.Args)
		switch {
		case n == 0:
			return fmt.Errorf("gate %q has no arguments", g.Name)
		case (g.Op == faulttree.Not || g.Op == faulttree.Null) && n != 1:
			return fmt.Errorf("%s gate %q has %d arguments, not 1", g.Op, g.Name, n)
		case g.Op == faulttree.AtLeast && (g.K < 1 || g.K > n):
			return fmt.Errorf("atleast gate %q: K = %d with %d arguments", g.Name, g.K, n)
		case g.Op > faulttree.Null:
			return fmt.Errorf("gate %q: unknown operator %v", g.Name, g.Op)
		}
		for _, a := range g.Args {
			var size int
			switch a.Kind {
			case faulttree.ArgGate:
				size = len(t.Gates)
			case faulttree.ArgEvent:
				size = len(t.Events)
			case faulttree.ArgHouse:
				size = len(t.Houses)
			default:
				return fmt.Errorf("gate %q: unknown argument kind %d", g.Name, a.Kind)
			}
			if a.Index < 0 || int(a.Index) >= size {
				return fmt.Errorf("gate %q: argument index %d out of range", g.Name, a.Index)
			}
		}
	}
	for _, e := range t.Events {
		if e.HasP && !(e.P >= 0 && e.P <= 1) {
			return fmt.Errorf("basic event %q: probability %v is not in [0, 1]", e.Name, e.P)
		}
	}
	return nil
}

// namer hands out valid, unique MEF identifiers.
type namer map[string]bool

func newNamer() namer { return namer{} }

func (n namer) take(orig string) string {
	base := Identifier(orig)
	name := base
	for i := 2; n[name]; i++ {
		name = base + "_" + strconv.Itoa(i)
	}
	n[name] = true
	return name
}

// Identifier returns s made a valid MEF name, as SCRAM checks them:
// letters, digits, '_' and single inner '-', not starting with a digit;
// anything else becomes '_'. A valid name is returned unchanged.
func Identifier(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || r == '_':
		case unicode.IsDigit(r) && b.Len() > 0:
		case unicode.IsDigit(r):
			b.WriteByte('_')
		case r == '-' && b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
		default:
			r = '_'
		}
		b.WriteRune(r)
	}
	out := strings.TrimSuffix(b.String(), "-")
	if out != b.String() {
		out += "_"
	}
	if out == "" {
		out = "_"
	}
	return out
}

func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
