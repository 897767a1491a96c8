package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// messageSize is the size of each ping-pong request and response.
const messageSize = 64

// warmup is run before each measured window and not counted: it lets the
// proxies' goroutines, buffers and the TCP windows settle.
const warmup = 300 * time.Millisecond

// pingPongResult is one ping-pong cell: the rate and round-trip latency
// of every request completed in the measured window.
type pingPongResult struct {
	RequestsPerSec float64
	P50, P99       time.Duration
	// All is every round trip, the warm-up's included, for the CPU cost
	// per request (the CPU time measured covers the warm-up too).
	All int64
}

// measurePingPong opens conns connections to addr, then for warmup and
// duration has each, in its own goroutine, send a 64-byte request and wait
// for the 64-byte echo in a loop, and records the round trips that start
// inside the measured window.
func measurePingPong(ctx context.Context, addr string, conns int, duration time.Duration) (pingPongResult, error) {
	cs, err := dialEcho(ctx, addr, conns)
	if err != nil {
		return pingPongResult{}, err
	}
	defer func() {
		for _, c := range cs {
			c.Close()
		}
	}()

	begin := time.Now()
	from := begin.Add(warmup)
	until := from.Add(duration)
	// Past this deadline a connection's read fails: a stuck proxy cannot
	// hold the run.
	deadline := until.Add(10 * time.Second)
	stop := context.AfterFunc(ctx, func() {
		for _, c := range cs {
			c.SetDeadline(time.Now())
		}
	})
	defer stop()

	hists := make([]histogram, len(cs))
	counts := make([]int64, len(cs))
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		c.SetDeadline(deadline)
		wg.Go(func() { counts[i], errs[i] = pingPong(c, from, until, &hists[i]) })
	}
	wg.Wait()

	var all histogram
	var count int64
	for i := range hists {
		if errs[i] != nil {
			return pingPongResult{}, fmt.Errorf("ping-pong, connection %d of %d: %w", i+1, len(cs), errs[i])
		}
		all.merge(&hists[i])
		count += counts[i]
	}
	return pingPongResult{
		// The round trips counted are those that start in the window: its
		// length is the time they had, whatever the last one took to end.
		RequestsPerSec: float64(all.total) / duration.Seconds(),
		P50:            all.quantile(0.50),
		P99:            all.quantile(0.99),
		All:            count,
	}, nil
}

// dialEcho opens n echo connections to addr and checks each with one
// round trip, so that the measured window sees only established,
// proxied connections.
func dialEcho(ctx context.Context, addr string, n int) ([]net.Conn, error) {
	var d net.Dialer
	cs := make([]net.Conn, 0, n)
	msg := make([]byte, messageSize)
	for range n {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.SetDeadline(time.Now().Add(10 * time.Second))
			req := append(header(modeEcho, messageSize), msg...)
			if _, err = c.Write(req); err == nil {
				_, err = io.ReadFull(c, msg)
			}
			if err != nil {
				c.Close()
			}
		}
		if err != nil {
			for _, c := range cs {
				c.Close()
			}
			return nil, fmt.Errorf("ping-pong: opening connection %d of %d: %w", len(cs)+1, n, err)
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// pingPong runs round trips on c until until, recording in h those that
// start at or after from, and returns how many it ran in all.
func pingPong(c net.Conn, from, until time.Time, h *histogram) (int64, error) {
	req := make([]byte, messageSize)
	resp := make([]byte, messageSize)
	for n := int64(0); ; n++ {
		start := time.Now()
		if !start.Before(until) {
			return n, nil
		}
		if _, err := c.Write(req); err != nil {
			return n, err
		}
		if _, err := io.ReadFull(c, resp); err != nil {
			return n, err
		}
		if !start.Before(from) {
			h.record(time.Since(start))
		}
	}
}
