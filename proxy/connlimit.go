package proxy

import (
	"errors"
	"net"
	"runtime"
	"sync/atomic"
	"syscall"
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

// release ends the count of a connection admit let in. When it was the
// last open connection, the idle splice pipes are swept soon after.
func (s *Server) release() {
	if s.limit.open.Add(-1) == 0 {
		s.sweepPipesSoon()
	}
}

// sweepDelay is how long the server waits, once its last connection has
// ended, before it sweeps the idle splice pipes (a time.Duration; atomic so
// that tests can shorten it while connections end).
var sweepDelay atomic.Int64

func init() { sweepDelay.Store(int64(time.Second)) }

// sweepPipesSoon closes, sweepDelay from now unless connections are open
// again by then, the pipes the splice(2) fast path left behind. Go's
// TCPConn.ReadFrom keeps its pipes (two descriptors each) in a sync.Pool
// that only the garbage collector empties, and an idle proxy allocates
// nothing, so it never collects: after bursts of 500 connections, ~2,000
// descriptors stayed open for minutes. Two collections empty the pool
// (its two generations) and the pipes' finalizers close them. The proxy
// keeps Go's splice: a pipe pool of its own was measured 20% slower.
func (s *Server) sweepPipesSoon() {
	if !s.sweeping.CompareAndSwap(false, true) {
		return // one is already scheduled
	}
	time.AfterFunc(time.Duration(sweepDelay.Load()), func() {
		s.sweeping.Store(false)
		if s.limit.open.Load() == 0 {
			runtime.GC()
			runtime.GC()
		}
	})
}

// lastReclaim is when reclaimDescriptors last collected (UnixNano).
var lastReclaim atomic.Int64

// reclaimDescriptors runs when an accept fails for want of descriptors:
// the splice pipes of connections that moved off the fast path (a toxic
// came) wait in Go's pool until a collection, each holding two
// descriptors, and an idle process does not collect. Two collections close
// them (see sweepPipesSoon), so that the accept's next try can succeed.
// At most once per 100 ms: it is a full collection.
func reclaimDescriptors(err error) {
	if !errors.Is(err, syscall.EMFILE) && !errors.Is(err, syscall.ENFILE) {
		return
	}
	now := time.Now().UnixNano()
	last := lastReclaim.Load()
	if now-last < int64(100*time.Millisecond) || !lastReclaim.CompareAndSwap(last, now) {
		return
	}
	runtime.GC()
	runtime.GC()
}

// ReclaimingListener wraps the API's listener: when it runs out of
// descriptors, it collects the idle splice pipes that hold some
// (reclaimDescriptors), so that the API answers again rather than waiting
// for the process to collect on its own.
func ReclaimingListener(ln net.Listener) net.Listener { return reclaimingListener{ln} }

type reclaimingListener struct{ net.Listener }

func (l reclaimingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		reclaimDescriptors(err)
	}
	return c, err
}
