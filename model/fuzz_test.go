package model

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics and always returns either a
// resolved model or a non-empty, positioned ErrorList.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(Starter)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("fuzz.yaml", data)
		if err != nil {
			var list ErrorList
			if m != nil || !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("Parse returned model %v and error %#v", m, err)
			}
			for _, e := range list {
				if e.Pos.File != "fuzz.yaml" || e.Msg == "" {
					t.Fatalf("bad error %#v", e)
				}
			}
			return
		}
		checkResolved(t, m)
	})
}

// genModel writes an acyclic model of n components, each depending on up to
// four later ones, in the shapes real models use.
func genModel(n int) []byte {
	var b strings.Builder
	b.WriteString("version: 1\nsystem: generated\nzones:\n")
	for z := range 3 {
		fmt.Fprintf(&b, "  zone-%d: {region: region-%d}\n", z, z/2)
	}
	b.WriteString("components:\n")
	kinds := []Kind{KindService, KindDatabase, KindCache, KindQueue, KindExternal, KindService}
	for i := range n {
		fmt.Fprintf(&b, "  c%d:\n    kind: %s\n    replicas: %d\n    zones: [zone-%d, zone-%d]\n",
			i, kinds[i%len(kinds)], 1+i%3, i%3, (i+1)%3)
		if i+4 < n {
			fmt.Fprintf(&b, "    depends_on:\n      - c%d\n      - c%d: {fallback_to: c%d}\n", i+1, i+2, i+3)
			fmt.Fprintf(&b, "      - c%d: {breaker: {timeout: 2s, error_threshold: 50}, fallback: \"cached\"}\n", i+4)
			fmt.Fprintf(&b, "      - c%d: {when: startup}\n", i+3)
		}
	}
	b.WriteString("flows:\n")
	for f := range 10 {
		fmt.Fprintf(&b, "  flow-%d: {criticality: high, steps: [c%d, c%d]}\n", f, f, f+1)
	}
	b.WriteString("people:\n  alice: {knows: [c1, c2], holds: [registrar]}\n")
	b.WriteString("hazards:\n  batch: {breaks: [c1]}\n")
	return []byte(b.String())
}

func TestGeneratedModel(t *testing.T) {
	m := mustParse(t, "gen.yaml", genModel(1000))
	checkResolved(t, m)
	if len(m.Components) != 1000 || len(m.Component("c0").DependsOn) != 4 {
		t.Errorf("generated model has %d components", len(m.Components))
	}
}

func BenchmarkParse(b *testing.B) {
	data := genModel(10000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("bench.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
