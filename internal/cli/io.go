package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spofhq/spof/internal/atomicfile"
	"github.com/spofhq/spof/model"
	"golang.org/x/term"
)

// defaultModel is the model file used when a command is given none.
const defaultModel = "spof.yaml"

// modelArg returns the model path from the positional arguments.
func modelArg(args []string) string {
	if len(args) > 0 && args[0] != "" {
		return args[0]
	}
	return defaultModel
}

// loadModel reads and parses a model file. A missing or invalid file is
// bad input (exit 2).
func loadModel(path string) (*model.Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			hint := "pass the model's path, or write a starter model with `spof init`"
			return nil, usageError("%s: no such file (%s)", path, hint)
		}
		return nil, usageError("reading the model: %v", err)
	}
	m, err := model.Parse(path, data)
	if err != nil {
		if model.IsInvalid(err) {
			return nil, &exitError{code: ExitBadInput, err: err}
		}
		return nil, usageError("%s: %v", path, err)
	}
	return m, nil
}

// outputFlags are the flags every reporting command shares.
type outputFlags struct {
	format  string
	output  string
	quiet   bool
	noColor bool
}

func (o *outputFlags) register(c *cobra.Command, defaultFormat, formats string) {
	c.Flags().StringVarP(&o.format, "format", "f", defaultFormat, "output format: "+formats)
	c.Flags().StringVarP(&o.output, "output", "o", "", "write the report to `FILE` (atomically) instead of standard output")
	c.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "print nothing on standard output; rely on the exit code (and --output)")
	c.Flags().BoolVar(&o.noColor, "no-color", false, "never colour the output (colour is used only on a terminal; NO_COLOR is honoured)")
}

// color reports whether to colour output written to stdout.
func (o *outputFlags) color(e *env) bool {
	return o.output == "" && !o.noColor && e.getenv("NO_COLOR") == "" && e.isTerminal(e.stdout)
}

// emit renders with render into memory, then writes the bytes to --output
// (temp file, fsync, rename) or to stdout. A render error leaves no file.
func (o *outputFlags) emit(e *env, render func(w io.Writer) error) error {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return err
	}
	if o.output != "" {
		if err := atomicfile.WriteFile(o.output, buf.Bytes(), 0o644); err != nil {
			return usageError("writing %s: %v", o.output, err)
		}
		return nil
	}
	if o.quiet {
		return nil
	}
	_, err := e.stdout.Write(buf.Bytes())
	return err
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress prints msg on stderr if the work it announces is still running
// after a second, and "done" when it ends, so short runs stay quiet.
func progress(e *env, msg string) (stop func()) {
	done := make(chan struct{})
	finished := make(chan bool, 1)
	go func() {
		select {
		case <-done:
			finished <- false
		case <-time.After(time.Second):
			fmt.Fprintf(e.stderr, "spof: %s…\n", msg)
			<-done
			finished <- true
		}
	}()
	start := time.Now()
	return func() {
		close(done)
		if <-finished {
			fmt.Fprintf(e.stderr, "spof: %s: done in %s\n", msg, time.Since(start).Round(time.Millisecond))
		}
	}
}
