package traces

import (
	"context"
	"runtime"
	"testing"

	"github.com/spofhq/spof/importer"
)

// BenchmarkImportOTLP streams b.N spans of OTLP JSON lines (a shop's
// checkouts, ten spans a trace, a thousand a line) through the importer.
func BenchmarkImportOTLP(b *testing.B) {
	stream := newSpanStream(b.N)
	b.SetBytes(int64(len(stream.template)+1) / int64(stream.perLine))
	b.ReportAllocs()
	b.ResetTimer()
	c := newCollector(withDefaults(Options{}))
	if err := c.read(context.Background(), "bench.jsonl", stream); err != nil {
		b.Fatal(err)
	}
	c.flush()
	b.StopTimer()
	if c.spans < uint64(b.N) || len(c.edges) != 5 {
		b.Fatalf("read %d spans, %d edges", c.spans, len(c.edges))
	}
	b.ReportMetric(float64(c.spans)/b.Elapsed().Seconds(), "spans/s")
}

// TestMemoryFlat reads 100k spans, then 1M, and checks that the heap in
// use at the end of reading (window full, before the final flush) does
// not grow with the number of spans.
func TestMemoryFlat(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("reads a million spans (run without -race or -short)")
	}
	heap := func(spans int) uint64 {
		c := newCollector(withDefaults(Options{}))
		if err := c.read(context.Background(), "gen.jsonl", newSpanStream(spans)); err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		if c.open > c.opts.MaxOpenSpans {
			t.Fatalf("%d spans open, window is %d", c.open, c.opts.MaxOpenSpans)
		}
		c.flush()
		b := importer.NewBuilder("shop")
		if err := c.emit(b); err != nil {
			t.Fatal(err)
		}
		return m.HeapInuse
	}
	small, large := heap(100_000), heap(1_000_000)
	t.Logf("heap in use: %d MiB after 100k spans, %d MiB after 1M", small>>20, large>>20)
	if large > small*3/2+16<<20 {
		t.Errorf("heap grew from %d MiB (100k spans) to %d MiB (1M spans)", small>>20, large>>20)
	}
}
