package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/analysis/faulttree"
	"github.com/spofhq/spof/model"
)

type availabilityFlags struct {
	outputFlags
	flows    []string
	order    int
	top      int
	help     bool
	maxNodes int
	timeout  time.Duration
}

func newAvailabilityCmd(e *env) *cobra.Command {
	var f availabilityFlags
	c := &cobra.Command{
		Use:   "availability [FILE] [--flow F] [--what-would-help]",
		Short: "Each flow's availability and expected downtime a year, what it depends on most, and what would help",
		Long: `availability computes, for each flow of the model (default ./spof.yaml),
the probability that it is down at a random time, exactly, from the
fault tree of the flow (the one spof cutsets lists) through a BDD; and,
beside it, the rare-event approximation and the min-cut upper bound from
its minimal cut sets up to --order K. The expected downtime is that
probability times a year (8,760 hours).

Each basic event fails with its unavailability: 1 − the availability:
the model gives on the component (one replica), zone, region (regions:),
provider (providers:), or probability: on a hazard. Where the model says
nothing, a default from published SLAs applies, marked "assumed"
(docs/model.md lists each with its source).

For each flow it ranks the events by importance: Fussell–Vesely (the
share of the downtime the event takes part in), Birnbaum (how much the
flow's unavailability moves with the event), RAW (how many times worse
the flow gets with the event failed) and RRW (how many times better with
the event never failing).

--what-would-help tries single changes on the components that matter
most (one more replica, with automatic failover where the component needs
its primary; one more zone; automatic failover; a fallback on a hard
dependency) and ranks them by the downtime they save.

Past --max-nodes decision diagram nodes or --timeout per diagram, the
exact value gives way to the min-cut upper bound, with a note.`,
		Example: `  spof availability examples/seed-audit/spof.yaml
  spof availability examples/seed-audit/spof.yaml --flow checkout --what-would-help
  spof availability examples/seed-audit/spof-fixed.yaml --format json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runAvailability(e, &f, args) },
	}
	f.register(c, "text", "text, json, markdown")
	c.Flags().StringSliceVar(&f.flows, "flow", nil, "only these `flows` (repeat or separate with commas)")
	c.Flags().IntVar(&f.order, "order", 4, "the largest order `K` of the cut sets behind the bounds")
	c.Flags().IntVar(&f.top, "top", 10, "list the `N` most important events and changes per flow (text and markdown; 0: all)")
	c.Flags().BoolVar(&f.help, "what-would-help", false, "rank single changes to the model by the downtime they save")
	c.Flags().IntVar(&f.maxNodes, "max-nodes", faulttree.DefaultMaxNodes, "decision diagram node budget; past it, bounds stand in for the exact value")
	c.Flags().DurationVar(&f.timeout, "timeout", time.Minute, "time budget of each decision diagram; past it, bounds stand in for the exact value (0: none)")
	return c
}

// availabilityReport is the JSON of spof availability (docs/json.md).
type availabilityReport struct {
	System       string            `json:"system"`
	HoursPerYear int               `json:"hours_per_year"`
	Flows        []flowAvailOut    `json:"flows"`
	Assumed      []assumedEventOut `json:"assumed"`
}

type flowAvailOut struct {
	Flow           string          `json:"flow"`
	Criticality    string          `json:"criticality"`
	Availability   float64         `json:"availability"`
	Unavailability float64         `json:"unavailability"`
	Exact          bool            `json:"exact"`
	Note           string          `json:"note,omitempty"`
	DowntimeHours  float64         `json:"downtime_hours_per_year"`
	Bounds         boundsOut       `json:"bounds"`
	Importance     []importanceOut `json:"importance"`
	WhatWouldHelp  []changeOut     `json:"what_would_help,omitempty"`
}

type boundsOut struct {
	RareEvent float64 `json:"rare_event"`
	MCUB      float64 `json:"mcub"`
	Order     int     `json:"order"`
	CutSets   int     `json:"cut_sets"`
}

type importanceOut struct {
	Event          string  `json:"event"`
	Unavailability float64 `json:"unavailability"`
	Assumed        bool    `json:"assumed"`
	Birnbaum       float64 `json:"birnbaum"`
	FussellVesely  float64 `json:"fussell_vesely"`
	RAW            float64 `json:"raw"`
	RRW            float64 `json:"rrw"`
}

type changeOut struct {
	Kind           string  `json:"kind"`
	Component      string  `json:"component"`
	Target         string  `json:"target,omitempty"`
	Change         string  `json:"change"`
	Unavailability float64 `json:"unavailability"`
	Gain           float64 `json:"gain"`
	DowntimeSaved  float64 `json:"downtime_saved_hours_per_year"`
}

type assumedEventOut struct {
	Event        string  `json:"event"`
	Availability float64 `json:"availability"`
	Basis        string  `json:"basis"`
}

func runAvailability(e *env, f *availabilityFlags, args []string) error {
	switch {
	case f.order < 1:
		return usageError("--order %d: must be 1 or more", f.order)
	case f.top < 0:
		return usageError("--top %d: must be 0 (all) or more", f.top)
	case f.timeout < 0:
		return usageError("--timeout %v: must be 0 (none) or more", f.timeout)
	case f.maxNodes < 1:
		return usageError("--max-nodes %d: must be 1 or more", f.maxNodes)
	case f.format != "text" && f.format != "json" && f.format != "markdown":
		return usageError("--format %q: want text, json or markdown", f.format)
	}
	m, err := e.loadModel(modelArg(args))
	if err != nil {
		return err
	}
	if err := analysis.CheckFlows(m, f.flows); err != nil {
		return usageError("--flow: %v", err)
	}
	if len(m.Flows) == 0 {
		return usageError("%s has no flows: availability is that of a flow (add flows: with their steps)", m.File)
	}
	engineGC(e)
	names := f.flows
	if len(names) == 0 {
		for _, fl := range m.Flows {
			names = append(names, fl.Name)
		}
	}
	opts := analysis.AvailabilityOptions{Order: f.order, MaxNodes: f.maxNodes, Timeout: f.timeout, WhatWouldHelp: f.help}
	rep := availabilityReport{System: m.System, HoursPerYear: analysis.HoursPerYear, Flows: []flowAvailOut{}, Assumed: []assumedEventOut{}}
	assumed := map[string]bool{}
	what := "availability of " + names[0]
	if len(names) > 1 {
		what = fmt.Sprintf("availability of %d flows", len(names))
	}
	stop := progress(e, what)
	results, err := analysis.Availability(m, names, opts)
	stop()
	if err != nil {
		return usageError("%s", availabilityHints(err.Error()))
	}
	for _, fa := range results {
		out := flowAvailOut{
			Flow: fa.Flow, Criticality: fa.Criticality.String(),
			Availability: 1 - fa.Unavailability, Unavailability: fa.Unavailability,
			Exact: fa.Exact, Note: availabilityHints(fa.Note), DowntimeHours: fa.Unavailability * analysis.HoursPerYear,
			Bounds:     boundsOut{RareEvent: fa.RareEvent, MCUB: fa.MCUB, Order: fa.BoundOrder, CutSets: fa.BoundSets},
			Importance: []importanceOut{},
		}
		for _, im := range fa.Importance {
			out.Importance = append(out.Importance, importanceOut{Event: im.Event, Unavailability: im.Unavailability.Q,
				Assumed: im.Unavailability.Assumed, Birnbaum: im.Birnbaum, FussellVesely: im.FussellVesely, RAW: im.RAW, RRW: im.RRW})
			if im.Unavailability.Assumed && !assumed[im.Event] {
				assumed[im.Event] = true
				rep.Assumed = append(rep.Assumed, assumedEventOut{Event: im.Event, Availability: 1 - im.Unavailability.Q, Basis: im.Unavailability.Basis})
			}
		}
		if f.help {
			out.WhatWouldHelp = []changeOut{}
		}
		for _, ch := range fa.Changes {
			out.WhatWouldHelp = append(out.WhatWouldHelp, changeOut{Kind: ch.Kind, Component: ch.Component, Target: ch.Target,
				Change: ch.Description, Unavailability: ch.Unavailability, Gain: ch.Gain, DowntimeSaved: ch.Gain * analysis.HoursPerYear})
		}
		rep.Flows = append(rep.Flows, out)
	}
	return f.emit(e, func(w io.Writer) error {
		switch f.format {
		case "json":
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		case "markdown":
			return availabilityMarkdown(w, &rep, f.top)
		}
		return availabilityText(w, &rep, f.top)
	})
}

// availabilityHints names the flags in the engine's messages; availability
// itself is what falls back to bounds.
func availabilityHints(s string) string {
	return engineHints.Replace(strings.ReplaceAll(s, ", or use EstimateProbability for bounds", ""))
}

// percent writes an availability with enough decimals to show three
// significant digits of its unavailability: 99.9412%, 98.46%.
func percent(a float64) string {
	q := 1 - a
	if q <= 0 {
		return "100%"
	}
	decimals := min(max(int(math.Ceil(-math.Log10(q*100)))+2, 2), 12)
	return fmt.Sprintf("%.*f%%", decimals, a*100)
}

// share writes a fraction as a percentage with three significant digits.
func share(f float64) string {
	return model.FormatPercent(roundSig(f, 3))
}

func roundSig(f float64, digits int) float64 {
	if f == 0 {
		return 0
	}
	scale := math.Pow(10, float64(digits)-math.Ceil(math.Log10(math.Abs(f))))
	return math.Round(f*scale) / scale
}

func limitTop[T any](items []T, top int) ([]T, int) {
	if top > 0 && len(items) > top {
		return items[:top], len(items) - top
	}
	return items, 0
}

func availabilityText(w io.Writer, rep *availabilityReport, top int) error {
	fmt.Fprintf(w, "spof availability: system %s (downtime over a year of %d h)\n\n", rep.System, rep.HoursPerYear)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  flow\tcriticality\tavailability\tdowntime a year\trare event\tmin-cut bound")
	for _, fl := range rep.Flows {
		mark := ""
		if !fl.Exact {
			mark = " (bound)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s%s\t%s\t%.3g\t%.3g\n", fl.Flow, fl.Criticality, percent(fl.Availability), mark,
			analysis.Downtime(fl.DowntimeHours), fl.Bounds.RareEvent, fl.Bounds.MCUB)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, fl := range rep.Flows {
		how := "exact (BDD)"
		if !fl.Exact {
			how = "min-cut upper bound"
		}
		fmt.Fprintf(w, "\n%s (%s): unavailability %.4g, %s; rare event %.4g, min-cut upper bound %.4g from %s up to order %d\n",
			fl.Flow, fl.Criticality, fl.Unavailability, how, fl.Bounds.RareEvent, fl.Bounds.MCUB,
			countOf(fl.Bounds.CutSets, "minimal cut set", "minimal cut sets"), fl.Bounds.Order)
		if fl.Note != "" {
			fmt.Fprintf(w, "  note: %s\n", fl.Note)
		}
		rows, more := limitTop(fl.Importance, top)
		if len(rows) > 0 {
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "  event\tunavailability\tFussell-Vesely\tBirnbaum\tRAW\tRRW")
			for _, im := range rows {
				q := share(im.Unavailability)
				if im.Assumed {
					q += " (assumed)"
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%.3g\t%.3g\t%.3g\n", im.Event, q, share(im.FussellVesely), im.Birnbaum, im.RAW, im.RRW)
			}
			if more > 0 {
				fmt.Fprintf(tw, "  … and %d more events (--top 0 lists all)\n", more)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		if fl.WhatWouldHelp != nil {
			changes, more := limitTop(fl.WhatWouldHelp, top)
			if len(changes) == 0 {
				fmt.Fprintln(w, "  what would help: no single change lowers the downtime")
				continue
			}
			fmt.Fprintln(w, "  what would help (downtime saved a year → availability):")
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			for _, ch := range changes {
				fmt.Fprintf(tw, "    %s\t→ %s\t%s\n", analysis.Downtime(ch.DowntimeSaved), percent(1-ch.Unavailability), ch.Change)
			}
			if more > 0 {
				fmt.Fprintf(tw, "    … and %d more changes (--top 0 lists all)\n", more)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
	}
	if n := len(rep.Assumed); n > 0 {
		fmt.Fprintf(w, "\n%s use%s a default figure (assumed): give availability: in the model where you know better; docs/model.md lists the defaults and their sources.\n",
			countOf(n, "event", "events"), map[bool]string{true: "s", false: ""}[n == 1])
	}
	return nil
}

func availabilityMarkdown(w io.Writer, rep *availabilityReport, top int) error {
	fmt.Fprintf(w, "# Availability of %s\n\n", rep.System)
	fmt.Fprintln(w, "| flow | criticality | availability | downtime a year | rare event | min-cut bound |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|")
	for _, fl := range rep.Flows {
		a := percent(fl.Availability)
		if !fl.Exact {
			a += " (bound)"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.3g | %.3g |\n", fl.Flow, fl.Criticality, a, analysis.Downtime(fl.DowntimeHours), fl.Bounds.RareEvent, fl.Bounds.MCUB)
	}
	for _, fl := range rep.Flows {
		fmt.Fprintf(w, "\n## %s\n\n", fl.Flow)
		if fl.Note != "" {
			fmt.Fprintf(w, "Note: %s\n\n", fl.Note)
		}
		rows, _ := limitTop(fl.Importance, top)
		if len(rows) > 0 {
			fmt.Fprintln(w, "| event | unavailability | Fussell–Vesely | Birnbaum | RAW | RRW |")
			fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
			for _, im := range rows {
				q := share(im.Unavailability)
				if im.Assumed {
					q += " (assumed)"
				}
				fmt.Fprintf(w, "| %s | %s | %s | %.3g | %.3g | %.3g |\n", im.Event, q, share(im.FussellVesely), im.Birnbaum, im.RAW, im.RRW)
			}
		}
		if changes, _ := limitTop(fl.WhatWouldHelp, top); len(changes) > 0 {
			fmt.Fprintln(w, "\n| downtime saved a year | availability after | change |")
			fmt.Fprintln(w, "|---:|---:|---|")
			for _, ch := range changes {
				fmt.Fprintf(w, "| %s | %s | %s |\n", analysis.Downtime(ch.DowntimeSaved), percent(1-ch.Unavailability), ch.Change)
			}
		}
	}
	return nil
}
