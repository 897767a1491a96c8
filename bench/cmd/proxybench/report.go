package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// A report is everything a run measured; its JSON form is the --json
// output.
type report struct {
	Command string         `json:"command"`
	Runs    int            `json:"runs"`
	Machine machine        `json:"machine"`
	Targets []targetStatus `json:"targets"`
	Tables  []*table       `json:"tables"`
	Notes   []string       `json:"notes,omitempty"`
}

type targetStatus struct {
	Name    string `json:"name"`
	Addr    string `json:"addr,omitempty"`
	Version string `json:"version,omitempty"`
	Error   string `json:"error,omitempty"`
}

// A table is one figure: rows of measures, one value per target.
type table struct {
	Title string `json:"title"`
	Rows  []*row `json:"rows"`
}

// A row is one measure for every target: each run's value, or the error
// that stopped a run.
type row struct {
	Label        string               `json:"label"`
	HigherBetter bool                 `json:"higher_is_better"`
	Runs         map[string][]float64 `json:"runs"`
	Median       map[string]float64   `json:"median"`
	// Ratios are keyed by ratio column ("spof/relay"); see ratioOf.
	Ratios map[string]float64 `json:"ratios"`
	Errors map[string]string  `json:"errors,omitempty"`
}

func (r *report) addTable(title string) *table {
	t := &table{Title: title}
	r.Tables = append(r.Tables, t)
	return t
}

func (t *table) addRow(label string, higherBetter bool) *row {
	r := &row{Label: label, HigherBetter: higherBetter, Runs: map[string][]float64{},
		Median: map[string]float64{}, Ratios: map[string]float64{}, Errors: map[string]string{}}
	t.Rows = append(t.Rows, r)
	return r
}

// add records one run's value for target, or its (first) error.
func (r *row) add(target string, v float64, err error) {
	if err != nil {
		if _, seen := r.Errors[target]; !seen {
			r.Errors[target] = err.Error()
		}
		return
	}
	r.Runs[target] = append(r.Runs[target], v)
}

// computeMedians fills Median from Runs. A target with an error in any run
// has no median: a figure from the runs that worked would hide the
// failure.
func (r *row) computeMedians() {
	for target, vs := range r.Runs {
		if _, failed := r.Errors[target]; !failed && len(vs) > 0 {
			r.Median[target] = median(vs)
		}
	}
}

func median(vs []float64) float64 {
	s := slices.Sorted(slices.Values(vs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// A ratio column divides one target's value by another's.
type ratio struct{ num, den string }

func (q ratio) String() string { return q.num + "/" + q.den }

// ratios returns the ratio columns for the targets present: each target
// relative to direct, then spof relative to the relay and to Toxiproxy,
// the 0 ms latency toxic relative to plain spof, and spof relative to
// Toxiproxy under the same latency toxic.
func ratios(targets []string) []ratio {
	has := func(n string) bool { return slices.Contains(targets, n) }
	var qs []ratio
	if has(direct) {
		for _, t := range targets {
			if t != direct {
				qs = append(qs, ratio{t, direct})
			}
		}
	}
	pairs := []ratio{{spof, relay}, {spof, toxiproxy}, {spofLat0, spof}}
	for _, ms := range latencies {
		pairs = append(pairs, ratio{spofLat(ms), toxiproxyLat(ms)})
	}
	for _, q := range pairs {
		if has(q.num) && has(q.den) {
			qs = append(qs, q)
		}
	}
	return qs
}

// ratioOf is the median, over the runs, of the ratio of q.num's value to
// q.den's in the same run. Targets are measured one after the other
// within a run, so a change in the machine's load between runs moves
// both values of a run together and the per-run ratio much less.
func (r *row) ratioOf(q ratio) (float64, bool) {
	n, d := r.Runs[q.num], r.Runs[q.den]
	if r.Errors[q.num] != "" || r.Errors[q.den] != "" || len(n) == 0 || len(n) != len(d) {
		return 0, false
	}
	rs := make([]float64, len(n))
	for i := range n {
		if d[i] <= 0 {
			return 0, false
		}
		rs[i] = n[i] / d[i]
	}
	return median(rs), true
}

// summarize fills every row's Median and Ratios for the report's targets,
// once every run is in.
func (r *report) summarize() {
	var names []string
	for _, t := range r.Targets {
		names = append(names, t.Name)
	}
	for _, t := range r.Tables {
		for _, row := range t.Rows {
			row.computeMedians()
			for _, q := range ratios(names) {
				if v, ok := row.ratioOf(q); ok {
					row.Ratios[q.String()] = v
				}
			}
		}
	}
}

// printReport writes the machine, the targets and one table per figure.
func printReport(w io.Writer, r *report) {
	m := r.Machine
	fmt.Fprintf(w, "machine: %d CPUs (GOMAXPROCS %d), %s, %s, kernel %s\n", m.CPUs, m.GOMAXPROCS, m.CPUModel, m.GoVersion, m.Kernel)
	fmt.Fprintf(w, "command: %s\n", r.Command)
	if r.Runs > 1 {
		fmt.Fprintf(w, "figures: median of %d runs; ratios: median of the %d per-run ratios\n", r.Runs, r.Runs)
	}
	var names []string
	for _, t := range r.Targets {
		names = append(names, t.Name)
		switch {
		case t.Error != "":
			fmt.Fprintf(w, "  %-10s %s\n", t.Name, firstLine(t.Error))
		case t.Version != "":
			fmt.Fprintf(w, "  %-10s %s  %s\n", t.Name, t.Addr, t.Version)
		default:
			fmt.Fprintf(w, "  %-10s %s\n", t.Name, t.Addr)
		}
	}
	qs := ratios(names)
	for _, t := range r.Tables {
		fmt.Fprintf(w, "\n%s\n", t.Title)
		printTable(w, t, r.Targets, qs)
	}
	for _, t := range r.Targets {
		if strings.Contains(t.Error, "\n") {
			fmt.Fprintf(w, "\n%s: %s\n", t.Name, t.Error)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "\nnote: %s\n", n)
	}
}

func printTable(w io.Writer, t *table, targets []targetStatus, qs []ratio) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{""}
	for _, tg := range targets {
		head = append(head, tg.Name)
	}
	for _, q := range qs {
		head = append(head, q.String())
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")

	var errs []string
	for _, r := range t.Rows {
		cells := []string{r.Label}
		for _, tg := range targets {
			v, ok := r.Median[tg.Name]
			switch {
			case tg.Error != "":
				cells = append(cells, "n/a")
			case r.Errors[tg.Name] != "":
				cells = append(cells, "error")
				errs = append(errs, fmt.Sprintf("%s, %s: %s", r.Label, tg.Name, firstLine(r.Errors[tg.Name])))
			case ok && strings.Contains(r.Label, "µs"):
				cells = append(cells, fmt.Sprintf("%.1f", v))
			case ok:
				cells = append(cells, fmt.Sprintf("%.0f", v))
			default:
				cells = append(cells, "-")
			}
		}
		for _, q := range qs {
			if v, ok := r.Ratios[q.String()]; ok {
				cells = append(cells, fmt.Sprintf("%.2f", v))
			} else {
				cells = append(cells, "-")
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	tw.Flush()
	for _, e := range errs {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
