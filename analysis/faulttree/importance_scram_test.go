package faulttree_test

import (
	"encoding/xml"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/spofhq/spof/analysis/faulttree"
	"github.com/spofhq/spof/mef"
)

// TestImportanceAgainstSCRAM compares every event's importance factors
// with SCRAM's (MIF, CIF, DIF, RAW, RRW, printed to 6 significant digits)
// on SCRAM's sample trees. The cut sets and probabilities are compared in
// package mef (TestCutSetsEqualSCRAM).
func TestImportanceAgainstSCRAM(t *testing.T) {
	if _, err := exec.LookPath("scram"); err != nil {
		t.Skip("scram is not on PATH (apt-get install scram; make test does): the comparison with SCRAM is skipped")
	}
	for _, c := range []struct {
		name  string
		files []string
	}{
		{"Chinese", []string{"Chinese/chinese.xml", "Chinese/chinese-basic-events.xml"}},
		{"Baobab1", []string{"Baobab/baobab1.xml", "Baobab/baobab1-basic-events.xml"}},
		{"Baobab2", []string{"Baobab/baobab2.xml", "Baobab/baobab2-basic-events.xml"}},
		{"HIPPS", []string{"HIPPS/HIPPS.xml"}},
		{"Theatre", []string{"Theatre/theatre.xml"}},
		{"Lift", []string{"Lift/lift.xml"}},
		{"TwoTrain", []string{"TwoTrain/two_train.xml"}},
		{"ne574", []string{"ne574/ne574.xml"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var paths []string
			for _, f := range c.files {
				paths = append(paths, filepath.Join("/usr/share/scram/input", f))
			}
			trees, err := mef.ReadFiles(paths...)
			if err != nil {
				t.Fatal(err)
			}
			tr := trees[0]
			out := filepath.Join(t.TempDir(), "report.xml")
			args := append([]string{"--importance", "true", "-o", out}, paths...)
			if b, err := exec.Command("scram", args...).CombinedOutput(); err != nil {
				t.Fatalf("scram %v: %v\n%s", args, err, b)
			}
			want := scramImportance(t, out)
			imps, err := faulttree.Importance(tr, faulttree.Options{})
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
				for i, factor := range []string{"MIF", "CIF", "DIF", "RAW", "RRW"} {
					if math.Abs(got[i]-w[i]) > 1e-5*math.Abs(w[i])+1e-300 {
						t.Errorf("%s: %s = %v, SCRAM %v", name, factor, got[i], w[i])
					}
				}
			}
		})
	}
}

// scramImportance reads the importance factors of each basic event from a
// SCRAM report.
func scramImportance(t *testing.T, file string) map[string][5]float64 {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][5]float64{}
	dec := xml.NewDecoder(f)
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "basic-event" {
			continue
		}
		attrs := map[string]string{}
		for _, a := range se.Attr {
			attrs[a.Name.Local] = a.Value
		}
		if attrs["MIF"] == "" {
			continue
		}
		var v [5]float64
		for i, a := range []string{"MIF", "CIF", "DIF", "RAW", "RRW"} {
			v[i], _ = strconv.ParseFloat(attrs[a], 64)
		}
		out[attrs["name"]] = v
	}
	return out
}
