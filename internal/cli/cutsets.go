package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime/debug"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/analysis/faulttree"
	"github.com/spofhq/spof/mef"
	"github.com/spofhq/spof/model"
)

type cutsetsFlags struct {
	outputFlags
	flows    []string
	order    int
	mefFiles []string
	method   string
	maxNodes int
	mc       int
	seed     uint64
	timeout  time.Duration
}

func newCutsetsCmd(e *env) *cobra.Command {
	var f cutsetsFlags
	c := &cobra.Command{
		Use:   "cutsets [FILE] [--flow F] [--order K] | cutsets --mef FILE.xml...",
		Short: "Minimal cut sets up to order K: the pairs and triples of events that take a flow down together",
		Long: `cutsets turns each flow of the model (default ./spof.yaml) into a fault tree
whose top event is the flow down, and lists its minimal cut sets up to
--order K (default 3): every minimal set of basic events (component:X,
instance:X/i, zone:Z, region:R, provider:P, hazard:H) that together take
the flow down. The cut sets of order 1 are spof check's SPOFs; those of
order 2 and 3 are the replicas, zones and fallbacks that share fate.

--mef reads Open-PSA Model Exchange Format files instead (several files
form one model, as SCRAM reads them: fault trees in one, basic events in
another), so the engine runs on the public benchmark trees; each top
event gets its list. With probabilities, the sets are ranked by
probability and the JSON says the exact top-event probability.

The engine is a ZBDD built bottom-up with the order cut-off (a BDD and
its minimal solutions for trees with NOT); past --max-nodes decision
diagram nodes, or --timeout for one diagram, it stops with an error that
says what to raise.`,
		Example: `  spof cutsets examples/seed-audit/spof-fixed.yaml --order 2
  spof cutsets examples/seed-audit/spof.yaml --flow checkout --format json
  spof cutsets --mef /usr/share/scram/input/Chinese/chinese.xml --mef /usr/share/scram/input/Chinese/chinese-basic-events.xml --order 4`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runCutsets(e, &f, args) },
	}
	f.register(c, "text", "text, json, markdown")
	c.Flags().StringSliceVar(&f.flows, "flow", nil, "only these `flows` (repeat or separate with commas)")
	c.Flags().IntVar(&f.order, "order", 3, "the largest cut set order `K` listed; 0: no limit")
	c.Flags().StringArrayVar(&f.mefFiles, "mef", nil, "read the fault trees from this Open-PSA MEF `FILE` (repeatable) instead of a model")
	c.Flags().StringVar(&f.method, "method", "auto", "the engine: auto, zbdd or bdd (to compare them)")
	c.Flags().IntVar(&f.maxNodes, "max-nodes", faulttree.DefaultMaxNodes, "decision diagram node budget; past it, stop with an error")
	c.Flags().DurationVar(&f.timeout, "timeout", 0, "time budget of each decision diagram; past it, stop with an error (0: none)")
	c.Flags().IntVar(&f.mc, "mc", 0, "also estimate the top probability from `N` Monte Carlo trials, a cross-check of the exact value (needs probabilities)")
	c.Flags().Uint64Var(&f.seed, "seed", 1, "the Monte Carlo generator's `seed`: the same seed gives the same estimate")
	return c
}

// cutsetsReport is the JSON of one top event (docs/json.md).
type cutsetsReport struct {
	Top          string      `json:"top"`
	OrderLimit   int         `json:"order_limit"`
	Count        int         `json:"count"`
	Distribution []int       `json:"distribution"`
	Probability  *float64    `json:"probability,omitempty"`
	MonteCarlo   *mcOut      `json:"monte_carlo,omitempty"`
	CutSets      []cutSetOut `json:"cut_sets"`
}

// mcOut is a Monte Carlo estimate of the top probability (--mc).
type mcOut struct {
	Trials int     `json:"trials"`
	Seed   uint64  `json:"seed"`
	Mean   float64 `json:"mean"`
	Low    float64 `json:"low"`  // 95% interval
	High   float64 `json:"high"` // 95% interval
}

type cutSetOut struct {
	Events      []string `json:"events"`
	Probability *float64 `json:"probability,omitempty"`
	// SharedFate names, for a set of one common-cause event (a zone,
	// region, provider or hazard), the replicas and components it takes
	// down together.
	SharedFate []string `json:"shared_fate,omitempty"`
}

func runCutsets(e *env, f *cutsetsFlags, args []string) error {
	if f.order < 0 {
		return usageError("--order %d: must be 0 (no limit) or more", f.order)
	}
	if f.mc < 0 {
		return usageError("--mc %d: must be 0 (none) or more", f.mc)
	}
	if f.timeout < 0 {
		return usageError("--timeout %v: must be 0 (none) or more", f.timeout)
	}
	if f.format != "text" && f.format != "json" && f.format != "markdown" {
		return usageError("--format %q: want text, json or markdown", f.format)
	}
	method, ok := map[string]faulttree.Method{"auto": faulttree.Auto, "zbdd": faulttree.ZBDD, "bdd": faulttree.BDD}[f.method]
	if !ok {
		return usageError("--method %q: want auto, zbdd or bdd", f.method)
	}
	engineGC(e)
	var trees []*faulttree.Tree
	var fate map[string][]string // common-cause event → what it takes (models only)
	switch {
	case len(f.mefFiles) > 0 && len(args) > 0:
		return usageError("give a model FILE or --mef files, not both")
	case len(f.mefFiles) > 0:
		var files []mef.File
		for _, p := range f.mefFiles {
			data, err := e.readInput(p)
			if err != nil {
				return usageError("--mef: %v", err)
			}
			files = append(files, mef.File{Name: p, Data: data})
		}
		var err error
		if trees, err = mef.Read(files...); err != nil {
			return usageError("%v", err)
		}
	default:
		m, err := e.loadModel(modelArg(args))
		if err != nil {
			return err
		}
		if err := analysis.CheckFlows(m, f.flows); err != nil {
			return usageError("--flow: %v", err)
		}
		fate = sharedFate(m)
		if trees, err = analysis.FaultTrees(m, f.flows); err != nil {
			return err
		}
	}
	var reports []cutsetsReport
	for _, t := range trees {
		withP := allHaveP(t)
		stop := progress(e, fmt.Sprintf("cut sets of %s", t.Name))
		res, err := faulttree.CutSets(t, faulttree.CutSetOptions{Order: f.order, Method: method, MaxNodes: f.maxNodes,
			Timeout: f.timeout, WithProbability: withP})
		stop()
		if err != nil {
			return usageError("%s", engineHints.Replace(err.Error()))
		}
		top := t.Name // a flow
		if len(f.mefFiles) > 0 {
			top = t.Gates[t.Top].Name // the top gate, as SCRAM names its results
		}
		rep := cutsetsReport{Top: top, OrderLimit: f.order, Count: res.Count, Distribution: res.Distribution, CutSets: []cutSetOut{}}
		if rep.Distribution == nil {
			rep.Distribution = []int{}
		}
		if withP {
			p := res.Probability
			rep.Probability = &p
		}
		if f.mc > 0 {
			if !withP {
				return usageError("--mc: %s has basic events without a probability", top)
			}
			mc, err := faulttree.MonteCarlo(t, f.mc, f.seed)
			if err != nil {
				return usageError("%v", err)
			}
			rep.MonteCarlo = &mcOut{Trials: mc.Trials, Seed: f.seed, Mean: mc.Mean, Low: mc.Low, High: mc.High}
		}
		sets := res.Sets
		if !withP {
			// No probabilities to rank by: the smallest sets first.
			sets = slices.Clone(sets)
			slices.SortStableFunc(sets, func(a, b faulttree.CutSet) int { return len(a.Events) - len(b.Events) })
		}
		for _, s := range sets {
			out := cutSetOut{Events: []string{}}
			for _, ev := range s.Events {
				out.Events = append(out.Events, t.Events[ev].Name)
			}
			if withP {
				p := s.P
				out.Probability = &p
			}
			if len(out.Events) == 1 {
				out.SharedFate = fate[out.Events[0]]
			}
			rep.CutSets = append(rep.CutSets, out)
		}
		reports = append(reports, rep)
	}
	return f.emit(e, func(w io.Writer) error {
		switch f.format {
		case "json":
			enc := json.NewEncoder(w)
			if totalSets(reports) <= 1000 {
				// Indented for people; a long list compactly, which
				// encoding/json writes several times faster.
				enc.SetIndent("", "  ")
			}
			if len(reports) == 1 {
				return enc.Encode(reports[0])
			}
			return enc.Encode(reports)
		case "markdown":
			return cutsetsMarkdown(w, reports)
		}
		return cutsetsText(w, reports)
	})
}

func totalSets(reports []cutsetsReport) int {
	n := 0
	for _, r := range reports {
		n += len(r.CutSets)
	}
	return n
}

func allHaveP(t *faulttree.Tree) bool {
	for _, ev := range t.Events {
		if !ev.HasP {
			return false
		}
	}
	return len(t.Events) > 0
}

func distributionText(d []int) string {
	var parts []string
	for i, n := range d {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d of order %d", n, i+1))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func cutsetsText(w io.Writer, reports []cutsetsReport) error {
	for i, r := range reports {
		if i > 0 {
			fmt.Fprintln(w)
		}
		limit := "no order limit"
		if r.OrderLimit > 0 {
			limit = fmt.Sprintf("up to order %d", r.OrderLimit)
		}
		fmt.Fprintf(w, "%s: %s (%s): %s\n", r.Top, countOf(r.Count, "minimal cut set", "minimal cut sets"), limit, distributionText(r.Distribution))
		if r.Probability != nil {
			fmt.Fprintf(w, "  top event probability %.6g\n", *r.Probability)
		}
		if mc := r.MonteCarlo; mc != nil {
			fmt.Fprintf(w, "  Monte Carlo, %d trials (seed %d): %.6g, 95%% interval %.6g to %.6g\n", mc.Trials, mc.Seed, mc.Mean, mc.Low, mc.High)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for j, s := range r.CutSets {
			if j == 200 {
				fmt.Fprintf(tw, "  … and %d more (--format json lists every one)\n", len(r.CutSets)-j)
				break
			}
			line := fmt.Sprintf("  %d\t%s", len(s.Events), strings.Join(s.Events, " + "))
			if s.Probability != nil {
				line += fmt.Sprintf("\t%.4g", *s.Probability)
			}
			if len(s.SharedFate) > 1 {
				// On the set's own line: a line of other cells would
				// break the columns.
				line += "\tthese fail together: " + strings.Join(s.SharedFate, ", ")
			}
			fmt.Fprintln(tw, line)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func cutsetsMarkdown(w io.Writer, reports []cutsetsReport) error {
	for _, r := range reports {
		fmt.Fprintf(w, "## %s\n\n%s: %s\n\n", r.Top, countOf(r.Count, "minimal cut set", "minimal cut sets"), distributionText(r.Distribution))
		if r.Probability != nil && !math.IsNaN(*r.Probability) {
			fmt.Fprintf(w, "Top event probability: %.6g\n\n", *r.Probability)
		}
		fmt.Fprintln(w, "| order | events |")
		fmt.Fprintln(w, "|---:|---|")
		for j, s := range r.CutSets {
			if j == 200 {
				fmt.Fprintf(w, "| | … and %d more |\n", len(r.CutSets)-j)
				break
			}
			fmt.Fprintf(w, "| %d | %s |\n", len(s.Events), strings.Join(s.Events, " + "))
		}
		fmt.Fprintln(w)
	}
	return nil
}

// sharedFate maps each common-cause event of a model (zone, region,
// provider, hazard) to the replicas (X/i) and components it takes down
// together: what a cut set of that one event means.
func sharedFate(m *model.Model) map[string][]string {
	out := map[string][]string{}
	for _, c := range m.Components {
		for i := range max(c.Replicas, 1) {
			name := c.Name
			if c.Replicas > 1 {
				name = fmt.Sprintf("%s/%d", c.Name, i)
			}
			if z := c.ReplicaZone(i); z != "" {
				out["zone:"+z] = append(out["zone:"+z], name)
				if zz := m.Zone(z); zz != nil && zz.Region != "" {
					out["region:"+zz.Region] = append(out["region:"+zz.Region], name)
				}
			}
			if c.Provider != "" {
				out["provider:"+c.Provider] = append(out["provider:"+c.Provider], name)
			}
		}
	}
	for _, h := range m.Hazards {
		out["hazard:"+h.Name] = append(out["hazard:"+h.Name], h.Breaks...)
	}
	return out
}

// engineHints names the flags in the engine's budget errors and notes,
// which speak of its options.
var engineHints = strings.NewReplacer(
	"raise MaxNodes", "raise --max-nodes",
	"raise the timeout", "raise --timeout",
	", or raise MaxSets", "",
	"use EstimateProbability for bounds", "use spof availability, which falls back to bounds",
	"give a lower order limit", "give a lower --order",
)

// engineGC tunes the collector for the decision-diagram engine. Diagrams
// are many small nodes, built once and kept: collecting as often as the
// default does costs a third of a run, so the heap may grow to five times
// what is live. A diagram given up for being over budget is garbage,
// though, and five times that is gigabytes: a soft limit of 1 GiB makes
// the collector work harder only when the heap nears it. GOGC and
// GOMEMLIMIT, when set, decide instead.
func engineGC(e *env) {
	if e.getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if e.getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}
}
