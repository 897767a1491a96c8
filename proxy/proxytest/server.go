package proxytest

import (
	"io"
	"net"
	"sync"
	"testing"
)

// A Server is a TCP server on a loopback port that runs a handler for
// each connection, and keeps track of them so that Close can end them
// all: a test's upstream, whose connections must not outlive the test.
type Server struct {
	ln     net.Listener
	handle func(*net.TCPConn)
	wg     sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
}

// NewServer starts a Server that runs handle, in its own goroutine, for
// each connection, and closes the connection when handle returns.
func NewServer(handle func(c *net.TCPConn)) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, handle: handle, conns: map[net.Conn]bool{}}
	s.wg.Go(s.accept)
	return s, nil
}

func (s *Server) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			// Accepted as Close ran: it will not see this one.
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Go(func() {
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			s.handle(c.(*net.TCPConn))
		})
	}
}

// Addr returns the address the server listens on, host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops listening, closes every open connection and waits for the
// handlers to return.
func (s *Server) Close() {
	s.ln.Close()
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Serve starts a Server that runs handle for each connection, closes it
// when the test ends, and returns its address.
func Serve(t testing.TB, handle func(c *net.TCPConn)) string {
	t.Helper()
	s, err := NewServer(handle)
	if err != nil {
		t.Fatalf("starting a TCP server: %v", err)
	}
	t.Cleanup(s.Close)
	return s.Addr()
}

// Echo is a handler that writes back what it reads, and returns when the
// client has closed its side.
func Echo(c *net.TCPConn) { io.Copy(c, c) }
