package cli

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestPanicIsInternalError: a panic in a command is exit 70 with
// "spof: internal error" and the stack on stderr, never exit 2 (bad
// input) nor a crash of the process.
func TestPanicIsInternalError(t *testing.T) {
	for name, boom := range map[string]func(){
		"panic":       func() { panic("boom") },
		"nil pointer": func() { var m map[string]*int; _ = *m["x"] },
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			root := newRoot(&env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }, isTerminal: func(io.Writer) bool { return false }})
			root.AddCommand(&cobra.Command{Use: "crash", Hidden: true, RunE: func(*cobra.Command, []string) error {
				boom()
				return nil
			}})
			code := execute(root, []string{"crash"}, &stdout, &stderr)
			if code != ExitInternal || ExitInternal != 70 {
				t.Errorf("exit %d, want 70", code)
			}
			got := stderr.String()
			first, _, _ := strings.Cut(got, "\n")
			if !strings.HasPrefix(first, "spof: internal error: ") || (name == "panic" && first != "spof: internal error: boom") {
				t.Errorf("first line of stderr %q, want spof: internal error: and the panic's value", first)
			}
			for _, want := range []string{"goroutine ", "TestPanicIsInternalError", "execute_test.go:", "spof: this is a bug in spof"} {
				if !strings.Contains(got, want) {
					t.Errorf("stderr lacks %q (the stack):\n%s", want, got)
				}
			}
		})
	}
}

// TestHelpNamesExitInternal: the root --help lists exit 70.
func TestHelpNamesExitInternal(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"--help"}, &stdout, &stderr); code != ExitOK {
		t.Fatalf("spof --help: exit %d", code)
	}
	if !strings.Contains(strings.Join(strings.Fields(stdout.String()), " "), "70 an internal error (a bug in spof") {
		t.Errorf("spof --help does not document exit 70:\n%s", stdout.String())
	}
}
