package main

import (
	"io"
	"slices"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"1073741824", 1 << 30, true},
		{"1GiB", 1 << 30, true},
		{"256MiB", 256 << 20, true},
		{"64KiB", 64 << 10, true},
		{"0", 0, false},
		{"1GB", 0, false},
		{"2048GiB", 0, false},
		{"-1", 0, false},
	} {
		got, err := parseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseFlagsOrdersTargets(t *testing.T) {
	o, err := parseFlags([]string{"--only", "toxiproxy,direct,spof", "--conns", "1,8"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{direct, spof, toxiproxy}; !slices.Equal(o.targets, want) {
		t.Errorf("targets = %v, want %v", o.targets, want)
	}
	if want := []int{1, 8}; !slices.Equal(o.conns, want) {
		t.Errorf("conns = %v, want %v", o.conns, want)
	}
	if _, err := parseFlags([]string{"--only", "haproxy"}, io.Discard); err == nil {
		t.Error("--only haproxy: no error")
	}
}

func TestRatioIsMedianOfPerRunRatios(t *testing.T) {
	r := (&table{}).addRow("MB/s", true)
	for _, v := range [][2]float64{{100, 200}, {40, 50}, {90, 95}} {
		r.add(spof, v[0], nil)
		r.add(relay, v[1], nil)
	}
	// Per-run ratios 0.5, 0.8 and 0.95: their median is 0.8, not the
	// ratio of the medians, 90/95.
	if got, ok := r.ratioOf(ratio{spof, relay}); !ok || got != 0.8 {
		t.Errorf("spof/relay = %v, %v; want 0.8", got, ok)
	}
	r.add(relay, 0, errTest)
	if _, ok := r.ratioOf(ratio{spof, relay}); ok {
		t.Error("spof/relay with a failed relay run: got a ratio, want none")
	}
}

var errTest = testError("test")

type testError string

func (e testError) Error() string { return string(e) }

// Medians are computed from every run once the runs are in; a target
// that failed a run has none, even if a later run worked.
func TestMedians(t *testing.T) {
	res := &report{Targets: []targetStatus{{Name: spof}, {Name: relay}}}
	r := res.addTable("t").addRow("MB/s", true)
	for _, v := range []float64{3, 1, 2, 10} {
		r.add(spof, v, nil)
	}
	r.add(relay, 5, nil)
	r.add(relay, 0, errTest)
	r.add(relay, 7, nil)
	res.summarize()
	if got, ok := r.Median[spof]; !ok || got != 2.5 {
		t.Errorf("median of spof = %v, %v; want 2.5", got, ok)
	}
	if got, ok := r.Median[relay]; ok {
		t.Errorf("median of relay, which failed a run = %v, want none", got)
	}
}
