// Package paymentsapp is command shop-payments, the demo shop's payment API:
// a fake, but real HTTP, stand-in for a card processor. POST /charges with
// {"order_id": N, "amount_cents": N} answers {"charge_id": "ch_N", "status":
// "succeeded"}. A charge is idempotent per order, as card processors'
// idempotency keys make it: charging an order again (a retry after a timeout
// whose charge did go through) answers the first charge. It keeps its
// charges in memory.
package paymentsapp

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/spofhq/spof/examples/shop/internal/serve"
)

// Main runs shop-payments as its command does: arguments from os.Args, until
// SIGINT or SIGTERM; it exits 1 on an error.
func Main() { serve.Main("shop-payments", run) }

type chargeRequest struct {
	OrderID     int64 `json:"order_id"`
	AmountCents int64 `json:"amount_cents"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("shop-payments", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8081", "serve HTTP on `host:port` (port 0: any free port)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("program", "shop-payments")
	var (
		mu      sync.Mutex
		charges = map[int64]string{} // order → charge
	)

	mux := http.NewServeMux()
	mux.HandleFunc("POST /charges", func(w http.ResponseWriter, r *http.Request) {
		var req chargeRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
			serve.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "reading the charge: " + err.Error()})
			return
		}
		if req.OrderID <= 0 || req.AmountCents <= 0 {
			serve.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "order_id and amount_cents must be positive"})
			return
		}
		mu.Lock()
		id, again := charges[req.OrderID]
		if !again {
			id = fmt.Sprintf("ch_%d", len(charges)+1)
			charges[req.OrderID] = id
		}
		mu.Unlock()
		if again {
			log.Info("charged already", "order_id", req.OrderID, "charge_id", id)
		} else {
			log.Info("charged", "order_id", req.OrderID, "amount_cents", req.AmountCents, "charge_id", id)
		}
		serve.WriteJSON(w, http.StatusOK, map[string]any{"charge_id": id, "status": "succeeded"})
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	return serve.HTTP(ctx, log, "shop-payments", *listen, mux, stdout)
}
