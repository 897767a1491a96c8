package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// A Response is the shop's answer to one request.
type Response struct {
	Status int
	// Degraded is the X-Degraded header: the fallbacks the shop took,
	// comma-separated (sessions, ratelimit, payments), or "".
	Degraded string
	Body     map[string]any
}

func (r Response) String() string {
	return fmt.Sprintf("%d degraded=%q %v", r.Status, r.Degraded, r.Body)
}

// Do sends the shop a request with body (JSON-encoded unless nil) and
// headers given as name, value pairs.
func (s *System) Do(ctx context.Context, method, path string, body any, headers ...string) (Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return Response{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.ShopURL+path, rd)
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	hc := http.Client{Timeout: 15 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	r := Response{Status: resp.StatusCode, Degraded: resp.Header.Get("X-Degraded")}
	if err := json.NewDecoder(resp.Body).Decode(&r.Body); err != nil {
		return r, fmt.Errorf("%s %s: %s, unreadable body: %w", method, path, resp.Status, err)
	}
	return r, nil
}

// Login logs user in and returns the session (empty unless the status is 200).
func (s *System) Login(ctx context.Context, user string) (string, Response, error) {
	r, err := s.Do(ctx, http.MethodPost, "/login", map[string]string{"user": user})
	session, _ := r.Body["session"].(string)
	return session, r, err
}

// Browse reads the catalogue.
func (s *System) Browse(ctx context.Context) (Response, error) {
	return s.Do(ctx, http.MethodGet, "/browse", nil)
}

// Checkout orders quantity of sku in session.
func (s *System) Checkout(ctx context.Context, session, sku string, quantity int) (Response, error) {
	return s.Do(ctx, http.MethodPost, "/checkout", map[string]any{"sku": sku, "quantity": quantity}, "X-Session", session)
}

// Submit stores a data submission.
func (s *System) Submit(ctx context.Context, data any) (Response, error) {
	return s.Do(ctx, http.MethodPost, "/submit", data)
}

// Smoke runs every flow once, as a user would, and fails unless each
// answers 200 without degradation.
func (s *System) Smoke(ctx context.Context) error {
	session, login, err := s.Login(ctx, "alice")
	if err := want("login", login, err); err != nil {
		return err
	}
	browse, err := s.Browse(ctx)
	if err := want("browse", browse, err); err != nil {
		return err
	}
	checkout, err := s.Checkout(ctx, session, "tea", 2)
	if err := want("checkout", checkout, err); err != nil {
		return err
	}
	if got := checkout.Body["status"]; got != "paid" {
		return fmt.Errorf("checkout: order status %v, want paid", got)
	}
	submit, err := s.Submit(ctx, map[string]any{"form": "newsletter", "email": "alice@example.com"})
	return want("submit", submit, err)
}

func want(flow string, r Response, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", flow, err)
	}
	if r.Status != http.StatusOK || r.Degraded != "" {
		return fmt.Errorf("%s: got %v, want 200, not degraded", flow, r)
	}
	return nil
}
