package chaos

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestNotify(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		var msg struct{ Text string }
		if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(data, &msg) != nil {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		got = append(got, msg.Text)
	}))
	defer srv.Close()
	ctx := context.Background()
	if err := Notify(ctx, srv.URL, "shop", sampleResults()[:1]); err != nil || len(got) != 0 {
		t.Fatalf("all passed: %v, %d posts; want nothing posted", err, len(got))
	}
	if err := Notify(ctx, srv.URL, "shop", sampleResults()); err != nil {
		t.Fatal(err)
	}
	want := "spof chaos: 2 of 3 experiments on shop did not pass\n" +
		"• config-down: *falsified*: checkout: predicted up, observed down at 1.5s (503 | x)\n" +
		"• postgres-down: *restore-failed*: restoring down: proxy API unreachable"
	if len(got) != 1 || got[0] != want {
		t.Errorf("posted %q, want %q", got, want)
	}
	fail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "invalid_token", http.StatusForbidden) }))
	defer fail.Close()
	secret := "/services/T000/B000/XXXXsecretXXXX"
	if err := Notify(ctx, fail.URL+secret, "shop", sampleResults()); err == nil || !strings.Contains(err.Error(), "403 Forbidden: invalid_token") || strings.Contains(err.Error(), "secret") {
		t.Errorf("rejected webhook: %v, want the status and no secret", err)
	}
	// Unreachable: the HTTP client's error quotes the whole URL.
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	if err := Notify(ctx, gone.URL+secret, "shop", sampleResults()); err == nil || !strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "secret") {
		t.Errorf("unreachable webhook: %v, want the cause and no secret", err)
	}
}
