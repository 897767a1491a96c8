package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain lets the test binary stand in for the benchmark binary when
// measure runs it as the launcher.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == launchArg {
		os.Exit(launch(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// TestChineseSameAsSCRAM runs the benchmark on its smallest case, end to
// end: spof built from the checkout, SCRAM, the comparison.
func TestChineseSameAsSCRAM(t *testing.T) {
	if _, err := exec.LookPath("scram"); err != nil {
		t.Skip("scram is not installed (make test installs it)")
	}
	var out strings.Builder
	if err := mainErr(1, "Chinese", &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "Chinese") || !strings.Contains(lines[1], "  392  ") || !strings.Contains(lines[1], " yes ") {
		t.Fatalf("want one row, Chinese, 392 cut sets, the same as SCRAM:\n%s", out.String())
	}
}
