package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spofhq/spof/proxy"
	"github.com/spofhq/spof/serve"
	"github.com/spofhq/spof/store"
)

type serveFlags struct {
	models     []string
	db         string
	listen     string
	tokenFile  string
	publicRead bool
	env        string
	verbose    bool
}

func newServeCmd(e *env) *cobra.Command {
	var f serveFlags
	c := &cobra.Command{
		Use:   "serve --model FILE... [--db sqlite:PATH | --db postgres://...] [--listen 127.0.0.1:8080] [--token-file F]",
		Short: "The dashboard, JSON API, metrics and experiment scheduler, over a stored history",
		Long: `serve analyses the models (--model, watched: a change is analysed again)
and serves, on --listen:

  /                        the systems with their SPOF counts; per system its
                           findings and checklist, the dependency graph (click a
                           component for its blast radius), experiments with the
                           timeline of their probe samples, and the SPOF count
                           over time
  /api/v1/...              the same as JSON (docs/api.md, docs/openapi.yaml);
                           POST /api/v1/systems adds or updates a system
  /metrics                 Prometheus metrics; /healthz and /readyz

Every model version, analysis and experiment run is kept in the store:
SQLite by default (a file beside the first model, .spof/spof.db), or
PostgreSQL, which several spof serve replicas can share. The replica that
holds the store's lease runs the models' chaos.schedules, one experiment at
a time, in the environment --env names; a replica killed mid-run leaves the
journal, and the next leader restores its fault before anything else.

It listens on loopback unless told otherwise. Beyond loopback it needs
--token-file: every change needs that bearer token, and so do reads unless
--public-read. SIGINT or SIGTERM stop it gracefully, restoring any fault in
flight.`,
		Example: `  # live: spof serve --model examples/seed-audit/spof.yaml
  # live: spof serve --model shop.yaml --db postgres://spof@db/spof --listen 0.0.0.0:8080 --token-file /etc/spof/token --env staging`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runServe(cmd.Context(), e, &f) },
	}
	fl := c.Flags()
	fl.StringArrayVar(&f.models, "model", nil, "a model `FILE` to analyse and watch (repeatable)")
	fl.StringVar(&f.db, "db", "", "the store: sqlite:PATH or postgres://... (default: sqlite:.spof/spof.db beside the first model)")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "the `host:port` to serve on")
	fl.StringVar(&f.tokenFile, "token-file", "", "a `FILE` holding the bearer token changes (and, beyond loopback, reads) need")
	fl.BoolVar(&f.publicRead, "public-read", false, "beyond loopback, let anyone read without the token")
	fl.StringVar(&f.env, "env", "", "the environment experiments may run in: a model's schedules run only when its environment: matches")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log every change and run (default: warnings and errors)")
	return c
}

func runServe(ctx context.Context, e *env, f *serveFlags) error {
	for _, m := range f.models {
		st, err := os.Stat(m)
		if err != nil {
			return usageError("--model %s: %v", m, opErr(err))
		}
		if !st.Mode().IsRegular() {
			return usageError("--model %s: not a regular file (give a spof.yaml)", m)
		}
	}
	var token string
	if f.tokenFile != "" {
		t, err := proxy.ReadTokenFile(f.tokenFile)
		if err != nil {
			return usageError("--token-file: %v", err)
		}
		token = string(t)
	}
	dsn := f.db
	if dsn == "" {
		dir := "."
		if len(f.models) > 0 {
			dir = filepath.Dir(f.models[0])
		}
		state := filepath.Join(dir, ".spof")
		if err := os.MkdirAll(state, 0o700); err != nil {
			return usageError("the default store: %v (give --db)", opErr(err))
		}
		dsn = "sqlite:" + filepath.Join(state, "spof.db")
	}
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return usageError("--db: %v", err)
	}
	defer st.Close()
	srv, err := serve.New(serve.Config{Models: f.models, Store: st, Listen: f.listen, Token: token,
		PublicRead: f.publicRead, Env: f.env, Log: log})
	if err != nil {
		return usageError("%v", err)
	}
	if err := srv.Load(ctx); err != nil {
		return &exitError{code: ExitBadInput, err: err} // a model's errors, one a line
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return usageError("--listen %s: address already in use", f.listen)
		}
		return usageError("--listen %s: %v", f.listen, opErr(err))
	}
	fmt.Fprintf(e.stderr, "spof serve: http://%s/ (store %s)\n", ln.Addr(), redact(dsn))
	if err := srv.Run(ctx, ln); err != nil {
		return usageError("%v", err)
	}
	return nil
}

// redact hides a password in a PostgreSQL URL.
func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if c := strings.Index(rest[:at], ":"); c >= 0 {
				return dsn[:i+3] + rest[:c] + ":***" + rest[at:]
			}
		}
	}
	return dsn
}
