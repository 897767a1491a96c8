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
	// ln is nil while the proxy is disabled, and while a down toxic at
	// toxicity 1 makes it refuse connections as a crashed server would.
	ln *net.TCPListener
	// ctx is cancelled by cancel to stop the dials of the connections
	// accepted since the proxy was enabled.
	ctx    context.Context
	cancel context.CancelFunc
	toxics []*toxicEntry // in the order they were added
	links  map[*link]struct{}
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

// start listens and accepts; p.mu must be held, or p unpublished. Once
// the server is closed it refuses: Close has stopped, or is stopping, the
// listeners, and waits for the goroutines it knows of. (Close sets closed
// before it takes each p.mu, so a start that saw it unset is stopped by
// Close in turn.)
func (p *tcpProxy) start() error {
	if p.enabled {
		return nil
	}
	if p.srv.closed.Load() {
		return errClosed
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	if p.refusingLocked() {
		p.enabled = true
		return nil // listens once the down toxic goes
	}
	if err := p.listenLocked(); err != nil {
		p.cancel()
		return err
	}
	p.enabled = true
	return nil
}

// listenLocked opens p's listener and accepts on it.
func (p *tcpProxy) listenLocked() error {
	ln, err := net.Listen(ListenNetwork(p.listen), p.listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return &Error{"listen " + p.listen + ": address already in use (another proxy or program has it)", 409}
		}
		return &Error{err.Error(), 500}
	}
	p.ln = ln.(*net.TCPListener)
	p.listen = ln.Addr().String()
	p.srv.wg.Add(1)
	go p.accept(p.ctx, p.ln)
	return nil
}

// refusingLocked reports whether a down toxic applies to every
// connection: then p does not listen, so that connections are refused.
func (p *tcpProxy) refusingLocked() bool {
	return slices.ContainsFunc(p.toxics, func(e *toxicEntry) bool { return e.t.Type == ToxicDown && e.t.Toxicity >= 1 })
}

// syncListenerLocked closes or reopens the listener of an enabled proxy
// as a down toxic at toxicity 1 comes or goes: a crashed server refuses
// connections (ECONNREFUSED), it does not accept and reset them. The
// listener comes back on the same address.
func (p *tcpProxy) syncListenerLocked() {
	if !p.enabled {
		return
	}
	switch refusing := p.refusingLocked(); {
	case refusing && p.ln != nil:
		p.ln.Close()
		p.ln = nil
	case !refusing && p.ln == nil && !p.srv.closed.Load():
		if err := p.listenLocked(); err != nil {
			// The port was taken meanwhile: the next toxic change tries
			// again, as does disabling and enabling the proxy.
			p.stats.errors[errAccept].Add(1)
			p.srv.opts.Logger.Warn("listening again after a down toxic", "proxy", p.name, "listen", p.listen, "err", err)
		}
	}
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

// forget stops p for good, when it is deleted or replaced: it closes the
// listener and every connection, and stops the toxics' TTLs, so that none
// fires for a proxy that is gone.
func (p *tcpProxy) forget() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.toxics {
		e.disarm()
	}
	p.toxics = nil
	p.stopLocked(true)
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

func (p *tcpProxy) accept(ctx context.Context, ln *net.TCPListener) {
	defer p.srv.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		c, err := ln.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors, most likely: wait rather than spin.
			reclaimDescriptors(err)
			p.stats.errors[errAccept].Add(1)
			p.srv.opts.Logger.Warn("accepting a connection", "proxy", p.name, "err", err)
			time.Sleep(backoff)
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		if !p.srv.admit(p, c) {
			continue
		}
		p.stats.accepted.Add(1)
		p.stats.active.Add(1)
		p.srv.wg.Add(1)
		go func() {
			defer p.srv.release()
			p.serve(ctx, c)
		}()
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
		// A down toxic at toxicity below 1 (at 1 nothing is accepted):
		// the connection ends at once, as with a server that dies.
		l.close(false)
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
	if !p.register(ctx, l) {
		l.close(false)
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
		if e.t.Type == ToxicDown && l.draw(e, p.srv.opts.Rand) {
			cut = true
		}
	}
	return cut
}

// register adds l to the live connections with its toxics, unless the
// proxy stopped while it was dialling or a down toxic applies to it.
func (p *tcpProxy) register(ctx context.Context, l *link) bool {
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
		if e.t.Type == ToxicDown {
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

// applyAllLocked re-applies the toxics to every connection after a change
// and returns the directions that left the fast path: the caller passes
// them to settle once it has released p.mu.
func (p *tcpProxy) applyAllLocked() (moved []*pipe) {
	p.syncListenerLocked()
	for l := range p.links {
		cut, m := p.applyLocked(l)
		if cut {
			l.close(false) // FIN, as from a server that died
			delete(p.links, l)
		} else {
			moved = append(moved, m...)
		}
	}
	return moved
}

// settleTimeout bounds how long a toxic change waits for connections to
// leave the fast path.
const settleTimeout = time.Second

// settle waits for the directions that a change moved off the fast path to
// stop copying there, so that data sent after the change returns meets
// the new toxics. It may wait up to settleTimeout: p.mu must not be held,
// or new connections and other changes would wait too.
func settle(moved []*pipe) {
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
	if p.find(t.Name) >= 0 {
		p.mu.Unlock()
		return Toxic{}, &Error{ErrToxicExists.Message + ": " + t.Name, ErrToxicExists.Status}
	}
	e := &toxicEntry{}
	p.setTTL(e, &t)
	e.t = &t
	p.toxics = append(p.toxics, e)
	moved := p.applyAllLocked()
	out := e.toxic()
	p.mu.Unlock()
	settle(moved)
	return out, nil
}

func (p *tcpProxy) updateToxic(t Toxic) (Toxic, error) {
	p.mu.Lock()
	out, moved, err := p.updateToxicLocked(t)
	p.mu.Unlock()
	settle(moved)
	return out, err
}

func (p *tcpProxy) updateToxicLocked(t Toxic) (Toxic, []*pipe, error) {
	i := p.find(t.Name)
	if i < 0 {
		return Toxic{}, nil, notFound(ErrToxicNotFound, t.Name)
	}
	e := p.toxics[i]
	if e.t.Type != t.Type {
		return Toxic{}, nil, badRequest("toxic %s is a %s toxic: its type cannot change (remove it and add a new one)", t.Name, e.t.Type)
	}
	if e.t.Toxicity != t.Toxicity || e.t.Stream != t.Stream {
		// A new probability (or stream) is drawn again on every
		// connection. A timeout toxic may then stop applying to a
		// connection whose data it swallowed: close those first.
		p.closeSwallowedLocked(e)
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
	return e.toxic(), p.applyAllLocked(), nil
}

// disarm stops e's expiry. One that fires too late to be stopped does
// nothing (see expire).
func (e *toxicEntry) disarm() {
	if e.stopTTL != nil {
		e.stopTTL()
		e.stopTTL = nil
	}
	e.armed++
}

// setTTL caps t's TTL and (re)arms its expiry.
func (p *tcpProxy) setTTL(e *toxicEntry, t *Toxic) {
	e.disarm()
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
	i := slices.Index(p.toxics, e)
	if i < 0 || e.armed != armed {
		p.mu.Unlock()
		return false
	}
	p.removeLocked(i)
	moved := p.applyAllLocked()
	p.mu.Unlock()
	settle(moved)
	return true
}

// removeToxic removes the named toxic.
func (p *tcpProxy) removeToxic(name string) error {
	p.mu.Lock()
	i := p.find(name)
	if i < 0 {
		p.mu.Unlock()
		return notFound(ErrToxicNotFound, name)
	}
	p.removeLocked(i)
	moved := p.applyAllLocked()
	p.mu.Unlock()
	settle(moved)
	return nil
}

func (p *tcpProxy) removeAllToxics() {
	p.mu.Lock()
	for len(p.toxics) > 0 {
		p.removeLocked(len(p.toxics) - 1)
	}
	moved := p.applyAllLocked()
	p.mu.Unlock()
	settle(moved)
}

// removeLocked drops toxic i and stops its expiry.
func (p *tcpProxy) removeLocked(i int) {
	e := p.toxics[i]
	e.disarm()
	p.toxics = slices.Delete(p.toxics, i, i+1)
	p.closeSwallowedLocked(e)
	for l := range p.links {
		delete(l.draws, e)
	}
}

// closeSwallowedLocked closes the connections on which e, if it is a
// timeout toxic, applies: the data it swallowed is lost, so a connection
// cannot go on once e stops applying to it (as in Toxiproxy). Callers
// call it before e's draws change.
func (p *tcpProxy) closeSwallowedLocked(e *toxicEntry) {
	if e.t.Type != ToxicTimeout && e.t.Type != ToxicBlackhole {
		return
	}
	for l := range p.links {
		if l.draws[e] {
			l.close(false)
			delete(p.links, l)
		}
	}
}
