package proxy

import (
	"net"
	"os"
	"strings"
	"testing"
)

// openPipes counts the process's open pipe descriptors.
func openPipes(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(target, "pipe:") {
			n++
		}
	}
	return n
}

// After a burst of connections the fast path's pipes do not pile up:
// idle connections hold none, the pool keeps at most maxIdlePipes, and
// the last connection to end closes them. Before, TCPConn.ReadFrom's
// pipes (one per direction of every connection, idle or not) waited in a
// sync.Pool for the garbage collector, which an idle proxy does not run:
// ~2,000 descriptors after bursts of 500 connections, for minutes.
//
// Not parallel: it counts the whole process's pipes.
func TestSplicePipesBounded(t *testing.T) {
	const conns = 200
	// An echo server that copies through a buffer: io.Copy between
	// TCPConns would splice, with pipes of its own.
	echo := serveTCP(t, func(c *net.TCPConn) {
		buf := make([]byte, 512)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				c.Write(buf[:n])
			}
			if err != nil {
				return
			}
		}
	})
	tp := startProxy(t, Options{}, echo)
	before := openPipes(t)

	var open []interface{ Close() error }
	for range conns {
		c := tp.dial()
		roundTrip(t, c, "through the fast path")
		open = append(open, c)
	}
	// Idle: every connection waits for data.
	if got := openPipes(t) - before; got > 2*maxIdlePipes {
		t.Errorf("%d idle connections hold %d pipe descriptors, want at most %d", conns, got, 2*maxIdlePipes)
	}
	for _, c := range open {
		c.Close()
	}
	tp.waitMetric("spof_proxy_connections_active", 0)
	if got := openPipes(t) - before; got > 0 {
		t.Errorf("after the connections ended: %d more pipe descriptors than before, want none", got)
	}
}
