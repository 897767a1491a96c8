package main

import (
	"math/bits"
	"time"
)

// A histogram counts durations in buckets 1/64 of a power of two wide
// (1.6% resolution), exact below 128 ns, up to about 40 minutes, in a
// fixed 18 KiB: every request's latency is kept, whatever the rate,
// in bounded memory.
type histogram struct {
	counts [numBuckets]uint64
	total  uint64
}

const (
	subBits    = 6 // 64 sub-buckets per power of two
	subCount   = 1 << subBits
	maxShift   = 35
	numBuckets = (maxShift + 2) * subCount
)

func bucketOf(ns uint64) int {
	if ns < 2*subCount {
		return int(ns)
	}
	shift := bits.Len64(ns) - (subBits + 1) // ns>>shift is in [64, 128)
	if shift > maxShift {
		return numBuckets - 1
	}
	return (shift+1)*subCount + int(ns>>shift) - subCount
}

// bucketMid is the middle of bucket i, in nanoseconds.
func bucketMid(i int) uint64 {
	if i < 2*subCount {
		return uint64(i)
	}
	shift := i/subCount - 1
	low := uint64(i%subCount+subCount) << shift
	return low + (uint64(1)<<shift)/2
}

func (h *histogram) record(d time.Duration) {
	h.counts[bucketOf(uint64(max(d, 0)))]++
	h.total++
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
}

// quantile returns the duration below which a fraction q of the recorded
// durations lie (to the bucket's resolution); 0 when empty.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q * float64(h.total))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(bucketMid(i))
		}
	}
	return time.Duration(bucketMid(numBuckets - 1))
}
