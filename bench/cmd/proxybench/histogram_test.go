package main

import (
	"testing"
	"time"
)

func TestBucketsAreOrderedAndTight(t *testing.T) {
	prev := -1
	for ns := uint64(0); ns < 1<<24; ns += 1 + ns/1000 {
		b := bucketOf(ns)
		if b < prev {
			t.Fatalf("bucketOf(%d) = %d, below bucketOf of a smaller value, %d", ns, b, prev)
		}
		prev = b
		// The bucket's middle is within 1/64 of the value.
		if mid := bucketMid(b); absDiff(mid, ns) > ns/64+1 {
			t.Fatalf("bucketMid(bucketOf(%d)) = %d, more than 1/64 away", ns, mid)
		}
	}
	if b := bucketOf(1 << 62); b != numBuckets-1 {
		t.Errorf("bucketOf(2^62) = %d, want the last bucket %d", b, numBuckets-1)
	}
}

func TestQuantile(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 500 * time.Microsecond},
		{0.99, 990 * time.Microsecond},
		{1, 1000 * time.Microsecond},
	} {
		got := h.quantile(tc.q)
		if d := absDiff(uint64(got), uint64(tc.want)); d > uint64(tc.want)/64 {
			t.Errorf("quantile(%v) = %v, want %v ± 1/64", tc.q, got, tc.want)
		}
	}
	var empty histogram
	if got := empty.quantile(0.5); got != 0 {
		t.Errorf("quantile of an empty histogram = %v, want 0", got)
	}
}

func absDiff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestParseCPUTime(t *testing.T) {
	// A command name with spaces and a parenthesis, as /proc shows it.
	stat := "4242 (spof (x) proxy) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 130 0 0 20 0 9 0 100 0 0"
	got, err := parseCPUTime(stat)
	if err != nil || got != 3800*time.Millisecond {
		t.Fatalf("got %v, %v; want 3.8s (380 ticks)", got, err)
	}
	if _, err := parseCPUTime("4242 (x) S 1"); err == nil {
		t.Fatal("a short line: no error")
	}
}
