package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
)

// Every connection to the upstream server starts with a header: one mode
// byte and an 8-byte big-endian argument. The header lets one upstream
// address serve both figures, so each proxy needs a single route, "bench",
// as in Toxiproxy's usual setup.
const (
	// modeSink: the argument is how many bytes the client sends; the
	// server discards them and, once it has them all, answers with the
	// same 8 bytes. The acknowledgement does not rely on half-close,
	// which Toxiproxy does not forward (it closes both ways on EOF).
	modeSink = 'S'
	// modeEcho: the argument is the message size; the server sends each
	// message back as soon as it has read it whole.
	modeEcho = 'E'

	headerSize = 9
)

// header encodes the connection header for mode and arg.
func header(mode byte, arg uint64) []byte {
	h := make([]byte, headerSize)
	h[0] = mode
	binary.BigEndian.PutUint64(h[1:], arg)
	return h
}

// sinkBufferSize is the sink's read size. io.Copy into io.Discard reads
// 8 KiB at a time, which on a two-core machine makes the sink, not the
// proxy under test, the bottleneck; 256 KiB reads keep the sink cheap.
const sinkBufferSize = 256 << 10

// An upstreamServer is the sink and echo server every target forwards to.
type upstreamServer struct {
	ln net.Listener
	wg sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// startUpstream listens on a free loopback port and serves connections
// until Close.
func startUpstream() (*upstreamServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the upstream server: %w", err)
	}
	s := &upstreamServer{ln: ln, conns: map[net.Conn]struct{}{}}
	s.wg.Go(s.acceptLoop)
	return s, nil
}

// Addr is the address targets forward to.
func (s *upstreamServer) Addr() string { return s.ln.Addr().String() }

// Close stops accepting, closes open connections and waits for their
// goroutines.
func (s *upstreamServer) Close() error {
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *upstreamServer) acceptLoop() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return // closed
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Go(func() {
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			serveConn(c)
		})
	}
}

// serveConn reads the header and serves the connection in its mode.
// Errors end the connection: the client sees them as EOF or a reset.
func serveConn(c net.Conn) {
	h := make([]byte, headerSize)
	if _, err := io.ReadFull(c, h); err != nil {
		return // a readiness probe, or a client that gave up
	}
	arg := binary.BigEndian.Uint64(h[1:])
	switch h[0] {
	case modeSink:
		serveSink(c, arg, h[1:])
	case modeEcho:
		serveEcho(c, arg)
	}
}

func serveSink(c net.Conn, n uint64, ack []byte) {
	buf := make([]byte, sinkBufferSize)
	var got uint64
	for got < n {
		k, err := c.Read(buf[:min(uint64(len(buf)), n-got)])
		got += uint64(k)
		if err != nil {
			return
		}
	}
	if _, err := c.Write(ack); err != nil {
		return
	}
	// Wait for the client to close, so that the server never closes
	// first and leaves the port in TIME_WAIT on this side.
	io.Copy(io.Discard, c)
}

// maxEchoSize bounds the echo buffer a client can ask for.
const maxEchoSize = 1 << 20

func serveEcho(c net.Conn, size uint64) {
	if size == 0 || size > maxEchoSize {
		return
	}
	msg := make([]byte, size)
	for {
		if _, err := io.ReadFull(c, msg); err != nil {
			return
		}
		if _, err := c.Write(msg); err != nil {
			return
		}
	}
}
