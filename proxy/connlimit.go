package proxy

import (
	"net"
	"sync/atomic"
	"time"
)

// Each proxied connection holds up to six file descriptors: the client's
// socket, the upstream's, and on the fast path a pipe (two descriptors)
// per direction for splice(2).
const fdsPerConn = 6

// MaxConnsFor returns the number of proxied connections that fit in
// nofile file descriptors (RLIMIT_NOFILE) while leaving an eighth of them,
// and at least 16, to the API, the listeners and the runtime: so that
// when clients exhaust the connections, the API still answers and faults
// can still be removed. It is at least 1.
func MaxConnsFor(nofile uint64) int {
	reserve := max(nofile/8, 16)
	if nofile <= reserve+fdsPerConn {
		return 1
	}
	return int(min((nofile-reserve)/fdsPerConn, 1<<30))
}

// connLimit counts the proxied connections of a Server against
// Options.MaxConns.
type connLimit struct {
	open atomic.Int64
	// refused counts the connections refused since the last log line,
	// and lastLog is when that was (Unix nanoseconds): the limit is
	// logged at most once a minute, not once per connection.
	refused atomic.Int64
	lastLog atomic.Int64
}

// limitLogEvery is how often, at most, refusals are logged.
const limitLogEvery = time.Minute

// admit counts c, just accepted by p, as open and returns true; or, if
// the server has Options.MaxConns open already, closes c with a reset at
// once, so that the client knows and no descriptor is held, and returns
// false. Each admitted connection must be released.
func (s *Server) admit(p *tcpProxy, c *net.TCPConn) bool {
	max := int64(s.opts.MaxConns)
	if n := s.limit.open.Add(1); max <= 0 || n <= max {
		return true
	}
	s.limit.open.Add(-1)
	c.SetLinger(0)
	c.Close()
	p.stats.refused.Add(1)
	refused := s.limit.refused.Add(1)
	now := s.opts.Clock.Now().UnixNano()
	last := s.limit.lastLog.Load()
	if (last == 0 || now-last >= int64(limitLogEvery)) && s.limit.lastLog.CompareAndSwap(last, now) {
		s.limit.refused.Add(-refused)
		s.opts.Logger.Warn("connection limit reached: resetting new connections until some close, so that the API goes on answering (--max-conns; its default follows ulimit -n)",
			"max_conns", max, "proxy", p.name, "refused", refused)
	}
	return false
}

// release ends the count of a connection admit let in.
func (s *Server) release() { s.limit.open.Add(-1) }
