// Package cli implements the spof command line: cobra commands, flags,
// model loading, output selection and exit codes.
//
// Exit codes: 0 fine; 1 findings at or above --fail-on; 2 bad input or
// usage; 3 an experiment falsified its hypothesis; 4 a restore failed; 70
// an internal error (a panic: a bug in spof).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spofhq/spof/model"
)

// Exit codes.
const (
	ExitOK        = 0
	ExitFindings  = 1
	ExitBadInput  = 2
	ExitFalsified = 3
	ExitRestore   = 4
	// ExitInternal is sysexits' EX_SOFTWARE: spof panicked, which is a bug
	// in spof, never the input's fault (that is ExitBadInput).
	ExitInternal = 70
)

// Version is the version the binary reports; the build may override it
// with -ldflags "-X github.com/spofhq/spof/internal/cli.Version=v1.2.3".
var Version = "dev"

// exitError carries an exit code up to Main. Err may be nil when the
// command has already said everything (findings were reported).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError marks bad input: exit 2.
func usageError(format string, args ...any) error {
	return &exitError{code: ExitBadInput, err: fmt.Errorf(format, args...)}
}

// env is what a command may touch of the world; tests run Main in-process
// with their own.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	isTerminal     func(w io.Writer) bool
	maxInputSize   byteSize // --max-input-size; 0 is the default
}

// Main runs spof with args (without the program name) and returns the exit
// code.
func Main(args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: os.Getenv, isTerminal: isTerminal}
	return execute(newRoot(e), args, stdout, stderr)
}

// execute runs the command tree root with args and maps its outcome to an
// exit code. A panic in the command (on this goroutine) is an internal
// error: exit 70 with the stack on stderr, so that it is neither mistaken
// for bad input (the Go runtime's exit 2) nor lost.
func execute(root *cobra.Command, args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "spof: internal error: %v\n\n%s\n", r, debug.Stack())
			fmt.Fprintf(stderr, "spof: this is a bug in spof %s: please report it, with the command line and, if you can, the input\n", Version)
			code = ExitInternal
		}
	}()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(context.Background())
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	code = ExitBadInput // cobra's own errors are usage errors: unknown flag, bad args
	if errors.As(err, &ee) {
		code = ee.code
		err = ee.err
	}
	if err != nil {
		printError(stderr, err)
	}
	return code
}

// printError prints err, one line per model error, prefixed so the user
// knows which program speaks.
func printError(w io.Writer, err error) {
	var list model.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Fprintln(w, e.Error())
		}
		n := len(list)
		var more *model.TooManyErrors
		if errors.As(err, &more) {
			fmt.Fprintf(w, "… and %d more error%s\n", more.More, plural(more.More))
			n += more.More
		}
		fmt.Fprintf(w, "spof: %d error%s in the model\n", n, plural(n))
		return
	}
	var ie inputErrors
	if errors.As(err, &ie) {
		fmt.Fprintln(w, ie.Error())
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "spof:") {
		msg = "spof: " + msg
	}
	fmt.Fprintln(w, msg)
}

// countOf formats "1 flow" or "2 flows".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "spof",
		Short: "Find the single points of failure of a system, explain them, and prove the fallbacks work",
		Long: `spof reads a model of a system (spof.yaml: components, replicas, zones,
dependencies with their fallbacks, critical flows, people, hazards) and finds
every single point of failure of every critical flow, with the chain of
reasons and a concrete fix.

The model defaults to ./spof.yaml. Exit codes: 0 fine, 1 findings at or
above --fail-on, 2 bad input or usage (spof chaos adds 3 and 4), 70 an
internal error (a bug in spof: please report it).`,
		Example: `  spof init                                   # write a commented starter spof.yaml
  spof check                                  # SPOFs of ./spof.yaml
  spof check examples/seed-audit/spof.yaml --format markdown
  spof whatif --fail zone:zone-a              # what breaks if a zone goes
  spof explain cache                          # blast radius of one component`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		Version:           Version,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: true},
	}
	e.maxInputSize = defaultMaxInputSize
	root.PersistentFlags().Var(&e.maxInputSize, "max-input-size",
		"refuse input files (models, baselines, configurations) larger than `SIZE`, such as 512MiB or 2GiB")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("%v (see %s --help)", err, c.CommandPath())
	})
	root.AddCommand(
		newCheckCmd(e),
		newValidateCmd(e),
		newBaselineCmd(e),
		newChecklistCmd(e),
		newWhatIfCmd(e),
		newExplainCmd(e),
		newGraphCmd(e),
		newSchemaCmd(e),
		newInitCmd(e),
		newGenCmd(e),
		newProxyCmd(e),
		newChaosCmd(e),
		newImportCmd(e),
		newDriftCmd(e),
		newProbeCmd(e),
		newCutsetsCmd(e),
		newAvailabilityCmd(e),
		newServeCmd(e),
		newMEFCmd(e),
	)
	return root
}

// HelpExamples returns the command lines of every command's --help
// examples, by command name, so that tests can run them and they cannot
// rot.
func HelpExamples() map[string][]string {
	out := map[string][]string{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, line := range strings.Split(c.Example, "\n") {
			line = strings.TrimSpace(line)
			// "# live: ..." marks an example that needs the network or a
			// running system: the tests do not run it.
			if strings.HasPrefix(line, "spof ") && !strings.Contains(line, "# live:") {
				out[c.Name()] = append(out[c.Name()], line)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot(&env{}))
	return out
}
