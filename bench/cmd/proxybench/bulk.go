package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

// bulkWriteSize is the size of each write the bulk client makes, from one
// reused buffer.
const bulkWriteSize = 256 << 10

// bulkTimeout bounds one bulk transfer: even at 10 MB/s, 1 GiB fits.
const bulkTimeout = 2 * time.Minute

// measureBulk sends n bytes through addr to the sink on one connection and
// returns the throughput in MB/s (10^6 bytes per second). The time runs
// from the dial to the sink's acknowledgement, so it covers every byte
// delivered.
func measureBulk(ctx context.Context, addr string, n uint64) (float64, error) {
	var d net.Dialer
	start := time.Now()
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, fmt.Errorf("bulk: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	conn.SetDeadline(start.Add(bulkTimeout))

	if _, err := conn.Write(header(modeSink, n)); err != nil {
		return 0, fmt.Errorf("bulk: sending the header: %w", err)
	}
	buf := make([]byte, bulkWriteSize)
	for sent := uint64(0); sent < n; {
		k, err := conn.Write(buf[:min(uint64(len(buf)), n-sent)])
		sent += uint64(k)
		if err != nil {
			return 0, fmt.Errorf("bulk: after %d of %d bytes: %w", sent, n, err)
		}
	}
	ack := make([]byte, 8)
	if _, err := io.ReadFull(conn, ack); err != nil {
		return 0, fmt.Errorf("bulk: waiting for the sink's acknowledgement: %w", err)
	}
	elapsed := time.Since(start)
	if got := binary.BigEndian.Uint64(ack); got != n {
		return 0, fmt.Errorf("bulk: the sink acknowledged %d bytes, sent %d", got, n)
	}
	return float64(n) / elapsed.Seconds() / 1e6, nil
}
