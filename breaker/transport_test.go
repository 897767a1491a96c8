package breaker

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestTransportPerHost(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	var badHits atomic.Int64
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		badHits.Add(1)
		if failing.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	}))
	defer bad.Close()
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer good.Close()

	tr := &Transport{Options: Options{VolumeThreshold: 2}}
	client := &http.Client{Transport: tr}
	get := func(url string) (int, error) {
		resp, err := client.Get(url)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	for i := range 2 {
		code, err := get(bad.URL)
		if err != nil || code != http.StatusServiceUnavailable {
			t.Fatalf("request %d to failing host = %d, %v; want 503 passed through", i, code, err)
		}
	}
	if _, err := get(bad.URL); !errors.Is(err, ErrOpen) {
		t.Fatalf("third request to failing host: err = %v, want ErrOpen", err)
	}
	if n := badHits.Load(); n != 2 {
		t.Fatalf("failing host got %d requests, want 2: the open breaker must not call it", n)
	}
	if code, err := get(good.URL); err != nil || code != http.StatusOK {
		t.Fatalf("request to healthy host = %d, %v; want 200: breakers are per host", code, err)
	}

	// A transport error (nothing listening) is a failure too.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for range 2 {
		if _, err := get(closed.URL); err == nil || errors.Is(err, ErrOpen) {
			t.Fatalf("request to closed server: err = %v, want a dial error", err)
		}
	}
	if _, err := get(closed.URL); !errors.Is(err, ErrOpen) {
		t.Fatalf("after two dial errors: err = %v, want ErrOpen", err)
	}
	if s := tr.Breaker(closed.Listener.Addr().String()).State(); s != StateOpen {
		t.Fatalf("breaker for closed server is %v, want open", s)
	}
}
