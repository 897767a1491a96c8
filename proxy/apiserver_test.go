package proxy

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// Slow and idle clients cannot hold API connections: a request whose
// headers or body never end, and a keep-alive connection that sends no
// next request, are closed by the server.
func TestAPITimeouts(t *testing.T) {
	s := newServer(t, Options{})
	hs := NewAPIServer(s.Handler(), APITimeouts{
		ReadHeader: 100 * time.Millisecond,
		Read:       200 * time.Millisecond,
		Write:      time.Second,
		Idle:       100 * time.Millisecond,
	}, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	t.Cleanup(func() {
		hs.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})

	const perKind = 20
	kinds := []struct {
		name, send string
		wantReply  string // the start of what comes back before the close
	}{
		{"partial headers", "POST /proxies HTTP/1.1\r\nHost: x\r\nContent-Le", ""},
		{"partial body", "POST /proxies HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"name\":", "HTTP/1.1 400 Bad Request"},
		{"idle keep-alive", "GET /version HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK"},
	}
	var conns []net.Conn
	for _, k := range kinds {
		for range perKind {
			c := dial(t, ln.Addr().String())
			if _, err := io.WriteString(c, k.send); err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
	}
	// Each connection ends from the server's side, well before the
	// deadline that only guards against a hang.
	for i, c := range conns {
		k := kinds[i/perKind]
		c.SetReadDeadline(time.Now().Add(testTimeout))
		got, err := io.ReadAll(c)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("%s: connection %d still open after %v", k.name, i%perKind, testTimeout)
		}
		if !strings.HasPrefix(string(got), k.wantReply) {
			t.Errorf("%s: got %q before the close, want %q", k.name, got, k.wantReply)
		}
		c.Close()
	}
}

// The zero APITimeouts gives every timeout a default.
func TestAPITimeoutDefaults(t *testing.T) {
	hs := NewAPIServer(http.NotFoundHandler(), APITimeouts{}, nil)
	if hs.ReadHeaderTimeout != 10*time.Second || hs.ReadTimeout != 30*time.Second || hs.WriteTimeout != 30*time.Second || hs.IdleTimeout != 30*time.Second {
		t.Errorf("timeouts: header %v, read %v, write %v, idle %v", hs.ReadHeaderTimeout, hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout)
	}
	hs = NewAPIServer(http.NotFoundHandler(), APITimeouts{Idle: time.Minute}, nil)
	if hs.IdleTimeout != time.Minute || hs.ReadTimeout != 30*time.Second {
		t.Errorf("one timeout given: idle %v, read %v", hs.IdleTimeout, hs.ReadTimeout)
	}
}
