// Package configapp is command shop-config, the demo shop's configuration
// service: a tiny HTTP server that answers GET /config with the shop's
// settings and GET /flags/NAME with a feature flag, both as JSON.
//
// The shop is meant to read it at start-up only (the model says
// `config: {when: startup}`); examples/shop/README.md tells of the one place
// where it does not.
package configapp

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/spofhq/spof/examples/shop/internal/serve"
)

// Main runs shop-config as its command does: arguments from os.Args, until
// SIGINT or SIGTERM; it exits 1 on an error.
func Main() { serve.Main("shop-config", run) }

// settings is what GET /config answers.
type settings struct {
	Currency           string `json:"currency"`
	RateLimitPerMinute int    `json:"rate_limit_per_minute"`
	PaymentTimeoutMS   int    `json:"payment_timeout_ms"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("shop-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8082", "serve HTTP on `host:port` (port 0: any free port)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("program", "shop-config")
	cfg := settings{Currency: "EUR", RateLimitPerMinute: 6000, PaymentTimeoutMS: 2000}
	flags := map[string]bool{"express-checkout": true}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /config", func(w http.ResponseWriter, r *http.Request) {
		serve.WriteJSON(w, http.StatusOK, cfg)
	})
	mux.HandleFunc("GET /flags/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		on, ok := flags[name]
		if !ok {
			serve.WriteJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no flag %q", name)})
			return
		}
		serve.WriteJSON(w, http.StatusOK, map[string]any{"name": name, "enabled": on})
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	return serve.HTTP(ctx, log, "shop-config", *listen, mux, stdout)
}
