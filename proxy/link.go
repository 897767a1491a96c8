package proxy

import (
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Directions of a connection, indexing link.pipes and stats.bytes.
const (
	dirUpstream   = 0 // client → upstream server
	dirDownstream = 1 // upstream server → client
)

// A stage is one toxic in a connection's chain for one direction: the
// toxic's identity and the settings in force.
type stage struct {
	id *toxicEntry
	t  *Toxic
}

// A link is one client connection and its connection to the upstream.
type link struct {
	p              *tcpProxy
	client, server *net.TCPConn
	pipes          [2]pipe
	// draws records, per toxic, whether its toxicity draw made it apply
	// to this connection. Guarded by p.mu.
	draws map[*toxicEntry]bool

	once sync.Once
	done chan struct{} // closed by close
}

// A pipe copies one direction of a link.
type pipe struct {
	l        *link
	dir      int
	src, dst *net.TCPConn
	// chain is the toxics applying to this direction, nil for none. A
	// change stores the new chain, then interrupts the copy with a read
	// deadline in the past: the copy clears the deadline, then loads the
	// chain, so it never misses a change.
	chain  atomic.Pointer[[]stage]
	notify chan struct{} // a change, for the toxic writer; capacity 1
	lr     io.LimitedReader
	// copying is held (capacity 1) by the fast path while it copies. A
	// change that moves the pipe off the fast path waits for it: a copy
	// parked for data can be woken by data that arrives after the read
	// deadline was set, and would splice it with no toxic.
	copying chan struct{}
	w       *writer // made when the first toxic applies
	filled  int     // reads in a row that filled the buffer (> 0) or were small (< 0)
}

func newLink(p *tcpProxy, client *net.TCPConn) *link {
	l := &link{p: p, client: client, draws: map[*toxicEntry]bool{}, done: make(chan struct{})}
	for d := range l.pipes {
		l.pipes[d] = pipe{l: l, dir: d, notify: make(chan struct{}, 1), copying: make(chan struct{}, 1)}
	}
	return l
}

// draw reports whether toxic e applies to l, drawing against its toxicity
// the first time. p.mu must be held.
func (l *link) draw(e *toxicEntry, rand func() float64) bool {
	applies, ok := l.draws[e]
	if !ok {
		applies = rand() < e.t.Toxicity
		l.draws[e] = applies
	}
	return applies
}

// connect completes the link with its upstream connection.
func (l *link) connect(server *net.TCPConn) {
	l.server = server
	l.pipes[dirUpstream].src, l.pipes[dirUpstream].dst = l.client, server
	l.pipes[dirDownstream].src, l.pipes[dirDownstream].dst = server, l.client
}

// close ends the link; with reset, both peers get a TCP RST instead of a
// FIN.
func (l *link) close(reset bool) {
	l.once.Do(func() {
		// Mark the link closed before closing the sockets: a pipe whose
		// copy fails because of this close must see closed() and not
		// count the error as an I/O failure.
		close(l.done)
		for _, c := range []*net.TCPConn{l.client, l.server} {
			if c == nil {
				continue
			}
			if reset {
				c.SetLinger(0)
			}
			c.Close()
		}
	})
}

func (l *link) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// setChains gives each direction its toxics and returns the directions
// that leave the fast path (see settle).
func (l *link) setChains(chains [2][]stage) (moved []*pipe) {
	for d := range l.pipes {
		if l.pipes[d].set(chains[d]) {
			moved = append(moved, &l.pipes[d])
		}
	}
	return moved
}

// settle waits until p is not in the middle of a fast-path copy, so that
// whatever arrives from now on meets the toxics set before. It gives up
// when stop is closed: a copy can be stuck writing to a peer that does
// not read, and it reads nothing more then anyway.
func (p *pipe) settle(stop <-chan struct{}) {
	select {
	case p.copying <- struct{}{}:
		<-p.copying
	case <-p.l.done:
	case <-stop:
	}
}

// run copies both directions until both end, then closes the link.
func (l *link) run() {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.pipes[dirUpstream].run()
	}()
	l.pipes[dirDownstream].run()
	wg.Wait()
	l.close(false)
}

// aLongTimeAgo is a read deadline that interrupts a blocked read at once.
var aLongTimeAgo = time.Unix(1, 0)

// errSwitch tells copy to pick the path again: the toxics changed.
var errSwitch = errors.New("toxics changed")

// errLinkClosed ends a toxic writer whose link was closed, by a toxic or
// from outside.
var errLinkClosed = errors.New("connection closed")

// set publishes a new chain and interrupts the copy; it reports whether
// the pipe leaves the fast path.
func (p *pipe) set(chain []stage) bool {
	old := p.chain.Load()
	if (old == nil && len(chain) == 0) || (old != nil && slices.Equal(*old, chain)) {
		return false
	}
	if len(chain) == 0 {
		p.chain.Store(nil)
	} else {
		p.chain.Store(&chain)
	}
	select {
	case p.notify <- struct{}{}:
	default:
	}
	if p.src != nil {
		p.src.SetReadDeadline(aLongTimeAgo)
	}
	return old == nil
}

func (p *pipe) run() {
	err := p.copy()
	if err == nil {
		// End of stream: pass it on, and let the other direction finish.
		p.dst.CloseWrite()
		return
	}
	if !p.l.closed() && !errors.Is(err, errLinkClosed) {
		p.l.p.stats.errors[errIO].Add(1)
	}
	p.l.close(false)
}

// copy copies until the end of the stream (nil) or an error: on the fast
// path while no toxic applies; in the reading goroutine while the toxics
// never hold data back (limit_data, timeout, latency 0, ...); through a
// writer goroutine while one may.
func (p *pipe) copy() error {
	defer func() {
		if p.w != nil {
			p.w.stopAll()
		}
	}()
	for {
		var err error
		c := p.chain.Load()
		if c != nil && p.w == nil {
			p.w = newWriter(p)
		}
		switch {
		case c == nil:
			err = p.fast()
		case holdsData(*c):
			err = p.slow()
		default:
			err = p.inline()
		}
		if err != errSwitch {
			return err
		}
	}
}

// holdsData reports whether a chain may keep data waiting: then reading
// must go on meanwhile, in its own goroutine, to stamp arrivals on time.
func holdsData(chain []stage) bool {
	for _, s := range chain {
		a := s.t.Attributes
		switch s.t.Type {
		case ToxicLatency:
			if a["latency"] > 0 || a["jitter"] > 0 {
				return true
			}
		case ToxicBandwidth:
			if a["rate"] > 0 {
				return true
			}
		case ToxicSlicer:
			if a["average_size"] > 0 && a["delay"] > 0 {
				return true
			}
		case ToxicResetPeer:
			if a["timeout"] > 0 {
				return true
			}
		}
	}
	return false
}

// segment is how much the fast path copies between updates of the byte
// counters: big enough to cost nothing, small enough for live metrics.
const segment = 4 << 20

// fast is the bare relay's path: TCPConn.ReadFrom from a TCPConn (behind a
// LimitedReader, which it unwraps) is splice(2) on Linux, so the bytes
// never leave the kernel.
func (p *pipe) fast() error {
	p.lr.R = p.src
	for {
		p.lr.N = segment
		p.copying <- struct{}{}
		n, err := p.dst.ReadFrom(&p.lr)
		<-p.copying
		p.l.p.stats.bytes[p.dir].Add(n)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				p.src.SetReadDeadline(time.Time{})
				return errSwitch
			}
			return err
		}
		if p.lr.N > 0 {
			return nil // end of stream before the end of the segment
		}
	}
}

// A chunk is what one read returned, stamped with when it arrived.
type chunk struct {
	data []byte
	at   time.Time
	buf  *[]byte // to give back to bufPool
	eof  bool
}

var (
	bufPool    = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
	bigBufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}
)

// inline applies toxics that never hold data back in the goroutine that
// reads: no hand-off between goroutines for each chunk.
func (p *pipe) inline() error {
	w := p.w
	// cur is the chain in force; leave, whether it is gone or holds data
	// back now, is worked out once per change rather than once per read.
	var cur *[]stage
	leave := false
	reload := func() {
		cur = p.chain.Load()
		leave = cur == nil || holdsData(*cur)
		w.rebuild()
	}
	reload()
	// A bulk transfer fills the buffer at every read: move it to a bigger
	// one, for fewer system calls per byte, and back once reads are small
	// again, so that idle connections hold little memory.
	pool := &bufPool
	bp := pool.Get().(*[]byte)
	defer func() { pool.Put(bp) }()
	for {
		if pool == &bufPool && p.filled >= 4 {
			pool.Put(bp)
			pool = &bigBufPool
			bp = pool.Get().(*[]byte)
		}
		if pool == &bigBufPool && p.filled <= -16 {
			pool.Put(bp)
			pool = &bufPool
			bp = pool.Get().(*[]byte)
			p.filled = 0
		}
		n, err := p.src.Read(*bp)
		switch {
		case n == len(*bp):
			p.filled = max(p.filled, 0) + 1
		case n <= 32<<10:
			p.filled = min(p.filled, 0) - 1
		default:
			p.filled = 0
		}
		// A change made before this read returned applies to its data.
		if p.chain.Load() != cur {
			reload()
		}
		if n > 0 {
			if err := w.push(w.stages, (*bp)[:n], time.Now()); err != nil {
				return err
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			p.src.SetReadDeadline(time.Time{})
			if p.chain.Load() != cur {
				reload()
			}
		case err == io.EOF:
			return w.end(w.stages)
		default:
			return err
		}
		if leave {
			return errSwitch
		}
	}
}

// maxHeld bounds the bytes that the slow path holds per direction of a
// connection: data read, stamped and waiting for its toxics. A latency
// toxic's throughput is at most maxHeld per latency period (32 MiB: 3.3
// GB/s under 10 ms, 670 MB/s under 50 ms), so that latency delays data
// without limiting its rate; Toxiproxy's bound is the same (1024 chunks
// of up to 32 KiB).
const maxHeld = 32 << 20

// maxChunks bounds the chunks in flight, for data that arrives in many
// small reads; a chunk is a few words.
const maxChunks = 4096

// slow reads chunks and hands them to a writer goroutine that applies the
// toxics: reading on while the writer holds data back keeps the arrival
// times true, as latency needs.
func (p *pipe) slow() error {
	chunks := make(chan chunk, maxChunks)
	done := make(chan struct{})
	var werr error                 // set before done is closed
	var held atomic.Int64          // bytes sent and not yet written
	room := make(chan struct{}, 1) // the writer took held below maxHeld
	go func() {
		defer close(done)
		werr = p.w.run(chunks, func(n int) {
			if held.Add(-int64(n)) < maxHeld {
				select {
				case room <- struct{}{}:
				default:
				}
			}
		})
	}()
	send := func(c chunk) bool {
		select {
		case chunks <- c:
		case <-done:
			return false
		}
		if held.Add(int64(len(c.data))) < maxHeld {
			return true
		}
		for held.Load() >= maxHeld {
			select {
			case <-room:
			case <-done:
				return false
			}
		}
		return true
	}
	for {
		bp := bufPool.Get().(*[]byte)
		n, err := p.src.Read(*bp)
		if n > 0 {
			if !send(chunk{data: (*bp)[:n], at: time.Now(), buf: bp}) {
				bufPool.Put(bp)
				return werr
			}
		} else {
			bufPool.Put(bp)
		}
		switch {
		case err == nil:
			continue
		case errors.Is(err, os.ErrDeadlineExceeded):
			p.src.SetReadDeadline(time.Time{})
			if c := p.chain.Load(); c != nil && holdsData(*c) {
				continue
			}
			// No toxic holds data back any more: flush what the writer
			// holds, then to the fast path or inline.
			close(chunks)
			<-done
			if werr != nil {
				return werr
			}
			return errSwitch
		case err == io.EOF:
			send(chunk{eof: true})
			close(chunks)
			<-done
			return werr
		default:
			close(chunks)
			<-done
			return err
		}
	}
}

// A writer applies a pipe's toxics to its chunks, in order, and writes
// what comes out.
//
// A pipe has one writer for its lifetime, used by one goroutine at a time
// (the writer goroutine of slow, or the reader in inline), so that the
// toxics' state (limit_data's count, timeout's timer) survives switches.
type writer struct {
	p      *pipe
	stages []*stageState // a new slice on every change: a chunk keeps its snapshot
	byID   map[*toxicEntry]*stageState
	timer  *time.Timer
}

func newWriter(p *pipe) *writer {
	w := &writer{p: p, timer: time.NewTimer(time.Hour)}
	w.timer.Stop()
	return w
}

// stopAll stops the toxics' timers when the pipe ends.
func (w *writer) stopAll() {
	for _, st := range w.byID {
		st.stop()
	}
}

// stageState is one toxic's state on one direction of one connection.
type stageState struct {
	t       *Toxic
	removed bool        // removed since a chunk started through the chain
	sent    int64       // limit_data: bytes let through
	next    time.Time   // bandwidth: when the link is free again
	closer  *time.Timer // timeout: closes the connection
	closeAt int64       // timeout: the setting closer was armed for
}

// run writes the chunks until they end (nil), the end of the stream is
// written, or an error; it calls written with the size of each chunk it
// is done with.
func (w *writer) run(chunks <-chan chunk, written func(n int)) error {
	w.rebuild()
	for {
		select {
		case <-w.p.notify:
			w.rebuild()
			continue
		default:
		}
		select {
		case c, ok := <-chunks:
			if !ok {
				return nil
			}
			// The change may have come before the chunk was read, and
			// select picks among ready cases at random.
			select {
			case <-w.p.notify:
				w.rebuild()
			default:
			}
			if c.eof {
				return w.end(w.stages)
			}
			err := w.push(w.stages, c.data, c.at)
			written(len(c.data))
			bufPool.Put(c.buf)
			if err != nil {
				w.drain(chunks)
				return err
			}
		case <-w.p.notify:
			w.rebuild()
		case <-w.p.l.done:
			w.drain(chunks)
			return errLinkClosed
		}
	}
}

// drain gives back the buffers of chunks the writer will not write; the
// reader stops on its own once the link is closed.
func (w *writer) drain(chunks <-chan chunk) {
	for {
		select {
		case c, ok := <-chunks:
			if !ok {
				return
			}
			if c.buf != nil {
				bufPool.Put(c.buf)
			}
		default:
			return
		}
	}
}

// rebuild takes the pipe's current chain, keeping the state of the toxics
// that stay and marking the others removed.
func (w *writer) rebuild() {
	var chain []stage
	if c := w.p.chain.Load(); c != nil {
		chain = *c
	}
	stages := make([]*stageState, 0, len(chain))
	byID := make(map[*toxicEntry]*stageState, len(chain))
	for _, s := range chain {
		st := w.byID[s.id]
		if st == nil {
			st = &stageState{}
		}
		st.t = s.t
		w.arm(st)
		stages = append(stages, st)
		byID[s.id] = st
	}
	for id, st := range w.byID {
		if byID[id] == nil {
			st.removed = true
			st.stop()
		}
	}
	w.stages, w.byID = stages, byID
}

// arm starts a timeout toxic's closer, again if its setting changed.
func (w *writer) arm(st *stageState) {
	if st.t.Type != ToxicTimeout && st.t.Type != ToxicBlackhole {
		return
	}
	ms := st.t.Attributes["timeout"]
	if st.closer != nil && st.closeAt == ms {
		return
	}
	st.stop()
	st.closeAt = ms
	if ms > 0 {
		l := w.p.l
		st.closer = time.AfterFunc(scaled(ms, time.Millisecond), func() { l.close(false) })
	}
}

func (st *stageState) stop() {
	if st.closer != nil {
		st.closer.Stop()
		st.closer = nil
	}
}

// sleepUntil waits until the time until returns, or less if st's toxic is
// removed meanwhile. A change of the toxic asks until again, so that data
// held back meets the new setting (latency lowered to 0 releases it).
func (w *writer) sleepUntil(until func() time.Time, st *stageState) error {
	defer w.timer.Stop()
	for {
		d := time.Until(until())
		if d <= 0 {
			return nil
		}
		w.timer.Reset(d)
		select {
		case <-w.timer.C:
			return nil
		case <-w.p.notify:
			w.rebuild()
			if st.removed {
				return nil
			}
		case <-w.p.l.done:
			return errLinkClosed
		}
	}
}

// fixedTime returns a func for sleepUntil that always returns t.
func fixedTime(t time.Time) func() time.Time { return func() time.Time { return t } }

func (w *writer) rand() float64 { return w.p.l.p.srv.opts.Rand() }

// push passes data, which arrived at time at, through stages and writes
// what comes out.
func (w *writer) push(stages []*stageState, data []byte, at time.Time) error {
	for len(stages) > 0 && stages[0].removed {
		stages = stages[1:]
	}
	if len(stages) == 0 {
		n, err := w.p.dst.Write(data)
		w.p.l.p.stats.bytes[w.p.dir].Add(int64(n))
		return err
	}
	st, rest := stages[0], stages[1:]
	a := st.t.Attributes
	switch st.t.Type {
	case ToxicLatency:
		draw := -1.0 // the jitter draw, once per chunk
		until := func() time.Time {
			a := st.t.Attributes
			delay := scaled(a["latency"], time.Millisecond)
			if j := scaled(a["jitter"], time.Millisecond); j > 0 {
				if draw < 0 {
					draw = w.rand()
				}
				// Uniform in [-j, +j]; both terms are at most scaled's
				// ceiling, so the sum cannot overflow.
				delay += time.Duration((2*draw - 1) * float64(j))
			}
			return at.Add(delay)
		}
		if err := w.sleepUntil(until, st); err != nil {
			return err
		}
		if st.removed {
			return w.push(rest, data, at)
		}
		return w.push(rest, data, until())

	case ToxicBandwidth:
		rate := a["rate"] // KB/s, that is bytes per millisecond
		if rate <= 0 {
			return w.push(rest, data, at)
		}
		for len(data) > 0 {
			n := int64(len(data))
			if rate <= (n-1)/100 {
				n = rate * 100 // at most 100 ms at a time
			}
			now := time.Now()
			if st.next.Before(now) {
				st.next = now
			}
			st.next = st.next.Add(time.Duration(n) * time.Millisecond / time.Duration(rate))
			if err := w.sleepUntil(fixedTime(st.next), st); err != nil {
				return err
			}
			if st.removed {
				return w.push(rest, data, at)
			}
			if err := w.push(rest, data[:n], at); err != nil {
				return err
			}
			data = data[n:]
		}
		return nil

	case ToxicTimeout, ToxicBlackhole:
		return nil // swallowed

	case ToxicResetPeer:
		start := time.Now()
		until := func() time.Time { return start.Add(scaled(st.t.Attributes["timeout"], time.Millisecond)) }
		if err := w.sleepUntil(until, st); err != nil {
			return err
		}
		if st.removed {
			return w.push(rest, data, at)
		}
		w.p.l.close(true)
		return errLinkClosed

	case ToxicSlicer:
		cuts := slice(a["average_size"], a["size_variation"], len(data), w.rand)
		delay := scaled(a["delay"], time.Microsecond)
		start := 0
		for i, end := range cuts {
			if st.removed {
				return w.push(rest, data[start:], at)
			}
			if err := w.push(rest, data[start:end], at); err != nil {
				return err
			}
			start = end
			if i < len(cuts)-1 {
				if err := w.sleepUntil(fixedTime(time.Now().Add(delay)), st); err != nil {
					return err
				}
			}
		}
		return nil

	case ToxicLimitData:
		left := a["bytes"] - st.sent
		if int64(len(data)) > left {
			data = data[:max(left, 0)]
		}
		if len(data) > 0 {
			if err := w.push(rest, data, at); err != nil {
				return err
			}
			st.sent += int64(len(data))
		}
		if st.sent >= a["bytes"] {
			w.p.l.close(false)
			return errLinkClosed
		}
		return nil
	}
	// slow_close acts at the end of the stream; down at the proxy.
	return w.push(rest, data, at)
}

// end passes the end of the stream through stages: slow_close holds it
// back.
func (w *writer) end(stages []*stageState) error {
	for _, st := range stages {
		if st.removed || st.t.Type != ToxicSlowClose {
			continue
		}
		start := time.Now()
		until := func() time.Time { return start.Add(scaled(st.t.Attributes["delay"], time.Millisecond)) }
		if err := w.sleepUntil(until, st); err != nil {
			return err
		}
	}
	return nil
}

// slice returns the ends of the pieces that a slicer toxic cuts n bytes
// into, as Toxiproxy does: halves, moved by up to ±variation, until each
// is at most average+variation long. An average of 0 cuts nothing.
func slice(average, variation int64, n int, rand func() float64) []int {
	if average <= 0 || average >= int64(n) {
		return []int{n}
	}
	// Below n, so that no sum overflows; a variation as large as the
	// average would cut pieces of size 0 or less.
	variation = max(min(variation, average-1), 0)
	if int64(n) <= average+variation {
		return []int{n}
	}
	var cuts []int
	var cut func(start, end int)
	cut = func(start, end int) {
		if int64(end-start)-average <= variation {
			cuts = append(cuts, end)
			return
		}
		mid := start + (end-start)/2
		if variation > 0 {
			mid += int(int64(rand()*float64(2*variation)) - variation)
		}
		cut(start, mid)
		cut(mid, end)
	}
	cut(0, n)
	return cuts
}
