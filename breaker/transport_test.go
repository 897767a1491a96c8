package breaker

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
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

// http.Client.CloseIdleConnections reaches Base through Transport: the
// server sees its idle keep-alive connection closed.
func TestTransportCloseIdleConnections(t *testing.T) {
	closed := make(chan struct{}, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			select {
			case closed <- struct{}{}:
			default:
			}
		}
	}
	srv.Start()
	defer srv.Close()

	base := &http.Transport{}
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: &Transport{Base: base}}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close() // the connection goes back to base's idle pool

	client.CloseIdleConnections()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("idle connection still open 10s after CloseIdleConnections")
	}

	// A Base without the method is left alone.
	(&Transport{Base: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, nil })}).CloseIdleConnections()
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
