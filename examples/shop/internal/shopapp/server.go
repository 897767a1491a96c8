package shopapp

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/spofhq/spof/breaker"
	"github.com/spofhq/spof/examples/shop/internal/serve"
)

// sessionTTL is how long a session lives in Redis.
const sessionTTL = 24 * time.Hour

// probeUser is the user of the GET (probe) form of each flow.
const probeUser = "probe"

type shop struct {
	log         *slog.Logger
	db          *pgxpool.Pool
	rdb         *redis.Client
	hc          *http.Client
	paymentsURL string
	configURL   string
	cfg         settings

	sessions, rateLimit, payments *breaker.Breaker
}

func newShop(log *slog.Logger, db *pgxpool.Pool, rdb *redis.Client, hc *http.Client, paymentsURL, configURL string, cfg settings) *shop {
	s := &shop{log: log, db: db, rdb: rdb, hc: hc, paymentsURL: paymentsURL, configURL: configURL, cfg: cfg}
	s.sessions, s.rateLimit, s.payments = breakers(cfg)
	return s
}

func (s *shop) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("/login", s.flow(s.login))
	mux.HandleFunc("/browse", s.flow(s.browse))
	mux.HandleFunc("/checkout", s.flow(s.checkout))
	mux.HandleFunc("/submit", s.flow(s.submit))
	return mux
}

// A request is what a flow handler sees: the HTTP request, whether it is
// the probe form (GET), and the fallbacks it took, which become X-Degraded.
type request struct {
	*http.Request
	probe    bool
	degraded []string
}

// degrade records a fallback taken, once however often it is taken.
func (r *request) degrade(what string) {
	if !slices.Contains(r.degraded, what) {
		r.degraded = append(r.degraded, what)
	}
}

// httpError is an error with the status to answer it with.
type httpError struct {
	status int
	err    error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

func fail(status int, format string, args ...any) error {
	return &httpError{status, fmt.Errorf(format, args...)}
}

// flow adapts a flow handler: GET is its probe form, POST the real one; the
// answer is JSON, with X-Degraded listing the fallbacks taken.
func (s *shop) flow(h func(context.Context, *request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, hr *http.Request) {
		if hr.Method != http.MethodGet && hr.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			serve.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST, or GET for the probe form"})
			return
		}
		ctx, cancel := context.WithTimeout(hr.Context(), 10*time.Second)
		defer cancel()
		r := &request{Request: hr, probe: hr.Method == http.MethodGet}
		v, err := h(ctx, r)
		if len(r.degraded) > 0 {
			w.Header().Set("X-Degraded", strings.Join(r.degraded, ","))
		}
		if err != nil {
			status := http.StatusInternalServerError
			var he *httpError
			if errors.As(err, &he) {
				status = he.status
			}
			s.log.Warn("request failed", "path", hr.URL.Path, "status", status, "err", err)
			serve.WriteJSON(w, status, map[string]string{"error": err.Error()})
			return
		}
		serve.WriteJSON(w, http.StatusOK, v)
	}
}

// decode reads the JSON body of a POST into v.
func decode(r *request, v any) error {
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(v); err != nil {
		return fail(http.StatusBadRequest, "reading the request body: %v", err)
	}
	return nil
}

// login creates a session: in Redis, or, while Redis fails, in PostgreSQL's
// sessions table (degraded: sessions).
func (s *shop) login(ctx context.Context, r *request) (any, error) {
	in := struct {
		User string `json:"user"`
	}{User: probeUser}
	if !r.probe {
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		if in.User == "" {
			return nil, fail(http.StatusBadRequest, "missing user")
		}
	}
	id, err := s.createSession(ctx, r, in.User)
	if err != nil {
		return nil, err
	}
	return map[string]string{"session": id, "user": in.User}, nil
}

func (s *shop) createSession(ctx context.Context, r *request, user string) (string, error) {
	id := rand.Text()
	_, err := breaker.DoWithFallback(ctx, s.sessions,
		func(ctx context.Context) (struct{}, error) {
			return struct{}{}, s.rdb.Set(ctx, "session:"+id, user, sessionTTL).Err()
		},
		func(ctx context.Context, reason error) (struct{}, error) {
			r.degrade("sessions")
			s.log.Warn("sessions: redis unavailable, storing session in postgres", "reason", reason)
			return struct{}{}, insertSession(ctx, s.db, id, user)
		})
	return id, err
}

// sessionUser finds the user of the request's session (header X-Session):
// in Redis, else in PostgreSQL, where sessions created while Redis was down
// live.
func (s *shop) sessionUser(ctx context.Context, r *request) (string, error) {
	id := r.Header.Get("X-Session")
	if id == "" {
		return "", fail(http.StatusUnauthorized, "missing X-Session header (POST /login first)")
	}
	user, err := breaker.DoWithFallback(ctx, s.sessions,
		func(ctx context.Context) (string, error) {
			user, err := s.rdb.Get(ctx, "session:"+id).Result()
			if errors.Is(err, redis.Nil) {
				return "", nil // a miss is an answer, not a failure
			}
			return user, err
		},
		func(ctx context.Context, reason error) (string, error) {
			r.degrade("sessions")
			return sessionUser(ctx, s.db, id)
		})
	if err == nil && user == "" {
		user, err = sessionUser(ctx, s.db, id)
	}
	if errors.Is(err, errNoSession) {
		return "", fail(http.StatusUnauthorized, "unknown session")
	}
	return user, err
}

// allow counts the client's requests in Redis. The limiter fails open:
// while Redis fails every request is allowed (degraded: ratelimit).
func (s *shop) allow(ctx context.Context, r *request) bool {
	client, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		client = r.RemoteAddr
	}
	key := fmt.Sprintf("ratelimit:%s:%d", client, time.Now().Unix()/60)
	ok, _ := breaker.DoWithFallback(ctx, s.rateLimit,
		func(ctx context.Context) (bool, error) {
			pipe := s.rdb.TxPipeline()
			n := pipe.Incr(ctx, key)
			pipe.Expire(ctx, key, 2*time.Minute)
			if _, err := pipe.Exec(ctx); err != nil {
				return false, err
			}
			return n.Val() <= s.cfg.RateLimitPerMinute, nil
		},
		func(ctx context.Context, reason error) (bool, error) {
			r.degrade("ratelimit")
			return true, nil
		})
	return ok
}

func (s *shop) browse(ctx context.Context, r *request) (any, error) {
	if !s.allow(ctx, r) {
		return nil, fail(http.StatusTooManyRequests, "more than %d requests a minute", s.cfg.RateLimitPerMinute)
	}
	ps, err := products(ctx, s.db)
	if err != nil {
		return nil, err
	}
	return map[string]any{"currency": s.cfg.Currency, "products": ps}, nil
}

// hiddenDependency: checkout reads a feature flag from the configuration
// service on EVERY request, and fails (503) when it cannot. This is planted
// on purpose. The model (examples/shop/spof.yaml) says the shop needs the
// configuration service at start-up only, and the chaos experiment that
// takes the configuration service down must catch the difference: it
// predicts checkout up and observes it down. Do not "fix" it here; the fix
// (read the flag at start-up, or fall back to a default) belongs in the
// tour, after the experiment has found it.
func (s *shop) hiddenDependency(ctx context.Context) (expressCheckout bool, err error) {
	var flag struct {
		Enabled bool `json:"enabled"`
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := getJSON(ctx, s.hc, s.configURL+"/flags/express-checkout", &flag); err != nil {
		return false, fail(http.StatusServiceUnavailable, "checkout unavailable: reading feature flag express-checkout: %v", err)
	}
	return flag.Enabled, nil
}

func (s *shop) checkout(ctx context.Context, r *request) (any, error) {
	in := struct {
		SKU      string `json:"sku"`
		Quantity int    `json:"quantity"`
	}{SKU: "tea", Quantity: 1}
	if r.probe {
		// The probe has no session to send: it logs in on the way.
		id, err := s.createSession(ctx, r, probeUser)
		if err != nil {
			return nil, err
		}
		r.Header.Set("X-Session", id)
	} else if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.Quantity <= 0 {
		return nil, fail(http.StatusBadRequest, "quantity must be positive")
	}
	user, err := s.sessionUser(ctx, r)
	if err != nil {
		return nil, err
	}
	express, err := s.hiddenDependency(ctx)
	if err != nil {
		return nil, err
	}
	id, amount, err := createOrder(ctx, s.db, user, in.SKU, in.Quantity)
	if errors.Is(err, errNoProduct) {
		return nil, fail(http.StatusBadRequest, "%v", err)
	}
	if err != nil {
		return nil, err
	}
	// Accept the order now, charge later: while the payment API fails the
	// order waits as pending_payment for runChargeLater.
	chargeID, err := breaker.DoWithFallback(ctx, s.payments,
		func(ctx context.Context) (string, error) { return s.charge(ctx, id, amount) },
		func(ctx context.Context, reason error) (string, error) {
			r.degrade("payments")
			s.log.Warn("payments: charge failed, order accepted to be charged later", "order", id, "reason", reason)
			return "", nil
		})
	if err != nil {
		return nil, err
	}
	status := statusPaid
	if chargeID == "" {
		status = statusPendingPayment
	}
	if err := settleOrder(ctx, s.db, id, user, status, chargeID); err != nil {
		return nil, err
	}
	return map[string]any{"order_id": id, "status": status, "amount_cents": amount,
		"currency": s.cfg.Currency, "charge_id": chargeID, "express_checkout": express}, nil
}

// charge asks the payment API to charge an order and returns the charge id.
func (s *shop) charge(ctx context.Context, order, amount int64) (string, error) {
	body, _ := json.Marshal(map[string]int64{"order_id": order, "amount_cents": amount})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.paymentsURL+"/charges", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("charging order %d: %w", order, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("charging order %d: payment API answered %s", order, resp.Status)
	}
	var out struct {
		ChargeID string `json:"charge_id"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&out); err != nil || out.ChargeID == "" {
		return "", fmt.Errorf("charging order %d: unreadable answer from the payment API: %v", order, err)
	}
	return out.ChargeID, nil
}

func (s *shop) submit(ctx context.Context, r *request) (any, error) {
	body := []byte(`{"probe": true}`)
	if !r.probe {
		var err error
		if body, err = io.ReadAll(io.LimitReader(r.Body, 1<<16)); err != nil {
			return nil, fail(http.StatusBadRequest, "reading the request body: %v", err)
		}
		if !json.Valid(body) {
			return nil, fail(http.StatusBadRequest, "the body is not JSON")
		}
	}
	id, err := insertSubmission(ctx, s.db, body)
	if err != nil {
		return nil, err
	}
	return map[string]int64{"submission_id": id}, nil
}
