package cli

import "github.com/spf13/cobra"

// newGenCmd is a placeholder until the generator lands.
func newGenCmd(e *env) *cobra.Command {
	return &cobra.Command{Use: "gen", Short: "Generate a synthetic model", Hidden: true}
}
