// Command shop-demo starts the demo shop (examples/shop) on loopback, with
// every dependency behind `spof proxy`, prints where everything is, and
// stops it all on SIGINT or SIGTERM. With --check it runs every flow once
// instead, and exits 0 when each answered 200. examples/shop/run.sh (and
// `make demo`) build the programs and run it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/spofhq/spof/examples/shop/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "shop-demo:", err)
		if errors.Is(err, demo.ErrMissing) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("shop-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	binDir := fs.String("bin-dir", "", "`DIR` holding built spof, shop, shop-config and shop-payments (default: build them)")
	check := fs.Bool("check", false, "run every flow once, then stop and exit (0 when each answered 200)")
	keep := fs.Bool("keep", false, "keep the data and logs directory after stopping")
	startup := fs.Duration("startup-timeout", 2*time.Minute, "give up when the system has not started within this long")
	modelIn := fs.String("model", "examples/shop/spof.yaml", "the shop's model `FILE`, to point at this run")
	modelOut := fs.String("model-out", "examples/shop/.demo/spof.yaml", "write the model with this run's addresses to `FILE` (\"\" for none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	startCtx, cancel := context.WithTimeout(ctx, *startup)
	defer cancel()
	sys, err := demo.Start(startCtx, demo.Options{BinDir: *binDir, KeepDir: *keep})
	if err != nil {
		return fmt.Errorf("starting the demo shop: %w", err)
	}
	defer func() {
		fmt.Fprintln(stderr, "shop-demo: stopping")
		if stopErr := sys.Stop(); stopErr != nil && err == nil {
			err = fmt.Errorf("stopping the demo shop: %w", stopErr)
		}
	}()
	if *modelOut != "" {
		if err := sys.WriteModel(*modelIn, *modelOut); err != nil {
			return fmt.Errorf("writing the model for this run: %w", err)
		}
	}
	printSystem(stdout, sys, *keep, *modelOut)
	if *check {
		checkCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := sys.Smoke(checkCtx); err != nil {
			return fmt.Errorf("smoke check: %w", err)
		}
		fmt.Fprintln(stdout, "check: login, browse, checkout and submit answered 200")
		return nil
	}
	fmt.Fprintln(stdout, "Ctrl-C stops everything.")
	<-ctx.Done()
	return nil
}

func printSystem(w io.Writer, sys *demo.System, keep bool, model string) {
	fmt.Fprintf(w, "shop:        %s  (POST /login, GET /browse, POST /checkout, POST /submit; GET on each is the probe form)\n", sys.ShopURL)
	fmt.Fprintf(w, "proxy API:   %s  (spof proxy; add faults with proxy/client or curl)\n", sys.ProxyAPI)
	names := make([]string, 0, len(sys.Proxies))
	for name := range sys.Proxies {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p := sys.Proxies[name]
		fmt.Fprintf(w, "  proxy %-9s %s -> %s\n", name, p.Listen, p.Upstream)
	}
	fmt.Fprintf(w, "logs:        %s/logs", sys.Dir)
	if !keep {
		fmt.Fprint(w, " (removed on exit; --keep keeps them)")
	}
	fmt.Fprintln(w)
	if model != "" {
		fmt.Fprintf(w, "model:       %s  (spof.yaml with these addresses: spof chaos plan %s)\n", model, model)
	}
	fmt.Fprintf(w, "try:         curl -si -X POST %s/login -d '{\"user\":\"alice\"}'\n", sys.ShopURL)
	fmt.Fprintf(w, "fault:       curl -s %s/proxies/%s/toxics -d '{\"type\":\"down\",\"ttl\":\"1m\"}'\n", sys.ProxyAPI, demo.ProxyRedis)
}
