package probe

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const day = 24 * time.Hour

// A certSpec is one certificate to make; its validity is relative to t0,
// the tests' clock.
type certSpec struct {
	cn        string
	names     []string // DNS names and IPs
	from, to  time.Duration
	ca        bool
	parent    *x509.Certificate // nil: self-signed
	parentKey crypto.Signer
}

var serial int64

func makeCert(t *testing.T, s certSpec) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: s.cn, Organization: []string{"Spof Test"}},
		NotBefore:             t0.Add(s.from),
		NotAfter:              t0.Add(s.to),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  s.ca,
	}
	if s.ca {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
		tmpl.ExtKeyUsage = nil
	}
	for _, n := range s.names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	parent, parentKey := s.parent, s.parentKey
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// serveTLS serves chain (leaf first) with key on loopback until the test
// ends, and returns its port and the SNI names it was sent.
func serveTLS(t *testing.T, key crypto.Signer, chain ...*x509.Certificate) (port string, sni func() []string) {
	t.Helper()
	var mu sync.Mutex
	var names []string
	cert := tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, c := range chain {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{cert},
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			mu.Lock()
			names = append(names, hello.ServerName)
			mu.Unlock()
			return nil, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				conn.(*tls.Conn).Handshake()
				conn.Close()
			})
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), names...)
	}
}

// testPKI is a root, an intermediate under it, and one expiring soon.
type testPKI struct {
	roots                   *x509.CertPool
	root, inter, interShort *x509.Certificate
	rootKey, interKey       crypto.Signer
	interShortKey           crypto.Signer
}

func newPKI(t *testing.T) testPKI {
	var p testPKI
	p.root, p.rootKey = makeCert(t, certSpec{cn: "Spof Test Root", from: -365 * day, to: 3650 * day, ca: true})
	p.inter, p.interKey = makeCert(t, certSpec{cn: "Spof Test Intermediate", from: -365 * day, to: 1000 * day, ca: true, parent: p.root, parentKey: p.rootKey})
	p.interShort, p.interShortKey = makeCert(t, certSpec{cn: "Spof Old Intermediate", from: -365 * day, to: 10*day + time.Hour, ca: true, parent: p.root, parentKey: p.rootKey})
	p.roots = x509.NewCertPool()
	p.roots.AddCert(p.root)
	return p
}

func TestTLS(t *testing.T) {
	p := newPKI(t)
	leaf := func(names []string, from, to time.Duration) (*x509.Certificate, crypto.Signer) {
		return makeCert(t, certSpec{cn: names[0], names: names, from: from, to: to, parent: p.inter, parentKey: p.interKey})
	}
	tests := []struct {
		name       string
		host       string // of the address
		serverName string // option
		serve      func() (crypto.Signer, []*x509.Certificate)
		daysLeft   int
		chainValid bool
		hostValid  bool
		findings   []string
		hazards    []string
		sni        string // what the server was sent
	}{
		{
			name: "valid", host: "localhost",
			serve: func() (crypto.Signer, []*x509.Certificate) {
				c, k := leaf([]string{"localhost"}, -10*day, 90*day+time.Hour)
				return k, []*x509.Certificate{c, p.inter}
			},
			daysLeft: 90, chainValid: true, hostValid: true, sni: "localhost",
		},
		{
			name: "server name option", host: "127.0.0.1", serverName: "shop.test",
			serve: func() (crypto.Signer, []*x509.Certificate) {
				c, k := leaf([]string{"shop.test", "www.shop.test"}, -10*day, 60*day+time.Hour)
				return k, []*x509.Certificate{c, p.inter}
			},
			daysLeft: 60, chainValid: true, hostValid: true, sni: "shop.test",
		},
		{
			name: "IP address", host: "127.0.0.1",
			serve: func() (crypto.Signer, []*x509.Certificate) {
				c, k := leaf([]string{"db.internal", "127.0.0.1"}, -10*day, 300*day+time.Hour)
				return k, []*x509.Certificate{c, p.inter}
			},
			daysLeft: 300, chainValid: true, hostValid: true, sni: "",
		},
		{
			name: "expiring in 5 days", host: "127.0.0.1", serverName: "shop.test",
			serve: func() (crypto.Signer, []*x509.Certificate) {
				c, k := leaf([]string{"shop.test"}, -85*day, 5*day+time.Hour)
				return k, []*x509.Certificate{c, p.inter}
			},
			daysLeft: 5, chainValid: true, hostValid: true, sni: "shop.test",
			findings: []string{"expiring"}, hazards: []string{"shop.test-certificate-expiring"},
		},
		{
			name: "expired", host: "127.0.0.1", serverName: "shop.test",
			serve: func() (crypto.Signer, []*x509.Certificate) {
				c, k := leaf([]string{"shop.test"}, -93*day, -3*day)
				return k, []*x509.Certificate{c, p.inter}
			},
			daysLeft: -3, chainValid: true, hostValid: true, sni: "shop.test",
			findings: []string{"expired"}, hazards: []string{"shop.test-certificate-expired"},
		},
		{
			name: "wrong host name", host: "127.0.0.1", serverName: "shop.test",
			serve: func() (crypto.Signer, []*x509.Certificate) {
				c, k := leaf([]string{"admin.shop.test"}, -10*day, 90*day+time.Hour)
				return k, []*x509.Certificate{c, p.inter}
			},
			daysLeft: 90, chainValid: true, hostValid: false, sni: "shop.test",
			findings: []string{"hostname-mismatch"},
		},
		{
			name: "self-signed", host: "127.0.0.1", serverName: "shop.test",
			serve: func() (crypto.Signer, []*x509.Certificate) {
				c, k := makeCert(t, certSpec{cn: "shop.test", names: []string{"shop.test"}, from: -10 * day, to: 90*day + time.Hour})
				return k, []*x509.Certificate{c}
			},
			daysLeft: 90, chainValid: false, hostValid: true, sni: "shop.test",
			findings: []string{"untrusted"},
		},
		{
			name: "intermediate missing", host: "127.0.0.1", serverName: "shop.test",
			serve: func() (crypto.Signer, []*x509.Certificate) {
				c, k := leaf([]string{"shop.test"}, -10*day, 90*day+time.Hour)
				return k, []*x509.Certificate{c}
			},
			daysLeft: 90, chainValid: false, hostValid: true, sni: "shop.test",
			findings: []string{"untrusted"},
		},
		{
			name: "intermediate expiring", host: "127.0.0.1", serverName: "shop.test",
			serve: func() (crypto.Signer, []*x509.Certificate) {
				c, k := makeCert(t, certSpec{cn: "shop.test", names: []string{"shop.test"}, from: -10 * day, to: 90*day + time.Hour, parent: p.interShort, parentKey: p.interShortKey})
				return k, []*x509.Certificate{c, p.interShort}
			},
			daysLeft: 90, chainValid: true, hostValid: true, sni: "shop.test",
			findings: []string{"chain-expiring"}, hazards: []string{"shop.test-certificate-chain-expiring"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, chain := tt.serve()
			port, sni := serveTLS(t, key, chain...)
			opts := TLSOptions{ServerName: tt.serverName, RootCAs: p.roots, Now: func() time.Time { return t0 }, Timeout: 5 * time.Second}
			reports, err := TLS(context.Background(), []string{net.JoinHostPort(tt.host, port)}, opts)
			if err != nil {
				t.Fatal(err)
			}
			r := reports[0]
			var codes, hazards []string
			for _, f := range r.Findings {
				codes = append(codes, f.Code)
			}
			for _, h := range r.Hazards() {
				hazards = append(hazards, h.Name)
				if len(h.Breaks) != 1 || h.Breaks[0] != r.Component {
					t.Errorf("hazard %s breaks %v, want [%s]", h.Name, h.Breaks, r.Component)
				}
			}
			got := []any{r.DaysLeft, r.ChainValid, r.HostnameValid, codes, hazards, sni()}
			want := []any{tt.daysLeft, tt.chainValid, tt.hostValid, tt.findings, tt.hazards, []string{tt.sni}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("days left, chain valid, host name valid, findings, hazards, SNI (-want +got):\n%s\n%+v", diff, r.Findings)
			}
			if r.Issuer != chain[0].Issuer.String() || r.NotAfter != chain[0].NotAfter || r.Version != "TLS 1.3" {
				t.Errorf("issuer %q, not after %s, version %s; want %q, %s, TLS 1.3", r.Issuer, r.NotAfter, r.Version, chain[0].Issuer, chain[0].NotAfter)
			}
		})
	}
}

// TestTLSReport checks the text, JSON and snippet of reports on a few
// addresses at once, one of them closed.
func TestTLSReport(t *testing.T) {
	p := newPKI(t)
	c, k := makeCert(t, certSpec{cn: "shop.test", names: []string{"shop.test", "www.shop.test"}, from: -85 * day, to: 5*day + time.Hour, parent: p.inter, parentKey: p.interKey})
	expiring, _ := serveTLS(t, k, c, p.inter)
	c, k = makeCert(t, certSpec{cn: "shop.test", names: []string{"shop.test"}, from: -10 * day, to: 90*day + time.Hour})
	selfSigned, _ := serveTLS(t, k, c)
	closed := closedPort(t)

	addrs := []string{"127.0.0.1:" + expiring, "127.0.0.1:" + selfSigned, "127.0.0.1:" + closed}
	reports, err := TLS(context.Background(), addrs, TLSOptions{ServerName: "shop.test", RootCAs: p.roots, Now: func() time.Time { return t0 }})
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "probe tls "+addrs[2]+": unreachable: ") || strings.Contains(err.Error(), addrs[0]) {
		t.Errorf("TLS error = %v, want one naming only %s, unreachable", err, addrs[2])
	}
	if len(reports) != 3 || reports[2].Error == "" || reports[0].Error != "" {
		t.Fatalf("reports = %+v, want 3, the last with an error", reports)
	}

	var buf bytes.Buffer
	for _, r := range reports {
		if err := r.Text(&buf); err != nil {
			t.Fatal(err)
		}
		s, err := r.Snippet()
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(s)
	}
	reports[2].Error = "connection refused" // the wording differs by OS
	js, err := json.MarshalIndent(reports, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	buf.Write(js)
	out := buf.String()
	for i, port := range []string{expiring, selfSigned, closed} {
		out = strings.ReplaceAll(out, "127.0.0.1:"+port, "127.0.0.1:PORT"+string(rune('1'+i)))
	}
	// The closed port's error text names the system call.
	out = regexp.MustCompile(`error: dial tcp .*`).ReplaceAllString(out, "error: dial tcp ...")
	golden(t, filepath.Join("testdata", "tls", "report.golden"), []byte(out))
}

func TestTLSNoHandshake(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var conns []net.Conn
	wg.Go(func() {
		for {
			conn, err := ln.Accept() // and never answer
			if err != nil {
				return
			}
			conns = append(conns, conn)
		}
	})
	defer func() {
		ln.Close()
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reports, err := TLS(ctx, []string{ln.Addr().String()}, TLSOptions{Timeout: 200 * time.Millisecond})
	if ctx.Err() != nil {
		t.Fatal("TLS returned only when its context ended: Timeout did not bound it")
	}
	want := "probe tls " + ln.Addr().String() + ": unreachable: no handshake within 200ms"
	if !errors.Is(err, ErrUnreachable) || err.Error() != want || reports[0].Error != "no handshake within 200ms" {
		t.Errorf("TLS = %+v, %v; want error %q", reports, err, want)
	}
}

func TestTLSCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	addr := "127.0.0.1:" + closedPort(t)
	_, err := TLS(ctx, []string{addr}, TLSOptions{})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), addr) {
		t.Errorf("TLS with a canceled context = %v, want context.Canceled naming %s, not unreachable", err, addr)
	}
}

func TestTLSBadInput(t *testing.T) {
	for _, tt := range []struct {
		addrs []string
		want  string
	}{
		{nil, "no address given"},
		{[]string{"shop.test"}, `"shop.test": missing port (give host:port`},
		{[]string{"shop.test:443", "https://shop.test/"}, `"https://shop.test/" is a URL: give host:port (shop.test:443)`},
		{[]string{"shop.test:https"}, `port "https" is not a number from 1 to 65535`},
		{[]string{"shop.test:0"}, `port "0" is not a number`},
		{[]string{":443"}, `":443": no host`},
	} {
		reports, err := TLS(context.Background(), tt.addrs, TLSOptions{})
		if reports != nil || !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("TLS(%q) = %v, %v; want a bad input error containing %q", tt.addrs, reports, err, tt.want)
		}
	}
}

func TestDaysUntil(t *testing.T) {
	for _, tt := range []struct {
		left time.Duration
		want int
	}{
		{5*day + time.Hour, 5},
		{5 * day, 5},
		{23 * time.Hour, 0},
		{-time.Hour, -1},
		{-3 * day, -3},
	} {
		if got := daysUntil(t0, t0.Add(tt.left)); got != tt.want {
			t.Errorf("daysUntil(%s left) = %d, want %d", tt.left, got, tt.want)
		}
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}
