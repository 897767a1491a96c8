// Package shopapp is command shop, the demo web shop that spof's chaos
// experiments run against (examples/shop/README.md). It serves four flows:
//
//	POST /login     a session in Redis; PostgreSQL when Redis is down
//	GET  /browse    the catalogue, rate limited in Redis (fails open)
//	POST /checkout  an order in PostgreSQL, charged through the payment API
//	                ("accept now, charge later" when it is down), and an
//	                e-mail queued in an outbox table
//	POST /submit    a data submission stored in PostgreSQL
//
// Each flow also answers GET, as the probe form that spof chaos uses: the
// same code path, for the user "probe". A response served through a
// fallback carries X-Degraded naming it (sessions, ratelimit, payments).
// GET /healthz says the process is alive and depends on nothing.
//
// Every dependency's address is a flag, so that spof's fault proxy can be
// put in between. The configuration service is read at start-up, and, on
// purpose, once more on every checkout: see hiddenDependency in server.go.
package shopapp

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/spofhq/spof/breaker"
	"github.com/spofhq/spof/examples/shop/internal/serve"
)

// Main runs shop as its command does: arguments from os.Args, until
// SIGINT or SIGTERM; it exits 1 on an error.
func Main() { serve.Main("shop", run) }

// settings come from the configuration service at start-up.
type settings struct {
	Currency           string `json:"currency"`
	RateLimitPerMinute int64  `json:"rate_limit_per_minute"`
	PaymentTimeoutMS   int    `json:"payment_timeout_ms"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("shop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "serve HTTP on `host:port` (port 0: any free port)")
	redisAddr := fs.String("redis", "127.0.0.1:6379", "Redis at `host:port` (sessions, rate limits)")
	redisDB := fs.Int("redis-db", 0, "the Redis database `number` to use")
	postgresURL := fs.String("postgres", "postgres://shop@127.0.0.1:5432/shop?sslmode=disable", "PostgreSQL connection `URL` (sessions fallback, orders, outbox, submissions)")
	paymentsURL := fs.String("payments", "http://127.0.0.1:8081", "payment API base `URL`")
	configURL := fs.String("config", "http://127.0.0.1:8082", "configuration service base `URL`")
	startup := fs.Duration("startup-timeout", 15*time.Second, "give up starting when the configuration service or PostgreSQL cannot be reached for this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("program", "shop")
	hc := &http.Client{Timeout: 5 * time.Second}

	startCtx, cancel := context.WithTimeout(ctx, *startup)
	defer cancel()
	cfg, err := loadSettings(startCtx, hc, *configURL)
	if err != nil {
		return err
	}
	db, err := pgxpool.New(ctx, *postgresURL)
	if err != nil {
		return fmt.Errorf("postgres %s: %w", *postgresURL, err)
	}
	defer db.Close()
	if err := migrate(startCtx, db); err != nil {
		return err
	}
	rdb := redis.NewClient(&redis.Options{
		Addr: *redisAddr,
		DB:   *redisDB,
		// Fail fast, so that the breakers see a dead Redis at once.
		DialTimeout:     300 * time.Millisecond,
		ReadTimeout:     300 * time.Millisecond,
		WriteTimeout:    300 * time.Millisecond,
		MaxRetries:      -1,
		DisableIdentity: true,
		// Redis Cloud's maintenance notifications mean nothing to a local server.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	defer rdb.Close()

	s := newShop(log, db, rdb, hc, *paymentsURL, *configURL, cfg)
	workCtx, stopWork := context.WithCancel(ctx)
	var workers sync.WaitGroup
	workers.Go(func() { s.runOutbox(workCtx, 500*time.Millisecond) })
	workers.Go(func() { s.runChargeLater(workCtx, 2*time.Second) })
	err = serve.HTTP(ctx, log, "shop", *listen, s.handler(), stdout)
	stopWork()
	workers.Wait()
	return err
}

// loadSettings reads the configuration service, trying again until ctx ends:
// the shop cannot start without it.
func loadSettings(ctx context.Context, hc *http.Client, base string) (settings, error) {
	var last error
	for {
		cfg, err := getSettings(ctx, hc, base)
		if err == nil {
			return cfg, nil
		}
		last = err
		t := time.NewTimer(200 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return settings{}, fmt.Errorf("reading the configuration at start-up: %w", last)
		case <-t.C:
		}
	}
}

func getSettings(ctx context.Context, hc *http.Client, base string) (settings, error) {
	var cfg settings
	if err := getJSON(ctx, hc, base+"/config", &cfg); err != nil {
		return cfg, err
	}
	if cfg.Currency == "" || cfg.RateLimitPerMinute <= 0 || cfg.PaymentTimeoutMS <= 0 {
		return cfg, fmt.Errorf("GET %s/config: incomplete settings %+v", base, cfg)
	}
	return cfg, nil
}

// getJSON decodes the JSON body of a 200 answer to GET url into v.
func getJSON(ctx context.Context, hc *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}

// breakers are the shop's circuit breakers, one per dependency with a
// fallback. They reopen for trials after five seconds, so that a chaos
// experiment's recovery window sees the shop heal.
func breakers(cfg settings) (sessions, rateLimit, payments *breaker.Breaker) {
	opts := breaker.Options{VolumeThreshold: 5, ResetTimeout: 5 * time.Second, Timeout: time.Second}
	sessions = breaker.New("session-redis", opts)
	rateLimit = breaker.New("ratelimit-redis", opts)
	opts.Timeout = time.Duration(cfg.PaymentTimeoutMS) * time.Millisecond
	payments = breaker.New("payments", opts)
	return sessions, rateLimit, payments
}

var errNoSession = errors.New("no such session")
