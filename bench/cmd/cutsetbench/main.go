// Command cutsetbench runs spof cutsets and SCRAM side by side on SCRAM's
// sample fault trees (Debian's scram package installs them under
// /usr/share/scram/input), checks that both find the same minimal cut
// sets (count, distribution by order, top probability), and reports the
// wall time and peak memory of each, and their ratio.
//
//	cd bench && go run ./cmd/cutsetbench [--runs 3] [--only CEA9601-4,Baobab1]
//
// spof is built from this checkout into a temporary directory.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spofhq/spof/mef/scramreport"
)

const input = "/usr/share/scram/input"

// A benchCase is one tree at one order limit (0: none).
type benchCase struct {
	name  string
	files []string
	order int
}

var cases = []benchCase{
	{"Chinese", []string{"Chinese/chinese.xml", "Chinese/chinese-basic-events.xml"}, 0},
	{"Baobab1", []string{"Baobab/baobab1.xml", "Baobab/baobab1-basic-events.xml"}, 0},
	{"Baobab2", []string{"Baobab/baobab2.xml", "Baobab/baobab2-basic-events.xml"}, 0},
	{"CEA9601-3", []string{"CEA9601/CEA9601.xml", "CEA9601/CEA9601-basic-events.xml"}, 3},
	{"CEA9601-4", []string{"CEA9601/CEA9601.xml", "CEA9601/CEA9601-basic-events.xml"}, 4},
	{"HIPPS", []string{"HIPPS/HIPPS.xml"}, 0},
	{"ThreeMotor", []string{"ThreeMotor/three_motor.xml"}, 0},
	{"BSCU", []string{"BSCU/BSCU.xml"}, 0},
}

// run is one process's outcome.
type run struct {
	wall time.Duration
	rss  int64 // peak resident set, bytes
	err  error
}

// result is what a tool found for the top event.
type result struct {
	count        int
	distribution []int
	probability  float64
}

// launchArg makes the benchmark binary run as the launcher of one
// measured process (see measure).
const launchArg = "-launch-child"

func main() {
	if len(os.Args) > 2 && os.Args[1] == launchArg {
		os.Exit(launch(os.Args[2:]))
	}
	runs := flag.Int("runs", 3, "run each case this many times (tools interleaved); report the median")
	only := flag.String("only", "", "comma-separated case names (default: all): "+caseNames())
	flag.Parse()
	if err := mainErr(*runs, *only, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cutsetbench:", err)
		os.Exit(1)
	}
}

func caseNames() string {
	var n []string
	for _, c := range cases {
		n = append(n, c.name)
	}
	return strings.Join(n, ",")
}

func mainErr(runs int, only string, out io.Writer) error {
	scram, err := exec.LookPath("scram")
	if err != nil {
		return errors.New("scram is not installed: apt-get install scram")
	}
	dir, err := os.MkdirTemp("", "cutsetbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	spof := filepath.Join(dir, "spof")
	build := exec.Command("go", "build", "-o", spof, "github.com/spofhq/spof/cmd/spof")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building spof: %w", err)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tcut sets\tsame\tspof s\tSCRAM s\tSCRAM/spof\tspof MB\tSCRAM MB\tSCRAM/spof\t")
	for _, c := range cases {
		if only != "" && !slices.Contains(strings.Split(only, ","), c.name) {
			continue
		}
		var paths []string
		for _, f := range c.files {
			paths = append(paths, filepath.Join(input, f))
		}
		var spofRuns, scramRuns []run
		var spofRes, scramRes result
		for range runs {
			r, res := runSpof(spof, dir, paths, c.order)
			spofRuns, spofRes = append(spofRuns, r), res
			r, res = runSCRAM(scram, dir, paths, c.order)
			scramRuns, scramRes = append(scramRuns, r), res
		}
		sp, sc := median(spofRuns), median(scramRuns)
		if sp.err != nil || sc.err != nil {
			fmt.Fprintf(tw, "%s\terror: spof %v, SCRAM %v\t\t\t\t\t\t\t\t\n", c.name, sp.err, sc.err)
			continue
		}
		same := "yes"
		if spofRes.count != scramRes.count || !slices.Equal(trim(spofRes.distribution), trim(scramRes.distribution)) ||
			math.Abs(spofRes.probability-scramRes.probability) > 5e-6*math.Max(spofRes.probability, scramRes.probability) {
			same = fmt.Sprintf("NO (SCRAM %d, %v, %g)", scramRes.count, scramRes.distribution, scramRes.probability)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%.3f\t%.3f\t%.1f\t%.0f\t%.0f\t%.1f\t\n", c.name, spofRes.count, same,
			sp.wall.Seconds(), sc.wall.Seconds(), sc.wall.Seconds()/sp.wall.Seconds(),
			float64(sp.rss)/1e6, float64(sc.rss)/1e6, float64(sc.rss)/float64(sp.rss))
	}
	return tw.Flush()
}

func trim(d []int) []int {
	for len(d) > 0 && d[len(d)-1] == 0 {
		d = d[:len(d)-1]
	}
	return d
}

// measure runs cmd and returns its wall time and peak RSS.
//
// The peak comes from a launcher: this binary again, which runs cmd and
// prints the maximum resident set size getrusage reports for it. Run
// directly, cmd's figure would be at least this process's own peak: Go
// starts children with vfork, sharing its memory until the exec, and
// Linux keeps the high-water mark of that memory in the child's
// accounting. The launcher is small, so its floor is a few MB.
func measure(cmd *exec.Cmd) run {
	self, err := os.Executable()
	if err != nil {
		return run{err: err}
	}
	launcher := exec.Command(self, append([]string{launchArg}, cmd.Args...)...)
	var stderr strings.Builder
	launcher.Stderr = &stderr
	start := time.Now()
	out, err := launcher.Output()
	r := run{wall: time.Since(start)}
	if err != nil {
		r.err = fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
		return r
	}
	if _, err := fmt.Sscanf(string(out), "maxrss %d", &r.rss); err != nil {
		r.err = fmt.Errorf("the launcher printed %q", out)
	}
	return r
}

// launch runs args as a child, its output to stderr, and prints its peak
// resident memory in bytes; the exit code is the child's.
func launch(args []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		fmt.Printf("maxrss %d\n", ru.Maxrss*1024) // kilobytes on Linux
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func runSpof(spof, dir string, paths []string, order int) (run, result) {
	out := filepath.Join(dir, "spof.json")
	args := []string{"cutsets", "--order", fmt.Sprint(order), "--format", "json", "-o", out}
	for _, p := range paths {
		args = append(args, "--mef", p)
	}
	r := measure(exec.Command(spof, args...))
	if r.err != nil {
		return r, result{}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		r.err = err
		return r, result{}
	}
	var rep struct {
		Count        int      `json:"count"`
		Distribution []int    `json:"distribution"`
		Probability  *float64 `json:"probability"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		r.err = fmt.Errorf("spof's JSON: %w", err)
		return r, result{}
	}
	res := result{count: rep.Count, distribution: rep.Distribution}
	if rep.Probability != nil {
		res.probability = *rep.Probability
	}
	return r, res
}

func runSCRAM(scram, dir string, paths []string, order int) (run, result) {
	out := filepath.Join(dir, "scram.xml")
	args := append(slices.Clone(paths), "--probability", "true", "-o", out)
	if order > 0 {
		args = append(args, "--limit-order", fmt.Sprint(order))
	}
	r := measure(exec.Command(scram, args...))
	if r.err != nil {
		return r, result{}
	}
	f, err := os.Open(out)
	if err != nil {
		r.err = err
		return r, result{}
	}
	defer f.Close()
	rep, err := scramreport.Parse(f)
	if err != nil || len(rep.Results) == 0 {
		r.err = fmt.Errorf("SCRAM's report: %v", err)
		return r, result{}
	}
	s := rep.Results[0]
	return r, result{count: s.Count, distribution: s.Distribution, probability: s.Probability}
}

// median is the run of median wall time (its memory with it).
func median(rs []run) run {
	for _, r := range rs {
		if r.err != nil {
			return r
		}
	}
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b run) int { return int(a.wall - b.wall) })
	return s[len(s)/2]
}
