// Command proxybench compares, side by side in one run and on loopback
// only, TCP through five targets: direct (no proxy), a bare relay (two
// io.Copy, that is splice(2), in a child process), spof proxy, Toxiproxy
// v2.12.0, and spof proxy with a 0 ms latency toxic on both streams; and
// on demand spof proxy and Toxiproxy with a 1, 10 or 50 ms latency toxic
// on both streams (spof+lat10, toxiproxy+lat10, ...). It
// measures bulk throughput to a sink and 64-byte ping-pong at several
// concurrencies, and prints one table per figure with ratios between
// targets.
//
// Run it from bench/ (bench/proxy.sh does):
//
//	go run ./cmd/proxybench [--bulk-bytes 1GiB] [--duration 3s] [--conns 1,16,256]
//	    [--only direct,relay,spof,toxiproxy,spof+lat0] [--runs 1] [--json FILE]
//	go run ./cmd/proxybench --only spof+lat1,toxiproxy+lat1,spof+lat10,toxiproxy+lat10,spof+lat50,toxiproxy+lat50
//
// It builds spof and Toxiproxy with go build from the bench module, whose
// go.mod pins Toxiproxy and points at the spof checkout above it. Every
// load is bounded by bytes or time, and every child process is killed on
// exit, error or Ctrl-C.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == relayArg {
		if err := runRelay(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "proxybench:", err)
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	bulkBytes uint64
	duration  time.Duration
	conns     []int
	targets   []string
	runs      int
	jsonPath  string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("proxybench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bulk := fs.String("bulk-bytes", "1GiB", "bytes per bulk transfer (suffixes KiB, MiB, GiB)")
	duration := fs.Duration("duration", 3*time.Second, "measured time per ping-pong cell, after a 300ms warm-up")
	conns := fs.String("conns", "1,16,256", "ping-pong concurrent connections, comma-separated")
	only := fs.String("only", strings.Join(defaultTargets, ","), "targets to measure, comma-separated, among "+strings.Join(allTargets, ","))
	runs := fs.Int("runs", 1, "measure every cell this many times, targets interleaved, and report the median")
	jsonPath := fs.String("json", "", "also write the results as JSON to this file (- for standard output, instead of the tables)")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	o := options{duration: *duration, runs: *runs, jsonPath: *jsonPath}
	var err error
	if o.bulkBytes, err = parseSize(*bulk); err != nil {
		return o, fmt.Errorf("--bulk-bytes: %w", err)
	}
	if o.duration <= 0 {
		return o, fmt.Errorf("--duration: %v is not positive", o.duration)
	}
	if o.runs < 1 {
		return o, fmt.Errorf("--runs: %d is not positive", o.runs)
	}
	for f := range strings.SplitSeq(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 10000 {
			return o, fmt.Errorf("--conns: %q is not a number of connections between 1 and 10000", f)
		}
		o.conns = append(o.conns, n)
	}
	for f := range strings.SplitSeq(*only, ",") {
		f = strings.TrimSpace(f)
		if !slices.Contains(allTargets, f) {
			return o, fmt.Errorf("--only: unknown target %q (targets: %s)", f, strings.Join(allTargets, ", "))
		}
		if !slices.Contains(o.targets, f) {
			o.targets = append(o.targets, f)
		}
	}
	// Columns always come in the same order, whatever --only's.
	slices.SortFunc(o.targets, func(a, b string) int {
		return slices.Index(allTargets, a) - slices.Index(allTargets, b)
	})
	return o, nil
}

// parseSize reads a byte count such as 1073741824, 512MiB or 1GiB.
func parseSize(s string) (uint64, error) {
	mult := uint64(1)
	num := s
	for _, u := range []struct {
		suffix string
		mult   uint64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if strings.HasSuffix(s, u.suffix) {
			num, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseUint(strings.TrimSpace(num), 10, 64)
	if err != nil || n == 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("%q is not a byte count between 1 and 1TiB (e.g. 1073741824, 512MiB, 1GiB)", s)
	}
	return n * mult, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(o.targets, func(t string) bool { return t != direct && t != relay }) {
		if err := checkModule(ctx); err != nil {
			return err
		}
	}

	up, err := startUpstream()
	if err != nil {
		return err
	}
	defer up.Close()

	dir, err := os.MkdirTemp("", "proxybench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Fprintln(stderr, "starting targets (building spof and Toxiproxy)...")
	targets := setupTargets(ctx, o.targets, up.Addr(), dir)
	defer func() {
		for _, t := range targets {
			t.stop()
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}

	res := measureAll(ctx, o, targets, stderr)
	if err := ctx.Err(); err != nil {
		return err
	}
	res.Runs = o.runs
	res.summarize()
	res.Machine = describeMachine()
	res.Command = "go run ./cmd/proxybench " + strings.Join(args, " ")
	res.Notes = checkTargets(targets)

	if o.jsonPath != "-" {
		printReport(stdout, res)
	}
	if o.jsonPath != "" {
		data, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		data = append(data, '\n')
		if o.jsonPath == "-" {
			_, err = stdout.Write(data)
		} else {
			err = os.WriteFile(o.jsonPath, data, 0o644)
		}
		if err != nil {
			return fmt.Errorf("writing the JSON results: %w", err)
		}
	}
	return nil
}

// measureAll measures every figure for every ready target, o.runs times,
// the targets interleaved so that drift in the machine's load spreads
// over all of them. Progress goes to progress.
func measureAll(ctx context.Context, o options, targets []*target, progress io.Writer) *report {
	res := &report{}
	for _, t := range targets {
		ts := targetStatus{Name: t.Name, Addr: t.Addr, Version: t.Version}
		if t.Err != nil {
			ts.Error = t.Err.Error()
		}
		res.Targets = append(res.Targets, ts)
	}

	bulk := res.addTable(fmt.Sprintf("Bulk throughput: %s client → target → sink, one connection, MB/s (higher is better)", sizeString(o.bulkBytes)))
	bulkRow := bulk.addRow("MB/s", true)
	bulkCPU := bulk.addRow("CPU ms/GB", false)
	type ppRows struct{ rate, p50, p99, cpu *row }
	pp := res.addTable(fmt.Sprintf("Ping-pong: %d-byte request and response, %v per cell; requests/s (higher is better), round trip µs (lower is better)", messageSize, o.duration))
	var rows []ppRows
	for _, c := range o.conns {
		conns := connsLabel(c)
		rows = append(rows, ppRows{
			rate: pp.addRow(conns+" req/s", true),
			p50:  pp.addRow(conns+" p50 µs", false),
			p99:  pp.addRow(conns+" p99 µs", false),
			cpu:  pp.addRow(conns+" CPU µs/req", false),
		})
	}

	for run := 1; run <= o.runs; run++ {
		for _, t := range targets {
			if t.Err != nil || ctx.Err() != nil {
				continue
			}
			cpu := t.startCPU()
			v, err := measureBulk(ctx, t.Addr, o.bulkBytes)
			bulkRow.add(t.Name, v, err)
			cpu.per(bulkCPU, err, float64(o.bulkBytes)/1e9, time.Millisecond)
			fmt.Fprintf(progress, "run %d/%d  %-10s %-10s %s\n", run, o.runs, "bulk", t.Name, formatOrError(v, "%.0f MB/s", err))
		}
		for i, c := range o.conns {
			for _, t := range targets {
				if t.Err != nil || ctx.Err() != nil {
					continue
				}
				cpu := t.startCPU()
				r, err := measurePingPong(ctx, t.Addr, c, o.duration)
				rows[i].rate.add(t.Name, r.RequestsPerSec, err)
				rows[i].p50.add(t.Name, micros(r.P50), err)
				rows[i].p99.add(t.Name, micros(r.P99), err)
				cpu.per(rows[i].cpu, err, float64(r.All), time.Microsecond)
				fmt.Fprintf(progress, "run %d/%d  %-10s %-10s %s\n", run, o.runs, connsLabel(c), t.Name,
					formatOrError(r.RequestsPerSec, fmt.Sprintf("%%.0f req/s  p50 %.1f µs  p99 %.1f µs", micros(r.P50), micros(r.P99)), err))
			}
		}
	}
	return res
}

// A cpuMeter measures the CPU time a target's process uses for one cell.
type cpuMeter struct {
	t     *target
	start time.Duration
	err   error
}

// startCPU starts measuring t's CPU time; direct, which has no process
// of its own, has none.
func (t *target) startCPU() cpuMeter {
	m := cpuMeter{t: t}
	if t.child != nil {
		m.start, m.err = t.child.cpuTime()
	}
	return m
}

// per adds to r the CPU time used since startCPU, in unit, per one of
// units (bytes in GB, requests), unless the cell failed with cellErr.
func (m cpuMeter) per(r *row, cellErr error, units float64, unit time.Duration) {
	if m.t.child == nil || cellErr != nil {
		return
	}
	end, err := m.t.child.cpuTime()
	if err = cmp.Or(m.err, err); err != nil || units <= 0 {
		r.add(m.t.Name, 0, cmp.Or(err, errors.New("nothing measured")))
		return
	}
	r.add(m.t.Name, float64(end-m.start)/float64(unit)/units, nil)
}

func connsLabel(n int) string {
	if n == 1 {
		return "1 conn"
	}
	return fmt.Sprintf("%d conns", n)
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func formatOrError(v float64, format string, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprintf(format, v)
}

func sizeString(n uint64) string {
	switch {
	case n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
