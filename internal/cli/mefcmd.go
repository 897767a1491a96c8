package cli

import (
	"io"

	"github.com/spf13/cobra"
	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/mef"
)

func newMEFCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "mef",
		Short: "Open-PSA Model Exchange Format: the model's fault trees for other tools",
	}
	var o outputFlags
	var flows []string
	export := &cobra.Command{
		Use:   "export [FILE]",
		Short: "Write each flow's fault tree as Open-PSA MEF XML (SCRAM and other PSA tools read it)",
		Long: `export writes the fault tree of each flow of the model (default ./spof.yaml)
as Open-PSA Model Exchange Format XML: one fault tree per flow whose top
gate is the flow down, and the basic events (component:X, instance:X/i,
zone:Z ...) in a model-data section. MEF names allow fewer characters than
spof's, so "zone:us-east-1a" is written zone_us-east-1a, with the original
name in a label. SCRAM reads the file as it is:

  spof mef export -o shop.xml && scram shop.xml

and finds the same minimal cut sets as spof cutsets.`,
		Example: `  spof mef export examples/seed-audit/spof.yaml -o seed.xml
  spof mef export examples/seed-audit/spof.yaml --flow checkout`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := e.loadModel(modelArg(args))
			if err != nil {
				return err
			}
			if err := analysis.CheckFlows(m, flows); err != nil {
				return usageError("--flow: %v", err)
			}
			trees, err := analysis.FaultTrees(m, flows)
			if err != nil {
				return err
			}
			return o.emit(e, func(w io.Writer) error { return mef.Write(w, trees...) })
		},
	}
	export.Flags().StringVarP(&o.output, "output", "o", "", "write to `FILE` (atomically) instead of standard output")
	export.Flags().StringSliceVar(&flows, "flow", nil, "only these `flows` (repeat or separate with commas)")
	c.AddCommand(export)
	return c
}
