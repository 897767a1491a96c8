package proxy

import (
	"net"
	"os"
	"runtime/debug"
	"strings"
	"testing"
	"time"
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

// After a burst of connections the fast path's pipes do not pile up: once
// the last connection has ended, the server sweeps the pipes that Go's
// splice(2) path (TCPConn.ReadFrom) keeps in a sync.Pool, which only the
// garbage collector empties and an idle proxy never runs: before, ~2,000
// descriptors stayed open for minutes after bursts of 500 connections (800
// after this test's 200, as long as one cared to wait).
//
// Not parallel: it counts the whole process's pipes.
func TestSplicePipesSwept(t *testing.T) {
	// No collection but the sweep's: in an idle proxy nothing allocates,
	// so the collector never runs; in a test, polling would run it.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	saved := sweepDelay.Swap(int64(10 * time.Millisecond))
	t.Cleanup(func() { sweepDelay.Store(saved) })
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
	during := openPipes(t) - before
	for _, c := range open {
		c.Close()
	}
	tp.waitMetric("spof_proxy_connections_active", 0)
	// The sweep runs 10 ms after the last connection ends, and the pipes'
	// finalizers close them some time after: wait a bounded while.
	left := -1
	for range 500 {
		if left = openPipes(t) - before; left <= 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if left > 0 {
		t.Errorf("after %d connections ended (%d more pipe descriptors while they were open): %d more than before, want none", conns, during, left)
	}
}
