package main

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/spofhq/spof/proxy/proxytest"
)

// The request rate counts the round trips that start in the measured
// window over the window's length, not over the time until the last one
// ended. Each round trip here takes 200ms: of those starting at 0, 200,
// 400 and 600ms, only the one at 400ms starts in the window [300ms,
// 500ms), and it ends at 600ms; one round trip in 200ms is 5/s.
func TestPingPongRateIsPerWindow(t *testing.T) {
	const rtt = 200 * time.Millisecond
	addr := proxytest.Serve(t, func(c *net.TCPConn) {
		h := make([]byte, headerSize)
		msg := make([]byte, messageSize)
		if _, err := io.ReadFull(c, h); err != nil {
			return
		}
		for i := 0; ; i++ {
			if _, err := io.ReadFull(c, msg); err != nil {
				return
			}
			if i > 0 { // dialEcho's check is answered at once
				time.Sleep(rtt) // a slow server, not synchronisation
			}
			if _, err := c.Write(msg); err != nil {
				return
			}
		}
	})
	res, err := measurePingPong(context.Background(), addr, 1, rtt)
	if err != nil {
		t.Fatal(err)
	}
	if res.RequestsPerSec != 5 {
		t.Errorf("requests/s = %v, want 5 (one round trip in a 200ms window)", res.RequestsPerSec)
	}
}
