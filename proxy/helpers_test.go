package proxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spofhq/spof/proxy/proxytest"
	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestMain fails the run if a test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testTimeout bounds every wait on the network, so that a bug fails a
// test instead of hanging the suite.
const testTimeout = 10 * time.Second

// newServer returns a Server closed when the test ends. Tests close their
// own connections first (cleanups run last in, first out), so a
// connection still open at the end is a failure to drain.
func newServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s := New(opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("closing the server: %v", err)
		}
	})
	return s
}

// A testProxy is one proxy of a test's Server, with helpers that fail the
// test on error.
type testProxy struct {
	t    testing.TB
	s    *Server
	name string
	addr string // where it listens
}

// startProxy starts a Server with opts and one proxy to upstream on a free
// loopback port.
func startProxy(t testing.TB, opts Options, upstream string) *testProxy {
	t.Helper()
	s := newServer(t, opts)
	info, err := s.CreateProxy(ProxyConfig{Name: "test", Listen: "127.0.0.1:0", Upstream: upstream, Enabled: true})
	if err != nil {
		t.Fatalf("creating the proxy: %v", err)
	}
	return &testProxy{t: t, s: s, name: info.Name, addr: info.Listen}
}

func (tp *testProxy) add(tx Toxic) Toxic {
	tp.t.Helper()
	got, err := tp.s.AddToxic(tp.name, tx)
	if err != nil {
		tp.t.Fatalf("adding toxic %+v: %v", tx, err)
	}
	return got
}

func (tp *testProxy) update(tx Toxic) Toxic {
	tp.t.Helper()
	got, err := tp.s.UpdateToxic(tp.name, tx)
	if err != nil {
		tp.t.Fatalf("updating toxic %+v: %v", tx, err)
	}
	return got
}

func (tp *testProxy) remove(name string) {
	tp.t.Helper()
	if err := tp.s.RemoveToxic(tp.name, name); err != nil {
		tp.t.Fatalf("removing toxic %s: %v", name, err)
	}
}

// dial connects to the proxy; the connection is closed when the test ends.
func (tp *testProxy) dial() *net.TCPConn {
	tp.t.Helper()
	return dial(tp.t, tp.addr)
}

// metric returns the value of one series of the proxy, such as
// `spof_proxy_errors_total{kind="io"}` (the proxy label is added).
func (tp *testProxy) metric(series string) int64 {
	tp.t.Helper()
	name, labels, _ := strings.Cut(series, "{")
	key := name + `{proxy="` + tp.name + `"`
	if labels != "" {
		key += "," + labels
	} else {
		key += "}"
	}
	var b bytes.Buffer
	if err := tp.s.writeMetrics(&b); err != nil {
		tp.t.Fatalf("writing metrics: %v", err)
	}
	sc := bufio.NewScanner(&b)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+" "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				tp.t.Fatalf("metric %s: %v", key, err)
			}
			return n
		}
	}
	tp.t.Fatalf("no metric %s in:\n%s", key, b.String())
	return 0
}

// waitMetric polls until the series has value want: counters updated
// when a connection ends trail what the client sees.
func (tp *testProxy) waitMetric(series string, want int64) {
	tp.t.Helper()
	waitFor(tp.t, func() string {
		if got := tp.metric(series); got != want {
			return fmt.Sprintf("%s = %d, want %d", series, got, want)
		}
		return ""
	})
}

// waitFor polls cond until it returns "", failing the test with its last
// answer after testTimeout. Only for state that has no event to wait on.
func waitFor(t testing.TB, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", testTimeout, msg)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func dial(t testing.TB, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatalf("dialling %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(testTimeout))
	return c.(*net.TCPConn)
}

// serveTCP runs handle for each connection to a new loopback server and
// returns its address; each connection has testTimeout to end. When the
// test ends the server closes every connection and waits for the
// handlers.
func serveTCP(t testing.TB, handle func(c *net.TCPConn)) string {
	t.Helper()
	return proxytest.Serve(t, func(c *net.TCPConn) {
		c.SetDeadline(time.Now().Add(testTimeout))
		handle(c)
	})
}

// startEcho starts a server that writes back what it reads and closes its
// side when the client has closed its own.
func startEcho(t testing.TB) string {
	return serveTCP(t, proxytest.Echo)
}

// startSink starts a server that reads until the end of the stream and
// sends what it read, one value per connection, on the returned channel.
func startSink(t testing.TB) (string, <-chan []byte) {
	got := make(chan []byte, 16)
	addr := serveTCP(t, func(c *net.TCPConn) {
		data, _ := io.ReadAll(c)
		got <- data
	})
	return addr, got
}

// startSource starts a server that writes data to each connection and
// closes it.
func startSource(t testing.TB, data []byte) string {
	return serveTCP(t, func(c *net.TCPConn) { c.Write(data) })
}

// refusedAddr returns a loopback address where connections are refused: a
// socket is bound to the port, so no other test can take it, but it does
// not listen.
func refusedAddr(t testing.TB) string {
	_, addr := boundSocket(t)
	return addr
}

// boundSocket returns a TCP socket bound to a free loopback port, closed
// when the test ends, and its address.
func boundSocket(t testing.TB) (int, string) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.CloseOnExec(fd)
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fd, net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
}

// roundTrip writes msg to c, reads the echo back, and returns how long it
// took.
func roundTrip(t testing.TB, c net.Conn, msg string) time.Duration {
	t.Helper()
	start := time.Now()
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatalf("writing %q: %v", msg, err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("reading the echo of %q: %v (got %q)", msg, err, got)
	}
	if string(got) != msg {
		t.Fatalf("echo = %q, want %q", got, msg)
	}
	return time.Since(start)
}

// held reports whether nothing arrives on c within d: data is being held
// back. It leaves c's deadline at testTimeout from now.
func held(t testing.TB, c net.Conn, d time.Duration) bool {
	t.Helper()
	defer c.SetReadDeadline(time.Now().Add(testTimeout))
	c.SetReadDeadline(time.Now().Add(d))
	var b [1]byte
	n, err := c.Read(b[:])
	if n == 0 && errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	t.Logf("read %d bytes, err %v", n, err)
	return false
}

// numbered returns n bytes of numbered data: the big-endian index of each
// 4-byte word, so that a byte lost, duplicated or reordered shows as a
// word out of place.
func numbered(n int) []byte {
	b := make([]byte, (n+3)/4*4)
	for i := 0; i < len(b); i += 4 {
		binary.BigEndian.PutUint32(b[i:], uint32(i/4))
	}
	return b[:n]
}

// checkNumbered reports where got departs from numbered(len(want)).
func checkNumbered(got, want []byte) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d bytes, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			word := i / 4 * 4
			return fmt.Errorf("byte %d: word %x, want %x", i, got[word:min(word+4, len(got))], want[word:min(word+4, len(want))])
		}
	}
	return nil
}

// isReset reports whether err is a TCP reset, as a client sees it.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET)
}
