package compat

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// upper sends back what it reads in upper case, so that a test can tell
// which upstream answered.
func upper(c *net.TCPConn) {
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, err := c.Write(bytes.ToUpper(buf[:n])); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// ioTimeout bounds every network step of the tests: a proxy that hangs
// fails the test instead of holding it.
const ioTimeout = 10 * time.Second

// dial connects to addr through TCP, with ioTimeout as deadline.
func dial(t *testing.T, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatalf("dialing %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(ioTimeout))
	return c.(*net.TCPConn)
}

// exchange writes msg on c, reads len(msg) bytes back, and returns them
// with the time the round trip took.
func exchange(c net.Conn, msg []byte) ([]byte, time.Duration, error) {
	start := time.Now()
	if _, err := c.Write(msg); err != nil {
		return nil, 0, err
	}
	reply := make([]byte, len(msg))
	n, err := io.ReadFull(c, reply)
	return reply[:n], time.Since(start), err
}

// roundTrip sends msg on a new connection to addr and checks that want
// comes back; it returns the time the round trip took.
func roundTrip(t *testing.T, addr, msg, want string) time.Duration {
	t.Helper()
	c := dial(t, addr)
	defer c.Close()
	got, took, err := exchange(c, []byte(msg))
	if err != nil {
		t.Fatalf("round trip through %s: got %q, then %v", addr, got, err)
	}
	if string(got) != want {
		t.Fatalf("round trip through %s: got %q, want %q", addr, got, want)
	}
	return took
}

// checkGoroutines fails the test if, once everything registered after it
// is cleaned up, goroutines run that did not when it was called. Call it
// first so that its cleanup runs last.
func checkGoroutines(t *testing.T) {
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		// The client's keep-alive connections hold two goroutines each.
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		goleak.VerifyNone(t, before)
	})
}
