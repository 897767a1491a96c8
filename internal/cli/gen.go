package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spofhq/spof/internal/atomicfile"
	"github.com/spofhq/spof/internal/gen"
)

type genFlags struct {
	components, zones, regions, flows, edges int
	seed                                     uint64
	output                                   string
}

func newGenCmd(e *env) *cobra.Command {
	var f genFlags
	c := &cobra.Command{
		Use:   "gen [flags]",
		Short: "Generate a synthetic model of a large microservice estate, for trying spof at scale",
		Long: `gen writes a valid, synthetic spof.yaml that looks like a large estate of
microservices: domains of about 50 components (a front service, services
with three replicas over three zones, single-replica workers, databases,
caches and queues with automatic or manual failover, external APIs), a
shared platform that about 10% of the dependencies point to, shared DNS,
load balancers, CI, config and monitoring, flows with every criticality,
people and hazards. Dependencies mix hard edges, fallbacks, async queues,
start-up/deploy/recovery edges and flow-scoped edges.

The same flags always give the same file, so a generated model is a
reproducible benchmark input. The model's description records the command.`,
		Example: `  spof gen -o estate.yaml && spof check estate.yaml
  spof gen --components 10000 -o big.yaml && spof check big.yaml --quiet
  spof gen --components 5000 --zones 6 --regions 2 --flows 20 --seed 7 | spof validate /dev/stdin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runGen(e, &f) },
	}
	fl := c.Flags()
	fl.IntVar(&f.components, "components", gen.DefaultComponents, fmt.Sprintf("generate `N` components, %d to %d", gen.MinComponents, gen.MaxComponents))
	fl.IntVar(&f.zones, "zones", gen.DefaultZones, "`N` zones (failure domains)")
	fl.IntVar(&f.regions, "regions", gen.DefaultRegions, "`N` regions, at most --zones; zones are spread over them round-robin")
	fl.IntVar(&f.flows, "flows", gen.DefaultFlows, "`N` user flows")
	fl.IntVar(&f.edges, "edges", gen.DefaultEdges, fmt.Sprintf("`N` dependencies per component on average, 1 to %d", gen.MaxEdges))
	fl.Uint64Var(&f.seed, "seed", 1, "random `seed`: the same flags and seed give the same model")
	fl.StringVarP(&f.output, "output", "o", "", "write the model to `FILE` (atomically) instead of standard output")
	return c
}

func runGen(e *env, f *genFlags) error {
	// Zero means "default" to gen.Options, so reject it here: on the
	// command line it can only be a mistake.
	for _, v := range []struct {
		flag string
		val  int
	}{{"--components", f.components}, {"--zones", f.zones}, {"--regions", f.regions}, {"--flows", f.flows}, {"--edges", f.edges}} {
		if v.val <= 0 {
			return usageError("%s %d: must be at least 1", v.flag, v.val)
		}
	}
	if f.components < gen.MinComponents {
		return usageError("--components %d: must be at least %d (one domain, a platform, DNS, load balancer, CI, config and monitoring)", f.components, gen.MinComponents)
	}
	if f.regions > f.zones {
		return usageError("--regions %d is more than --zones %d: every region needs at least one zone", f.regions, f.zones)
	}
	opts := gen.Options{Components: f.components, Zones: f.zones, Regions: f.regions, Flows: f.flows,
		EdgesPerComponent: f.edges, Seed: f.seed}
	stop := progress(e, fmt.Sprintf("generating %d components", f.components))
	m, err := gen.Generate(opts)
	if err != nil {
		stop()
		return usageError("%v", err)
	}
	data, err := gen.Encode(m)
	stop()
	if err != nil {
		return err
	}
	if f.output == "" {
		_, err := e.stdout.Write(data)
		return err
	}
	if err := atomicfile.WriteFile(f.output, data, 0o644); err != nil {
		return usageError("writing %s: %v", f.output, err)
	}
	edges := 0
	for _, c := range m.Components {
		edges += len(c.DependsOn)
	}
	fmt.Fprintf(e.stderr, "spof: wrote %s: %d components, %d dependencies, %d flows (%s)\n",
		f.output, len(m.Components), edges, len(m.Flows), opts.Command())
	return nil
}
