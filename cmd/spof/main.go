// Command spof finds the single points of failure of a system from a model
// of it (spof.yaml), explains each one and tells how to fix it.
package main

import (
	"os"

	"github.com/spofhq/spof/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
