package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the test binary stand in for the benchmark binary when
// startRelay runs it as the relay child.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == relayArg {
		if err := runRelay(os.Args[2]); err != nil {
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

// TestRunDirectAndRelay runs a small benchmark end to end, with the relay
// in a child process, and checks that every cell has a figure.
func TestRunDirectAndRelay(t *testing.T) {
	out := filepath.Join(t.TempDir(), "results.json")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{
		"--only", "relay,direct", "--bulk-bytes", "4MiB", "--duration", "100ms", "--conns", "1,3", "--runs", "2", "--json", out,
	}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res report
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Tables) != 2 || len(res.Tables[0].Rows) != 2 || len(res.Tables[1].Rows) != 8 {
		t.Fatalf("tables: %+v, want bulk with 2 rows and ping-pong with 8", res.Tables)
	}
	for _, tb := range res.Tables {
		for _, r := range tb.Rows {
			if strings.Contains(r.Label, "CPU") {
				// The proxy's own CPU time: direct has no proxy, and a
				// small cell may take less than a clock tick.
				if len(r.Runs[relay]) != 2 || len(r.Runs[direct]) != 0 || len(r.Errors) > 0 {
					t.Errorf("%s: runs %v, errors %v; want 2 runs for the relay and none for direct", r.Label, r.Runs, r.Errors)
				}
				continue
			}
			for _, name := range []string{direct, relay} {
				if len(r.Runs[name]) != 2 || r.Median[name] <= 0 {
					t.Errorf("%s, %s: runs %v, median %v; want 2 runs and a positive median (errors: %v)",
						r.Label, name, r.Runs[name], r.Median[name], r.Errors)
				}
			}
			if _, ok := r.Ratios["relay/direct"]; !ok {
				t.Errorf("%s: no relay/direct ratio", r.Label)
			}
		}
	}
	if !bytes.Contains(stdout.Bytes(), []byte("relay/direct")) {
		t.Errorf("the tables have no relay/direct column:\n%s", stdout.String())
	}
}
