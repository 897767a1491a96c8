package faulttree

import (
	"encoding/xml"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// This file is a throwaway: a tiny Open-PSA MEF loader (just what SCRAM's
// sample fault trees use) so the engine can be compared with SCRAM before
// package mef lands. It is not the MEF reader.

type xnode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []xnode    `xml:",any"`
}

func (n *xnode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

type mefLoader struct {
	t      *Tree
	gates  map[string]int32
	events map[string]int32
	houses map[string]int32
}

func loadMEF(top string, files ...string) (*Tree, error) {
	l := &mefLoader{t: &Tree{}, gates: map[string]int32{}, events: map[string]int32{}, houses: map[string]int32{}}
	var roots []xnode
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var root xnode
		if err := xml.Unmarshal(data, &root); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		roots = append(roots, root)
	}
	var walk func(n *xnode)
	walk = func(n *xnode) {
		switch n.XMLName.Local {
		case "define-gate":
			l.gates[n.attr("name")] = int32(len(l.t.Gates))
			l.t.Gates = append(l.t.Gates, Gate{Name: n.attr("name")})
		case "define-basic-event":
			ev := Event{Name: n.attr("name")}
			for _, c := range n.Nodes {
				if c.XMLName.Local == "float" {
					ev.P, _ = strconv.ParseFloat(c.attr("value"), 64)
					ev.HasP = true
				}
			}
			if i, ok := l.events[ev.Name]; ok {
				l.t.Events[i] = ev
			} else {
				l.events[ev.Name] = int32(len(l.t.Events))
				l.t.Events = append(l.t.Events, ev)
			}
		case "define-house-event":
			h := House{Name: n.attr("name")}
			for _, c := range n.Nodes {
				if c.XMLName.Local == "constant" {
					h.State = c.attr("value") == "true"
				}
			}
			l.houses[h.Name] = int32(len(l.t.Houses))
			l.t.Houses = append(l.t.Houses, h)
		}
		for i := range n.Nodes {
			walk(&n.Nodes[i])
		}
	}
	for i := range roots {
		walk(&roots[i])
	}
	// Second pass: formulas (gates may be used before they are defined).
	var gateDefs []*xnode
	var collect func(n *xnode)
	collect = func(n *xnode) {
		if n.XMLName.Local == "define-gate" {
			gateDefs = append(gateDefs, n)
			return
		}
		for i := range n.Nodes {
			collect(&n.Nodes[i])
		}
	}
	for i := range roots {
		collect(&roots[i])
	}
	for _, d := range gateDefs {
		g := l.gates[d.attr("name")]
		var formula *xnode
		for i := range d.Nodes {
			if d.Nodes[i].XMLName.Local != "label" && d.Nodes[i].XMLName.Local != "attributes" {
				formula = &d.Nodes[i]
			}
		}
		if formula == nil {
			return nil, fmt.Errorf("gate %s: no formula", d.attr("name"))
		}
		if err := l.formula(g, formula); err != nil {
			return nil, err
		}
	}
	// The top: a gate that is no gate's argument.
	used := make([]bool, len(l.t.Gates))
	for _, g := range l.t.Gates {
		for _, a := range g.Args {
			if a.Kind == ArgGate {
				used[a.Index] = true
			}
		}
	}
	l.t.Top = -1
	if top != "" {
		l.t.Top = l.gates[top]
		used = nil
	}
	for i, u := range used {
		if !u && l.t.Gates[i].Name != "" {
			if l.t.Top >= 0 {
				return nil, fmt.Errorf("two tops: %s and %s", l.t.Gates[l.t.Top].Name, l.t.Gates[i].Name)
			}
			l.t.Top = int32(i)
		}
	}
	l.t.Name = l.t.Gates[l.t.Top].Name
	return l.t, nil
}

// formula fills gate g from an operator or a single reference.
func (l *mefLoader) formula(g int32, f *xnode) error {
	op := f.XMLName.Local
	switch op {
	case "and", "or", "atleast", "not":
		l.t.Gates[g].Op = map[string]Op{"and": And, "or": Or, "atleast": AtLeast, "not": Not}[op]
		if op == "atleast" {
			l.t.Gates[g].K, _ = strconv.Atoi(f.attr("min"))
		}
		for i := range f.Nodes {
			a, err := l.arg(&f.Nodes[i])
			if err != nil {
				return fmt.Errorf("gate %s: %w", l.t.Gates[g].Name, err)
			}
			l.t.Gates[g].Args = append(l.t.Gates[g].Args, a)
		}
		return nil
	}
	a, err := l.arg(f)
	if err != nil {
		return err
	}
	l.t.Gates[g].Op = Null
	l.t.Gates[g].Args = []Arg{a}
	return nil
}

func (l *mefLoader) arg(n *xnode) (Arg, error) {
	name := n.attr("name")
	switch n.XMLName.Local {
	case "gate", "basic-event", "house-event", "event":
		if i, ok := l.gates[name]; ok && n.XMLName.Local != "basic-event" && n.XMLName.Local != "house-event" {
			return Arg{ArgGate, i}, nil
		}
		if i, ok := l.houses[name]; ok {
			return Arg{ArgHouse, i}, nil
		}
		i, ok := l.events[name]
		if !ok {
			i = int32(len(l.t.Events))
			l.events[name] = i
			l.t.Events = append(l.t.Events, Event{Name: name})
		}
		return Arg{ArgEvent, i}, nil
	case "constant":
		return Arg{}, fmt.Errorf("constant formula arguments are not supported here")
	}
	// A nested operator: an anonymous gate.
	g := int32(len(l.t.Gates))
	l.t.Gates = append(l.t.Gates, Gate{})
	if err := l.formula(g, n); err != nil {
		return Arg{}, err
	}
	return Arg{ArgGate, g}, nil
}

// scramReport is what SCRAM printed for one sum of products.
type scramReport struct {
	Products     int
	Probability  float64
	Distribution []int
	Sets         []string
}

func runSCRAM(t testing.TB, top string, order int, files ...string) scramReport {
	out := filepath.Join(t.TempDir(), "report.xml")
	args := append([]string{"--probability", "true", "-l", strconv.Itoa(order), "-o", out}, files...)
	if b, err := exec.Command("scram", args...).CombinedOutput(); err != nil {
		t.Fatalf("scram %v: %v\n%s", args, err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var root xnode
	if err := xml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	var rep scramReport
	var walk func(n *xnode)
	walk = func(n *xnode) {
		if n.XMLName.Local == "sum-of-products" && (top == "" || n.attr("name") == top) {
			rep.Products, _ = strconv.Atoi(n.attr("products"))
			rep.Probability, _ = strconv.ParseFloat(n.attr("probability"), 64)
			for _, f := range strings.Fields(n.attr("distribution")) {
				c, _ := strconv.Atoi(f)
				rep.Distribution = append(rep.Distribution, c)
			}
			for _, p := range n.Nodes {
				var names []string
				for _, e := range p.Nodes {
					if e.XMLName.Local == "not" {
						names = append(names, "not "+e.Nodes[0].attr("name"))
						continue
					}
					names = append(names, e.attr("name"))
				}
				sort.Strings(names)
				rep.Sets = append(rep.Sets, strings.Join(names, ","))
			}
			sort.Strings(rep.Sets)
			return
		}
		for i := range n.Nodes {
			walk(&n.Nodes[i])
		}
	}
	walk(&root)
	return rep
}

// ThreeMotor is left out: it needs MEF's private component scoping.
const scramInputs = "/usr/share/scram/input"

var scramCases = []struct {
	name  string
	top   string // when the input has several
	order int
	files []string
}{
	{"Chinese", "", 0, []string{"Chinese/chinese.xml", "Chinese/chinese-basic-events.xml"}},
	{"Baobab1", "", 0, []string{"Baobab/baobab1.xml", "Baobab/baobab1-basic-events.xml"}},
	{"Baobab2", "", 0, []string{"Baobab/baobab2.xml", "Baobab/baobab2-basic-events.xml"}},
	{"CEA9601-order3", "", 3, []string{"CEA9601/CEA9601.xml", "CEA9601/CEA9601-basic-events.xml"}},
	{"HIPPS", "", 0, []string{"HIPPS/HIPPS.xml"}},
	{"Theatre", "", 0, []string{"Theatre/theatre.xml"}},
	{"Lift", "", 0, []string{"Lift/lift.xml"}},
	{"TwoTrain", "", 0, []string{"TwoTrain/two_train.xml"}},
	{"ne574", "", 0, []string{"ne574/ne574.xml"}},
}

func scramFiles(files []string) []string {
	var out []string
	for _, f := range files {
		out = append(out, filepath.Join(scramInputs, f))
	}
	return out
}

func TestAgainstSCRAM(t *testing.T) {
	if _, err := exec.LookPath("scram"); err != nil {
		t.Skip("scram is not on PATH (apt-get install scram): the comparison with SCRAM is skipped")
	}
	for _, c := range scramCases {
		t.Run(c.name, func(t *testing.T) {
			files := scramFiles(c.files)
			tr, err := loadMEF(c.top, files...)
			if err != nil {
				t.Fatal(err)
			}
			limit := c.order
			if limit == 0 {
				limit = 20 // SCRAM's default
			}
			want := runSCRAM(t, c.top, limit, files...)
			withP := allHaveP(tr)
			got, err := CutSets(tr, CutSetOptions{Order: c.order, WithProbability: withP})
			if err != nil {
				t.Fatal(err)
			}
			if got.Count != want.Products || !slices.Equal(got.Distribution, want.Distribution) {
				t.Errorf("count %d distribution %v; SCRAM %d %v", got.Count, got.Distribution, want.Products, want.Distribution)
			}
			if diff := slices.Compare(cutSetStrings(tr, got), want.Sets); diff != 0 {
				t.Errorf("sets differ from SCRAM's")
			}
			// SCRAM's probability is exact (its BDD) whatever the order limit.
			if withP && math.Abs(got.Probability-want.Probability) > 1e-5*want.Probability {
				t.Errorf("probability %v, SCRAM %v", got.Probability, want.Probability)
			}
		})
	}
}

// allHaveP reports whether every event has a float probability (HIPPS
// uses expressions this loader does not read).
func allHaveP(t *Tree) bool {
	for _, e := range t.Events {
		if !e.HasP {
			return false
		}
	}
	return true
}

// TestImportanceAgainstSCRAM compares every event's importance factors
// with SCRAM's (printed to 6 significant digits).
func TestImportanceAgainstSCRAM(t *testing.T) {
	if _, err := exec.LookPath("scram"); err != nil {
		t.Skip("scram is not on PATH (apt-get install scram): the comparison with SCRAM is skipped")
	}
	for _, c := range scramCases {
		if c.order != 0 || c.name == "HIPPS" {
			continue // HIPPS: probabilities are expressions this loader skips
		}
		t.Run(c.name, func(t *testing.T) {
			files := scramFiles(c.files)
			tr, err := loadMEF(c.top, files...)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "report.xml")
			args := append([]string{"--importance", "true", "-o", out}, files...)
			if b, err := exec.Command("scram", args...).CombinedOutput(); err != nil {
				t.Fatalf("scram %v: %v\n%s", args, err, b)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var root xnode
			if err := xml.Unmarshal(data, &root); err != nil {
				t.Fatal(err)
			}
			want := map[string][5]float64{}
			var walk func(n *xnode)
			walk = func(n *xnode) {
				if n.XMLName.Local == "basic-event" && n.attr("MIF") != "" {
					var v [5]float64
					for i, a := range []string{"MIF", "CIF", "DIF", "RAW", "RRW"} {
						v[i], _ = strconv.ParseFloat(n.attr(a), 64)
					}
					want[n.attr("name")] = v
				}
				for i := range n.Nodes {
					walk(&n.Nodes[i])
				}
			}
			walk(&root)
			imps, err := Importance(tr, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(imps) != len(want) {
				t.Errorf("%d events, SCRAM %d", len(imps), len(want))
			}
			for _, im := range imps {
				name := tr.Events[im.Event].Name
				w, ok := want[name]
				if !ok {
					t.Errorf("%s: not in SCRAM's report", name)
					continue
				}
				got := [5]float64{im.Birnbaum, im.Criticality, im.FussellVesely, im.RAW, im.RRW}
				for i := range got {
					if math.Abs(got[i]-w[i]) > 1e-5*math.Abs(w[i])+1e-300 {
						t.Errorf("%s: factor %d = %v, SCRAM %v", name, i, got[i], w[i])
					}
				}
			}
		})
	}
}
