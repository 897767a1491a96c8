package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
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

// defaultMaxInputSize is the default of --max-input-size: far above any
// real model (100,000 components are 28 MB), far below what would run a
// machine out of memory.
const defaultMaxInputSize = 256 << 20

// errInputTooLarge is the error of readInput for a file over the limit.
var errInputTooLarge = errors.New("too large")

// readInput reads a file spof was given: a model, a baseline, a proxy
// configuration. It refuses one larger than --max-input-size, and stops
// reading a device or pipe (/dev/zero) once it has read more than that,
// rather than running out of memory. Pipes and /dev/stdin work.
func (e *env) readInput(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	limit := int64(e.maxInputSize)
	if limit <= 0 {
		limit = defaultMaxInputSize
	}
	var hint int64
	if fi.Mode().IsRegular() {
		if fi.Size() > limit {
			return nil, fmt.Errorf("%s: %w: %s, over the limit of %s (--max-input-size raises it)",
				path, errInputTooLarge, byteSize(fi.Size()), byteSize(limit))
		}
		hint = fi.Size()
	}
	data, err := readAtMost(f, hint, limit)
	if errors.Is(err, errInputTooLarge) {
		return nil, fmt.Errorf("%s: %w: more than %s and not at its end (a device or pipe that never ends?); --max-input-size raises the limit",
			path, errInputTooLarge, byteSize(limit))
	}
	return data, err
}

// readAtMost reads r to its end and fails with errInputTooLarge as soon
// as it has more than limit bytes. It reads into chunks, the first sized
// for hint bytes (a regular file's size), and joins them at the end, so
// that a pipe never costs more than twice its size, nor /dev/zero more
// than the limit.
func readAtMost(r io.Reader, hint, limit int64) ([]byte, error) {
	const minChunk, maxChunk = 64 << 10, 16 << 20
	r = io.LimitReader(r, limit+1)
	var chunks [][]byte
	total := int64(0)
	next := max(min(hint, limit)+512, minChunk)
	for {
		chunk := make([]byte, next)
		n, err := io.ReadFull(r, chunk)
		chunks = append(chunks, chunk[:n])
		total += int64(n)
		if total > limit {
			return nil, errInputTooLarge
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, err
		}
		next = min(2*next, maxChunk)
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	return bytes.Join(chunks, nil), nil
}

// byteSize is a number of bytes, and the value of a size flag: a number,
// or a number with a unit (KiB, MiB, GiB, TiB; also K, M, G, T).
type byteSize int64

var sizeUnits = []struct {
	name  string
	bytes int64
}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}

func (b byteSize) String() string {
	for _, u := range sizeUnits {
		if b >= byteSize(u.bytes) && int64(b)%u.bytes == 0 {
			return fmt.Sprintf("%d%s", int64(b)/u.bytes, u.name)
		}
	}
	if b >= 1<<20 {
		return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", int64(b))
}

func (b *byteSize) Set(s string) error {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(num, u.name); ok {
			num, mult = n, u.bytes
			break
		}
		if n, ok := strings.CutSuffix(num, u.name[:1]); ok {
			num, mult = n, u.bytes
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return fmt.Errorf("want a positive size such as 512MiB or 2GiB")
	}
	*b = byteSize(n * mult)
	return nil
}

func (b *byteSize) Type() string { return "size" }

// loadModel reads and parses a model file. A missing or invalid file is
// bad input (exit 2).
func (e *env) loadModel(path string) (*model.Model, error) {
	m, _, err := e.loadModelData(path)
	return m, err
}

// loadModelData is loadModel that also returns the file's bytes.
func (e *env) loadModelData(path string) (*model.Model, []byte, error) {
	if e.getenv("GOGC") == "" {
		// A command that loads a model runs once and exits: it lets
		// the heap grow to three times what is live (not two) before
		// collecting, which on a large model saves a tenth of the
		// run. GOGC, when set, decides instead.
		debug.SetGCPercent(200)
	}
	data, err := e.readInput(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			hint := "pass the model's path, or write a starter model with `spof init`"
			return nil, nil, usageError("%s: no such file (%s)", path, hint)
		}
		return nil, nil, usageError("reading the model: %v", err)
	}
	m, err := model.Parse(path, data)
	if err != nil {
		if model.IsInvalid(err) {
			return nil, nil, &exitError{code: ExitBadInput, err: err}
		}
		return nil, nil, usageError("%s: %v", path, err)
	}
	return m, data, nil
}

// collectLoadGarbage collects, after loading a large model, what loading
// left behind (the file, the parsers' trees), so that the analysis that
// follows starts from a heap of the model alone: the collector would
// otherwise let the heap grow to twice what it was at the end of loading
// before it looks again, which on 100,000 components is 100 MB more at the
// peak, for about 50 ms.
func collectLoadGarbage(m *model.Model) {
	if len(m.Components) >= 10000 {
		runtime.GC()
	}
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
	c.Flags().StringVarP(&o.output, "output", "o", "", "write the report to `FILE` (atomically, when a regular file) instead of standard output")
	c.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "print nothing on standard output; rely on the exit code (and --output)")
	c.Flags().BoolVar(&o.noColor, "no-color", false, "never colour the output (colour is used only on a terminal; NO_COLOR is honoured)")
}

// color reports whether to colour output written to stdout.
func (o *outputFlags) color(e *env) bool {
	return o.output == "" && !o.noColor && e.getenv("NO_COLOR") == "" && e.isTerminal(e.stdout)
}

// emit renders with render into memory, then writes the bytes to --output
// (temp file, fsync, rename; a device or pipe directly) or to stdout. A
// render error leaves no file.
func (o *outputFlags) emit(e *env, render func(w io.Writer) error) error {
	if o.quiet && o.output == "" {
		return nil // nothing would be written
	}
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
