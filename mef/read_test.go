package mef

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/spofhq/spof/analysis/faulttree"
)

// ft wraps gate and event definitions in a fault tree named FT.
func ft(body string) File {
	return File{Name: "in.xml", Data: []byte("<opsa-mef>\n<define-fault-tree name=\"FT\">\n" + body + "\n</define-fault-tree>\n</opsa-mef>\n")}
}

func TestReadErrors(t *testing.T) {
	const events = `<define-basic-event name="a"/><define-basic-event name="b"/>`
	cases := []struct {
		name  string
		files []File
		want  string
		is    error
	}{
		{"malformed", []File{{Name: "x.xml", Data: []byte("<opsa-mef>\n  <define-fault-tree>\n</opsa-mef>")}}, "x.xml:3:", nil},
		{"empty", []File{{Name: "x.xml"}}, "x.xml:1:1: malformed XML: no root element (an MEF file is <opsa-mef>...</opsa-mef>)", nil},
		{"root", []File{{Name: "x.xml", Data: []byte("<scram/>")}}, `x.xml:1:1: root element <scram> is not <opsa-mef> (an MEF file's root element is <opsa-mef>)`, nil},
		{"undefined", []File{ft(`<define-gate name="g"><or><basic-event name="alpha"/><basic-event name="b"/></or></define-gate>` + "\n" + `<define-basic-event name="alfa"/><define-basic-event name="b"/>`)},
			`in.xml:3:27: undefined basic event "alpha" (did you mean "alfa"?)`, ErrUndefined},
		{"undefined elsewhere", []File{ft(`<define-gate name="g"><or><event name="zz"/><basic-event name="b"/></or></define-gate>` + events)},
			`in.xml:3:27: undefined event "zz" (define it, or also read the file that defines it)`, ErrUndefined},
		{"kind", []File{ft(`<define-gate name="g"><or><gate name="a"/><basic-event name="b"/></or></define-gate>` + events)},
			`in.xml:3:27: "a" is a basic event, not a gate (it is defined at in.xml:3:85)`, nil},
		{"cycle", []File{ft(`<define-gate name="g"><or><gate name="h"/><basic-event name="a"/></or></define-gate>
<define-gate name="h"><and><gate name="g"/><basic-event name="b"/></and></define-gate>` + events)},
			`in.xml:3:1: gate "g" is in a cycle: g -> h -> g (a gate cannot depend on itself)`, ErrCycle},
		{"parameter cycle", []File{ft(`<define-gate name="g"><or><basic-event name="a"/><basic-event name="b"/></or></define-gate>
<define-basic-event name="a"><parameter name="p"/></define-basic-event><define-basic-event name="b"/>
<define-parameter name="p"><parameter name="q"/></define-parameter><define-parameter name="q"><parameter name="p"/></define-parameter>`)},
			`in.xml:5:1: parameter "FT.p" depends on itself`, ErrCycle},
		{"redefinition", []File{ft(`<define-gate name="g"><or><basic-event name="a"/><basic-event name="b"/></or></define-gate>` + events), {Name: "data.xml", Data: []byte(`<opsa-mef><model-data><define-house-event name="a"/></model-data></opsa-mef>`)}},
			`data.xml:1:23: redefinition of "a", first defined at in.xml:3:92 (names of gates, basic and house events share one namespace)`, nil},
		{"atleast", []File{ft(`<define-gate name="g"><atleast min="3"><basic-event name="a"/><basic-event name="b"/></atleast></define-gate>` + events)},
			`in.xml:3:23: <atleast min="3"> (min is a whole number from 1 to the number of arguments, 2)`, nil},
		{"probability", []File{ft(`<define-gate name="g"><or><basic-event name="a"/><basic-event name="b"/></or></define-gate>
<define-basic-event name="a"><float value="1.5"/></define-basic-event><define-basic-event name="b"/>`)},
			`in.xml:4:30: basic event "a" has probability 1.5 (a probability is between 0 and 1)`, nil},
		{"expression", []File{ft(`<define-gate name="g"><or><basic-event name="a"/><basic-event name="b"/></or></define-gate>
<define-basic-event name="a"><histogram/></define-basic-event><define-basic-event name="b"/>`)},
			`in.xml:4:30: expression <histogram> is not supported`, ErrUnsupported},
		{"formula", []File{ft(`<define-gate name="g"><cardinality min="1"><basic-event name="a"/></cardinality></define-gate>` + events)},
			`in.xml:3:23: formula <cardinality> is not supported`, ErrUnsupported},
		{"not arity", []File{ft(`<define-gate name="g"><not><basic-event name="a"/><basic-event name="b"/></not></define-gate>` + events)},
			`in.xml:3:23: <not> takes 1 arguments, not 2`, nil},
		{"no tree", []File{{Name: "d.xml", Data: []byte(`<opsa-mef><model-data/></opsa-mef>`)}}, "d.xml:1:1: no fault tree in the model", nil},
		{"event tree", []File{{Name: "e.xml", Data: []byte("<opsa-mef>\n <define-event-tree name=\"x\"/></opsa-mef>")}}, `e.xml:2:2: <define-event-tree>: event trees are not supported`, ErrUnsupported},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(c.files...)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("error\n%s\nwant it to start with\n%s", err, c.want)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error %T is not an *Error", err)
			}
		})
	}
}

// holds evaluates tree t's top with the events in failed true.
func holds(t *faulttree.Tree, failed map[string]bool) bool {
	var gate func(i int32) bool
	gate = func(i int32) bool {
		g := t.Gates[i]
		n := 0
		for _, a := range g.Args {
			var v bool
			switch a.Kind {
			case faulttree.ArgGate:
				v = gate(a.Index)
			case faulttree.ArgEvent:
				v = failed[t.Events[a.Index].Name]
			case faulttree.ArgHouse:
				v = t.Houses[a.Index].State
			}
			if v {
				n++
			}
		}
		switch g.Op {
		case faulttree.And:
			return n == len(g.Args)
		case faulttree.Or:
			return n > 0
		case faulttree.AtLeast:
			return n >= g.K
		case faulttree.Not:
			return n == 0
		}
		return n == 1
	}
	return gate(t.Top)
}

// TestReadRewrites checks that each MEF connective, rewritten into and,
// or and not, computes its truth table.
func TestReadRewrites(t *testing.T) {
	cases := map[string]func(a, b bool) bool{
		"and":   func(a, b bool) bool { return a && b },
		"or":    func(a, b bool) bool { return a || b },
		"nand":  func(a, b bool) bool { return !(a && b) },
		"nor":   func(a, b bool) bool { return !(a || b) },
		"xor":   func(a, b bool) bool { return a != b },
		"iff":   func(a, b bool) bool { return a == b },
		"imply": func(a, b bool) bool { return !a || b },
	}
	for op, want := range cases {
		trees, err := Read(ft(`<define-gate name="g"><` + op + `><basic-event name="a"/><basic-event name="b"/></` + op + `></define-gate>
<define-basic-event name="a"/><define-basic-event name="b"/>`))
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		for _, a := range []bool{false, true} {
			for _, b := range []bool{false, true} {
				if got := holds(trees[0], map[string]bool{"a": a, "b": b}); got != want(a, b) {
					t.Errorf("%s(%t, %t) = %t", op, a, b, got)
				}
			}
		}
	}
}

func TestReadScopesAndFormulas(t *testing.T) {
	files := []File{
		ft(`<define-gate name="top"><or><gate name="c.g"/><and><event name="x"/><not><house-event name="h"/></not></and></or></define-gate>
<define-component name="c" role="private">
  <define-gate name="g"><atleast min="2"><basic-event name="x"/><basic-event name="y"/><basic-event name="x" /></atleast></define-gate>
  <define-basic-event name="x"><exponential><parameter name="rate"/><system-mission-time/></exponential></define-basic-event>
  <define-parameter name="rate"><float value="1e-5"/></define-parameter>
</define-component>
<define-gate name="other"><null><gate name="top"/></null></define-gate>
<define-gate name="second"><basic-event name="y"/></define-gate>`),
		{Name: "data.xml", Data: []byte(`<opsa-mef><model-data>
<define-basic-event name="x"><float value="0.25"/></define-basic-event>
<define-basic-event name="y"><mul><float value="0.5"/><float value="0.2"/></mul></define-basic-event>
<define-house-event name="h"><constant value="false"/></define-house-event>
</model-data></opsa-mef>`)},
	}
	trees, err := Read(files...)
	if err != nil {
		t.Fatal(err)
	}
	if len(trees) != 2 {
		t.Fatalf("%d trees, want 2 (other and second are both top gates)", len(trees))
	}
	tr := trees[0]
	var names []string
	for _, g := range tr.Gates {
		names = append(names, g.Name)
	}
	if got, want := strings.Join(names, " "), "other top FT.c.g top-1 top-2"; got != want {
		t.Errorf("gates %q, want %q", got, want)
	}
	want := map[string]float64{"FT.c.x": 1 - math.Exp(-1e-5*MissionTime), "y": 0.1, "x": 0.25}
	for _, e := range tr.Events {
		if math.Abs(e.P-want[e.Name]) > 1e-15 || !e.HasP {
			t.Errorf("event %q: P = %v, want %v", e.Name, e.P, want[e.Name])
		}
		delete(want, e.Name)
	}
	if len(want) != 0 {
		t.Errorf("events missing: %v", want)
	}
	if trees[1].Gates[trees[1].Top].Name != "second" || trees[1].Gates[0].Op != faulttree.Null {
		t.Errorf("second tree: %+v", trees[1])
	}
	var buf bytes.Buffer
	if err := Write(&buf, trees...); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(File{Name: "w.xml", Data: buf.Bytes()}); err != nil {
		t.Fatalf("%v\n%s", err, buf.Bytes())
	}
}

func TestIdentifier(t *testing.T) {
	for in, want := range map[string]string{
		"ok": "ok", "a_b-c": "a_b-c", "zone:us-east-1a": "zone_us-east-1a", "1a": "_1a",
		"a--b": "a-_b", "-a": "_a", "a-": "a_", "FT.c.g": "FT_c_g", "": "_", "é": "é",
	} {
		if got := Identifier(in); got != want {
			t.Errorf("Identifier(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte(`<opsa-mef><define-fault-tree name="F"><define-gate name="g"><xor><basic-event name="a"/><gate name="h"/></xor></define-gate><define-gate name="h"><atleast min="2"><event name="a"/><event name="b"/><house-event name="c"/></atleast></define-gate><define-basic-event name="a"><float value="0.1"/></define-basic-event><define-basic-event name="b"/><define-house-event name="c"><constant value="true"/></define-house-event></define-fault-tree></opsa-mef>`))
	f.Add([]byte(`<opsa-mef><define-fault-tree name="F"><define-gate name="g"><or><gate name="g"/></or></define-gate></define-fault-tree></opsa-mef>`))
	f.Add([]byte(`<opsa-mef><define-fault-tree name="F"><define-component name="c" role="private"><define-gate name="g"><and><not><basic-event name="a"/></not><basic-event name="b"/></and></define-gate></define-component><define-basic-event name="a"><exponential><parameter name="p"/><mul><int value="2"/><system-mission-time/></mul></exponential></define-basic-event><define-parameter name="p"><lognormal-deviate><float value="1e-6"/><float value="3"/><float value="0.95"/></lognormal-deviate></define-parameter><define-basic-event name="b"/></define-fault-tree></opsa-mef>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		trees, err := Read(File{Name: "f.xml", Data: data})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Line < 1 || e.Col < 1 || e.File != "f.xml" {
				t.Fatalf("unpositioned error %v", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := Write(&buf, trees...); err != nil {
			t.Fatalf("Write of what Read returned: %v", err)
		}
		if _, err := Read(File{Name: "w.xml", Data: buf.Bytes()}); err != nil {
			t.Fatalf("reading what Write wrote: %v\n%s", err, buf.Bytes())
		}
	})
}
