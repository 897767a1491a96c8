package mef

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spofhq/spof/analysis/faulttree"
	"github.com/spofhq/spof/mef/scramreport"
)

// scramInput is where Debian's scram package puts SCRAM's sample inputs.
const scramInput = "/usr/share/scram/input"

// faultTreeInputs are SCRAM's sample fault-tree models, with what Read
// must find in them. model: gates, basic and house events the model
// defines (SCRAM's <model-features>); tree: those the top reaches.
var faultTreeInputs = []struct {
	files                 []string
	top                   string
	gates, basics, houses int
	treeGates, treeEvents int
}{
	{[]string{"Baobab/baobab1.xml", "Baobab/baobab1-basic-events.xml"}, "r1", 84, 61, 0, 84, 61},
	{[]string{"Baobab/baobab2.xml", "Baobab/baobab2-basic-events.xml"}, "r1", 40, 32, 0, 40, 32},
	{[]string{"CEA9601/CEA9601.xml", "CEA9601/CEA9601-basic-events.xml"}, "r1", 201, 186, 0, 201, 186},
	{[]string{"Chinese/chinese.xml", "Chinese/chinese-basic-events.xml"}, "r1", 36, 25, 0, 36, 25},
	{[]string{"Chinese/chinese.xml", "Chinese/high-prob.xml"}, "r1", 36, 25, 0, 36, 25},
	{[]string{"Chinese/chinese.xml", "Chinese/mcs_prob.xml"}, "r1", 36, 25, 0, 36, 25},
	{[]string{"Chinese/chinese.xml", "Chinese/mixed_mcs_prob.xml"}, "r1", 36, 25, 0, 36, 25},
	{[]string{"HIPPS/HIPPS.xml"}, "top", 5, 9, 0, 5, 9},
	{[]string{"Lift/lift.xml"}, "LiftDoor", 13, 14, 0, 13, 14},
	{[]string{"SmallTree/SmallTree.xml"}, "top", 3, 4, 0, 3, 4},
	{[]string{"Theatre/theatre.xml"}, "Theatre", 2, 3, 0, 2, 3},
	{[]string{"ThreeMotor/three_motor.xml"}, "E1", 18, 15, 3, 18, 15},
	{[]string{"TwoTrain/two_train.xml"}, "TopEvent", 3, 4, 0, 3, 4},
	{[]string{"ne574/ne574.xml"}, "System", 5, 7, 0, 5, 7},
	{[]string{"BSCU/BSCU.xml"}, "LossOfBrakingCommands", 7, 8, 0, 7, 8},
}

// unsupportedInputs are SCRAM's samples that use event trees, CCF groups,
// substitutions or alignments.
var unsupportedInputs = [][]string{
	{"EventTrees/attack.xml"},
	{"EventTrees/attack_alignment.xml"},
	{"EventTrees/bcd.xml"},
	{"EventTrees/mef_example.xml"},
	{"EventTrees/gas_leak/gas_leak.xml"},
	{"EventTrees/gas_leak/gas_leak_reactive.xml"},
	{"ThreeMotor/three_motor.xml", "ThreeMotor/event_tree.xml"},
	{"TwoTrain/two_train.xml", "TwoTrain/event_tree.xml"},
	{"TwoTrain/common_cause.xml"},
	{"TwoTrain/substitutions.xml"},
	{"TwoTrain/nondeclarative_substitutions.xml"},
	{"TwoTrain/two_train_alignment.xml"},
}

func inputPaths(t *testing.T, files []string) []string {
	t.Helper()
	if _, err := os.Stat(scramInput); err != nil {
		t.Skipf("SCRAM's sample inputs are not installed (%v): apt-get install scram", err)
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join(scramInput, f)
	}
	return paths
}

func readInputs(t *testing.T, paths []string) []File {
	t.Helper()
	var files []File
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, File{Name: p, Data: data})
	}
	return files
}

// runSCRAM runs scram on paths and parses its report; it skips the test
// when scram is not installed.
func runSCRAM(t *testing.T, args ...string) *scramreport.Report {
	t.Helper()
	bin, err := exec.LookPath("scram")
	if err != nil {
		t.Skip("scram is not on PATH: apt-get install scram (make test does) to compare with SCRAM")
	}
	out := filepath.Join(t.TempDir(), "report.xml")
	cmd := exec.Command(bin, append(args, "-o", out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scram %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := scramreport.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestReadSCRAMInputs(t *testing.T) {
	for _, c := range faultTreeInputs {
		t.Run(strings.Join(c.files, "+"), func(t *testing.T) {
			files := readInputs(t, inputPaths(t, c.files))
			m, err := load(files)
			if err != nil {
				t.Fatal(err)
			}
			if got := [3]int{len(m.gates), len(m.basics), len(m.houses)}; got != [3]int{c.gates, c.basics, c.houses} {
				t.Errorf("model defines %v gates, basic and house events, want %v", got, [3]int{c.gates, c.basics, c.houses})
			}
			trees, err := Read(files...)
			if err != nil {
				t.Fatal(err)
			}
			if len(trees) != 1 {
				t.Fatalf("%d trees, want 1", len(trees))
			}
			tr := trees[0]
			if top := tr.Gates[tr.Top].Name; top != c.top || len(tr.Gates) != c.treeGates || len(tr.Events) != c.treeEvents {
				t.Errorf("tree: top %q, %d gates, %d events; want %q, %d, %d", top, len(tr.Gates), len(tr.Events), c.top, c.treeGates, c.treeEvents)
			}
			for _, e := range tr.Events {
				if !e.HasP {
					t.Errorf("event %q has no probability", e.Name)
				}
			}
		})
	}
}

// TestReadCountsAsSCRAM checks the counts above against SCRAM's own report.
func TestReadCountsAsSCRAM(t *testing.T) {
	for _, c := range faultTreeInputs {
		t.Run(strings.Join(c.files, "+"), func(t *testing.T) {
			paths := inputPaths(t, c.files)
			m, err := load(readInputs(t, paths))
			if err != nil {
				t.Fatal(err)
			}
			rep := runSCRAM(t, append(paths, "--limit-order", "1")...)
			want := scramreport.Features{Gates: len(m.gates), BasicEvents: len(m.basics), HouseEvents: len(m.houses), FaultTrees: len(m.faultTrees)}
			if rep.Features != want {
				t.Errorf("SCRAM's model features %+v, ours %+v", rep.Features, want)
			}
			if len(rep.Results) != 1 || rep.Results[0].Name != c.top {
				t.Errorf("SCRAM's top events %+v, want one, %q", rep.Results, c.top)
			}
		})
	}
}

func TestReadUnsupportedInputs(t *testing.T) {
	for _, files := range unsupportedInputs {
		t.Run(strings.Join(files, "+"), func(t *testing.T) {
			_, err := Read(readInputs(t, inputPaths(t, files))...)
			var e *Error
			if !errors.Is(err, ErrUnsupported) || !errors.As(err, &e) || e.Line < 1 || e.Col < 1 {
				t.Fatalf("got %v, want a positioned ErrUnsupported", err)
			}
			if strings.HasPrefix(files[0], "EventTrees") && !strings.Contains(err.Error(), "event trees are not supported") && !strings.Contains(err.Error(), "define-alignment") {
				t.Errorf("error %q does not say event trees are unsupported", err)
			}
		})
	}
}

// rename passes every name through Identifier, as Write does.
func rename(trees []*faulttree.Tree) {
	for _, t := range trees {
		t.Name = Identifier(t.Name)
		for i := range t.Gates {
			t.Gates[i].Name = Identifier(t.Gates[i].Name)
		}
		for i := range t.Events {
			t.Events[i].Name = Identifier(t.Events[i].Name)
		}
		for i := range t.Houses {
			t.Houses[i].Name = Identifier(t.Houses[i].Name)
		}
	}
}

// TestWriteRoundTrip: what Write makes of a model reads back the same
// (names made identifiers: ThreeMotor's private t.E1 becomes
// ThreeMotor_t_E1), SCRAM validates it and finds the same cut sets.
func TestWriteRoundTrip(t *testing.T) {
	for _, c := range faultTreeInputs {
		t.Run(strings.Join(c.files, "+"), func(t *testing.T) {
			paths := inputPaths(t, c.files)
			trees, err := Read(readInputs(t, paths)...)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := Write(&buf, trees...); err != nil {
				t.Fatal(err)
			}
			again, err := Read(File{Name: "written.xml", Data: buf.Bytes()})
			if err != nil {
				t.Fatalf("reading what Write wrote: %v\n%s", err, buf.Bytes())
			}
			rename(trees)
			if d := cmp.Diff(trees, again); d != "" {
				t.Fatalf("round trip (-read +written and read again):\n%s", d)
			}
			if _, err := exec.LookPath("scram"); err != nil {
				t.Skip("scram is not on PATH: apt-get install scram (make test does) to check SCRAM reads what Write wrote")
			}
			written := filepath.Join(t.TempDir(), "written.xml")
			if err := os.WriteFile(written, buf.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("scram", "--validate", written).CombinedOutput(); err != nil {
				t.Fatalf("scram --validate: %v\n%s", err, out)
			}
			if strings.HasPrefix(c.files[0], "CEA9601") {
				return // SCRAM takes seconds on it at order 3 and more
			}
			want := runSCRAM(t, append(paths, "--probability", "true")...)
			got := runSCRAM(t, written, "--probability", "true")
			w, g := want.Results[0], got.Results[0]
			if g.Count != w.Count || !cmp.Equal(g.Distribution, w.Distribution) || g.Probability != w.Probability {
				t.Errorf("SCRAM on the written model: %d products %v p=%v; on the original: %d %v p=%v", g.Count, g.Distribution, g.Probability, w.Count, w.Distribution, w.Probability)
			}
		})
	}
}
