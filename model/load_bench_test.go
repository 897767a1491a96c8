//go:build unix

package model_test

import (
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spofhq/spof/internal/gen"
	"github.com/spofhq/spof/model"
)

// loadSizes are the estates BenchmarkLoad reads: spof gen's output at 1k,
// 10k and 100k components (about 0.3, 2.8 and 28 MB of YAML).
var loadSizes = []int{1_000, 10_000, 100_000}

var genCache sync.Map // components → []byte

// genYAML returns what "spof gen --components n" writes (default flags).
func genYAML(tb testing.TB, n int) []byte {
	tb.Helper()
	if data, ok := genCache.Load(n); ok {
		return data.([]byte)
	}
	m, err := gen.Generate(gen.Options{Components: n, Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	data, err := gen.Encode(m)
	if err != nil {
		tb.Fatal(err)
	}
	genCache.Store(n, data)
	return data
}

// BenchmarkLoad measures model.Parse, the whole of loading a model once the
// file is read, on generated estates of each size.
func BenchmarkLoad(b *testing.B) {
	for _, n := range loadSizes {
		b.Run(fmt.Sprintf("components=%d", n), func(b *testing.B) {
			data := genYAML(b, n)
			runtime.GC() // not the generator's garbage
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				if _, err := model.Parse("spof.yaml", data); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start)
		})
	}
}

// cpuTime is the CPU time the process has used, GC included. Reported per
// op, it is steadier than the wall time on a machine shared with other
// work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per op since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}
