package faulttree

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

// FuzzEngines draws a random tree shape from the fuzzer's bytes and checks
// every engine against the brute-force twin.
func FuzzEngines(f *testing.F) {
	f.Add(uint64(1), uint64(2), uint8(10), uint8(8), false)
	f.Add(uint64(3), uint64(4), uint8(4), uint8(12), true)
	f.Add(uint64(0), uint64(0), uint8(1), uint8(1), false)
	f.Fuzz(func(t *testing.T, s1, s2 uint64, events, gates uint8, coherent bool) {
		rng := rand.New(rand.NewPCG(s1, s2))
		tr := randomTree(rng, 1+int(events)%10, 1+int(gates)%12, coherent)
		checkAgainstReference(t, tr, coherent)
	})
}

// FuzzPreprocessing feeds arbitrary gate lists (bad indices, cycles,
// wrong arities) to the engines: they return an error or an answer that
// agrees with brute force, and never panic.
func FuzzPreprocessing(f *testing.F) {
	f.Add([]byte{0, 2, 1, 0, 1, 1, 1, 2, 0})
	f.Add([]byte{3, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := &Tree{
			Name:   "fuzz",
			Events: []Event{{"a", 0.1, true}, {"b", 0.2, true}, {"c", 0.3, true}},
			Houses: []House{{"on", true}},
		}
		// Each gate: op, k, nargs, then (kind, index) pairs.
		for len(data) >= 3 && len(tr.Gates) < 8 {
			g := Gate{Name: string(rune('g' + len(tr.Gates))), Op: Op(data[0] % 6), K: int(data[1] % 5)}
			n := int(data[2] % 5)
			data = data[3:]
			for i := 0; i < n && len(data) >= 2; i++ {
				g.Args = append(g.Args, Arg{Kind: ArgKind(data[0] % 4), Index: int32(int8(data[1]) % 9)})
				data = data[2:]
			}
			tr.Gates = append(tr.Gates, g)
		}
		if len(tr.Gates) == 0 {
			return
		}
		if len(data) >= 4 {
			tr.Top = int32(binary.LittleEndian.Uint32(data) % 10)
		}
		res, err := CutSets(tr, CutSetOptions{})
		if err != nil {
			return
		}
		if got, want := cutSetStrings(tr, res), refCutSets(tr, 0); !slices.Equal(got, want) {
			t.Fatalf("cut sets %v, brute force %v\ntree %+v", got, want, tr)
		}
		p, err := Probability(tr, Options{})
		if err != nil || !approxEqual(p, refProbability(tr, nil)) {
			t.Fatalf("Probability = %v, %v; brute force %v", p, err, refProbability(tr, nil))
		}
	})
}
