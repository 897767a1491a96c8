package compat

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"
)

// startServer serves handle on a loopback port until the test ends, and
// returns the address. Cleanup closes the listener and every open
// connection, and waits for the handlers to return.
func startServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				handle(c)
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// echo sends back what it reads; it closes when the client has sent
// everything.
func echo(c net.Conn) { io.Copy(c, c) }

// upper sends back what it reads in upper case, so that a test can tell
// which upstream answered.
func upper(c net.Conn) {
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
// is cleaned up, more goroutines run than when it was called. Call it
// first so that its cleanup runs last.
func checkGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		// The client's keep-alive connections hold two goroutines each.
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("%d goroutines left running (%d before the test):\n%s", runtime.NumGoroutine()-before, before, buf)
				return
			}
			time.Sleep(20 * time.Millisecond) // polling a count, not synchronising
		}
	})
}
