package proxy

import (
	"context"
	"errors"
	"maps"
	"net"
	"slices"
	"sync"
	"syscall"
	"time"
)

// tcpProxy is one proxy: a listener, its toxics and its live connections.
type tcpProxy struct {
	srv   *Server
	name  string
	stats stats

	mu       sync.Mutex
	listen   string // as configured, then the address listened on
	upstream string
	enabled  bool
	ln       *net.TCPListener
	// cancel stops the dials of the current listener's connections.
	cancel context.CancelFunc
	ctx    context.Context
	toxics []*toxicEntry // in the order they were added
	links  map[*link]struct{}
	moved  []*pipe // left the fast path in this change; see unlock
}

// A toxicEntry is one toxic of a proxy. Its identity outlives updates, so
// that per-connection state (bytes counted by limit_data, the draw of
// toxicity) survives a change of attributes.
type toxicEntry struct {
	t       *Toxic // replaced, never modified, by an update
	stopTTL func() bool
	armed   int // counts setTTL calls: an expiry acts only if it is the last
}

func newTCPProxy(s *Server, cfg ProxyConfig) *tcpProxy {
	return &tcpProxy{srv: s, name: cfg.Name, listen: cfg.Listen, upstream: cfg.Upstream, links: map[*link]struct{}{}}
}

func (p *tcpProxy) same(cfg ProxyConfig) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.upstream == cfg.Upstream && (p.listen == cfg.Listen || sameAddr(p.listen, cfg.Listen))
}

// sameAddr reports whether configured address b is where a is listening:
// a port 0 matches any port.
func sameAddr(a, b string) bool {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	return ha == hb && (pa == pb || pb == "0")
}

func (p *tcpProxy) info() ProxyInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return ProxyInfo{Name: p.name, Listen: p.listen, Upstream: p.upstream, Enabled: p.enabled, Toxics: p.toxicListLocked()}
}

func (p *tcpProxy) toxicList() []Toxic {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.toxicListLocked()
}

// toxicListLocked lists the toxics as Toxiproxy does: the upstream ones,
// then the downstream ones, each in the order they were added (the order
// they apply in).
func (p *tcpProxy) toxicListLocked() []Toxic {
	out := make([]Toxic, 0, len(p.toxics))
	for _, stream := range []string{Upstream, Downstream} {
		for _, e := range p.toxics {
			if e.t.Stream == stream {
				out = append(out, e.toxic())
			}
		}
	}
	return out
}

// toxic returns a copy of e's settings that the caller may change.
func (e *toxicEntry) toxic() Toxic {
	t := *e.t
	t.Attributes = maps.Clone(e.t.Attributes)
	return t
}

// start listens and accepts; p.mu must be held, or p unpublished.
func (p *tcpProxy) start() error {
	if p.enabled {
		return nil
	}
	ln, err := net.Listen("tcp", p.listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return &Error{"listen " + p.listen + ": address already in use (another proxy or program has it)", 409}
		}
		return &Error{"listen " + p.listen + ": " + errText(err), 500}
	}
	p.ln = ln.(*net.TCPListener)
	p.listen = ln.Addr().String()
	p.enabled = true
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.srv.wg.Add(1)
	go p.accept(p.ln, p.ctx)
	return nil
}

// errText is err's message without the "listen tcp" prefix of *net.OpError.
func errText(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

// stop closes the listener and, if closeLinks, every connection.
func (p *tcpProxy) stop(closeLinks bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopLocked(closeLinks)
}

func (p *tcpProxy) stopLocked(closeLinks bool) {
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	p.enabled = false
	if closeLinks {
		if p.cancel != nil {
			p.cancel()
		}
		for l := range p.links {
			l.close(false)
		}
	}
}

// closeListener stops accepting but lets the connections, including those
// being dialled, finish: the first step of a graceful shutdown.
func (p *tcpProxy) closeListener() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopLocked(false)
}

func (p *tcpProxy) update(u ProxyUpdate) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	listen, upstream := p.listen, p.upstream
	if u.Listen != nil {
		l, err := listenAddr(*u.Listen)
		if err != nil {
			return err
		}
		listen = l
	}
	if u.Upstream != nil {
		if err := checkAddr("upstream", *u.Upstream, false); err != nil {
			return err
		}
		upstream = *u.Upstream
	}
	enabled := p.enabled
	if u.Enabled != nil {
		enabled = *u.Enabled
	}
	if (listen != p.listen && !sameAddr(p.listen, listen)) || upstream != p.upstream {
		// As in Toxiproxy: a new address or upstream restarts the proxy.
		wasEnabled := p.enabled
		p.stopLocked(true)
		p.listen, p.upstream = listen, upstream
		if wasEnabled && enabled {
			return p.start()
		}
	}
	switch {
	case enabled && !p.enabled:
		return p.start()
	case !enabled && p.enabled:
		p.stopLocked(true)
	}
	return nil
}

func (p *tcpProxy) accept(ln *net.TCPListener, ctx context.Context) {
	defer p.srv.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		c, err := ln.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors, most likely: wait rather than spin.
			p.stats.errors[errAccept].Add(1)
			p.srv.opts.Logger.Warn("accepting a connection", "proxy", p.name, "err", err)
			time.Sleep(backoff)
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		p.stats.accepted.Add(1)
		p.stats.active.Add(1)
		p.srv.wg.Add(1)
		go p.serve(ctx, c)
	}
}

// serve dials the upstream for client c and relays between them.
func (p *tcpProxy) serve(ctx context.Context, c *net.TCPConn) {
	defer p.srv.wg.Done()
	defer p.stats.active.Add(-1)
	l := newLink(p, c)
	p.mu.Lock()
	upstream := p.upstream
	cut := p.cutLocked(l)
	p.mu.Unlock()
	if cut {
		l.close(true) // a down toxic: refuse with a reset
		return
	}
	d := net.Dialer{Timeout: p.srv.opts.DialTimeout}
	uc, err := d.DialContext(ctx, "tcp", upstream)
	if err != nil {
		if ctx.Err() == nil {
			p.stats.errors[errDial].Add(1)
			p.srv.opts.Logger.Warn("connecting to the upstream", "proxy", p.name, "upstream", upstream, "err", err)
		}
		l.close(false)
		return
	}
	l.connect(uc.(*net.TCPConn))
	if !p.register(l, ctx) {
		l.close(true)
		return
	}
	l.run()
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}

// cutLocked reports whether a down toxic applies to new link l, drawing
// toxicity for the down toxics.
func (p *tcpProxy) cutLocked(l *link) bool {
	cut := false
	for _, e := range p.toxics {
		if e.t.Type == "down" && l.draw(e, p.srv.opts.Rand) {
			cut = true
		}
	}
	return cut
}

// register adds l to the live connections with its toxics, unless the
// proxy stopped while it was dialling or a down toxic applies to it.
func (p *tcpProxy) register(l *link, ctx context.Context) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ctx.Err() != nil {
		return false
	}
	if cut, _ := p.applyLocked(l); cut {
		return false
	}
	p.links[l] = struct{}{}
	return true
}

// applyLocked gives l its toxic chains, drawing toxicity for the toxics it
// has not seen, and reports whether a down toxic cuts it and whether a
// direction left the fast path.
func (p *tcpProxy) applyLocked(l *link) (cut bool, moved []*pipe) {
	var chains [2][]stage
	for _, e := range p.toxics {
		if !l.draw(e, p.srv.opts.Rand) {
			continue
		}
		if e.t.Type == "down" {
			cut = true
			continue
		}
		d := dirDownstream
		if e.t.Stream == Upstream {
			d = dirUpstream
		}
		chains[d] = append(chains[d], stage{id: e, t: e.t})
	}
	moved = l.setChains(chains)
	return cut, moved
}

// applyAllLocked re-applies the toxics to every connection after a change.
// The connections that leave the fast path are settled by unlock.
func (p *tcpProxy) applyAllLocked() {
	for l := range p.links {
		cut, moved := p.applyLocked(l)
		if cut {
			l.close(true)
			delete(p.links, l)
		} else {
			p.moved = append(p.moved, moved...)
		}
	}
}

// settleTimeout bounds how long a toxic change waits for connections to
// leave the fast path.
const settleTimeout = time.Second

// unlock releases p.mu, then waits for the connections that the change
// moved off the fast path to stop copying there, so that data sent after
// the change returns meets the new toxics.
func (p *tcpProxy) unlock() {
	moved := p.moved
	p.moved = nil
	p.mu.Unlock()
	if len(moved) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	for _, pp := range moved {
		pp.settle(ctx.Done())
	}
}

func (p *tcpProxy) find(name string) int {
	return slices.IndexFunc(p.toxics, func(e *toxicEntry) bool { return e.t.Name == name })
}

func (p *tcpProxy) addToxic(t Toxic) (Toxic, error) {
	p.mu.Lock()
	defer p.unlock()
	if p.find(t.Name) >= 0 {
		return Toxic{}, &Error{ErrToxicExists.Message + ": " + t.Name, ErrToxicExists.Status}
	}
	e := &toxicEntry{}
	p.setTTL(e, &t)
	e.t = &t
	p.toxics = append(p.toxics, e)
	p.applyAllLocked()
	return e.toxic(), nil
}

func (p *tcpProxy) updateToxic(t Toxic) (Toxic, error) {
	p.mu.Lock()
	defer p.unlock()
	i := p.find(t.Name)
	if i < 0 {
		return Toxic{}, notFound(ErrToxicNotFound, t.Name)
	}
	e := p.toxics[i]
	if e.t.Type != t.Type {
		return Toxic{}, badRequest("toxic %s is a %s toxic: its type cannot change (remove it and add a new one)", t.Name, e.t.Type)
	}
	if e.t.Toxicity != t.Toxicity || e.t.Stream != t.Stream {
		// A new probability (or stream) is drawn again on every connection.
		for l := range p.links {
			delete(l.draws, e)
		}
	}
	if t.TTL == e.t.TTL && !t.ExpiresAt.IsZero() {
		// The caller passed back the toxic it read: keep its expiry.
		t.ExpiresAt = e.t.ExpiresAt
	} else {
		p.setTTL(e, &t)
	}
	e.t = &t
	p.applyAllLocked()
	return e.toxic(), nil
}

// setTTL caps t's TTL and (re)arms its expiry.
func (p *tcpProxy) setTTL(e *toxicEntry, t *Toxic) {
	if e.stopTTL != nil {
		e.stopTTL()
		e.stopTTL = nil
	}
	e.armed++
	armed := e.armed
	if max := p.srv.opts.MaxTTL; max > 0 && (t.TTL == 0 || t.TTL > max) {
		t.TTL = max
	}
	t.ExpiresAt = time.Time{}
	if t.TTL <= 0 {
		return
	}
	clock := p.srv.opts.Clock
	t.ExpiresAt = clock.Now().Add(t.TTL)
	name := t.Name
	e.stopTTL = clock.AfterFunc(t.TTL, func() {
		if p.expire(e, armed) {
			p.stats.expired.Add(1)
			p.srv.opts.Logger.Info("toxic expired", "proxy", p.name, "toxic", name)
		}
	})
}

// expire removes toxic e if its expiry armed is still the last one set:
// an expiry that fires as the toxic is re-armed or removed, too late to
// be stopped, does nothing.
func (p *tcpProxy) expire(e *toxicEntry, armed int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := slices.Index(p.toxics, e)
	if i < 0 || e.armed != armed {
		return false
	}
	p.removeLocked(i)
	p.applyAllLocked()
	return true
}

// removeToxic removes the named toxic.
func (p *tcpProxy) removeToxic(name string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.find(name)
	if i < 0 {
		return notFound(ErrToxicNotFound, name)
	}
	p.removeLocked(i)
	p.applyAllLocked()
	return nil
}

func (p *tcpProxy) removeAllToxics() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.toxics) > 0 {
		p.removeLocked(len(p.toxics) - 1)
	}
	p.applyAllLocked()
}

// removeLocked drops toxic i. A connection that had a timeout toxic has
// lost the data the toxic swallowed, so it is closed, as in Toxiproxy.
func (p *tcpProxy) removeLocked(i int) {
	e := p.toxics[i]
	if e.stopTTL != nil {
		e.stopTTL()
	}
	p.toxics = slices.Delete(p.toxics, i, i+1)
	drops := e.t.Type == "timeout" || e.t.Type == "blackhole"
	for l := range p.links {
		if l.draws[e] && drops {
			l.close(false)
			delete(p.links, l)
		}
		delete(l.draws, e)
	}
}
