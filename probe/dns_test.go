package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/spofhq/spof/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// A fakeZone is a delegation the fake resolver knows.
type fakeZone struct {
	ns   []string // name server names
	glue bool     // send their addresses with the NS answer
}

// dnsWorld is a small Internet on loopback: a resolver that knows zones
// and name server addresses, and authoritative name servers on other
// loopback addresses, all on one UDP port.
type dnsWorld struct {
	zones map[string]fakeZone
	// subzones answer NS queries with no NS records and this zone's SOA
	// in the authority section (a name inside a zone).
	subzones map[string]string
	addrs    map[string]string            // name server name → IPv4
	serials  map[string]map[string]uint32 // name server IP → zone → serial; other zones get REFUSED
	silent   []string                     // IPs that read queries and never answer
	cnames   map[string]string            // aliases
}

// world is the shared test fixture: providers and faults named by zone.
var world = dnsWorld{
	zones: map[string]fakeZone{
		// Route 53's usual four, over four TLDs: still one provider.
		"shop.test.": {ns: []string{"ns-1204.awsdns-22.org.", "ns-1899.awsdns-45.co.uk.", "ns-318.awsdns-39.com.", "ns-707.awsdns-24.net."}},
		// Cloudflare and NS1.
		"bank.test.": {ns: []string{"ada.ns.cloudflare.com.", "dns1.p01.nsone.net."}},
		// Two providers whose serials differ: a transfer stopped.
		"drift.test.": {ns: []string{"bob.ns.cloudflare.com.", "dns2.p01.nsone.net."}},
		// One name server never answers.
		"dead.test.": {ns: []string{"ns1.google.com.", "ns1.gone.example."}},
		// Self-hosted, with glue; one of them refuses the zone (lame).
		"self.test.": {ns: []string{"ns1.self.test.", "ns2.self.test."}, glue: true},
		// Two names, one machine.
		"twin.test.": {ns: []string{"ns1.twin.test.", "ns2.twin.test."}, glue: true},
		// Nobody answers with authority.
		"down.test.": {ns: []string{"ns1.gone.example.", "ns2.self.test."}},
		// One name server only.
		"solo.test.": {ns: []string{"ns.solo-dns.example."}},
	},
	subzones: map[string]string{"www.shop.test.": "shop.test."},
	cnames:   map[string]string{"www.bank.test.": "bank-prod.cdn.example."},
	addrs: map[string]string{
		"ns-1204.awsdns-22.org.":   "127.0.0.11",
		"ns-1899.awsdns-45.co.uk.": "127.0.0.12",
		"ns-318.awsdns-39.com.":    "127.0.0.13",
		"ns-707.awsdns-24.net.":    "127.0.0.14",
		"ada.ns.cloudflare.com.":   "127.0.0.21",
		"bob.ns.cloudflare.com.":   "127.0.0.22",
		"dns1.p01.nsone.net.":      "127.0.0.31",
		"dns2.p01.nsone.net.":      "127.0.0.32",
		"ns1.google.com.":          "127.0.0.41",
		"ns1.gone.example.":        "127.0.0.99",
		"ns1.self.test.":           "127.0.0.51",
		"ns2.self.test.":           "127.0.0.52",
		"ns1.twin.test.":           "127.0.0.51",
		"ns2.twin.test.":           "127.0.0.51",
		"ns.solo-dns.example.":     "127.0.0.61",
	},
	serials: map[string]map[string]uint32{
		"127.0.0.11": {"shop.test.": 2025010201},
		"127.0.0.12": {"shop.test.": 2025010201},
		"127.0.0.13": {"shop.test.": 2025010201},
		"127.0.0.14": {"shop.test.": 2025010201},
		"127.0.0.21": {"bank.test.": 7},
		"127.0.0.31": {"bank.test.": 7},
		"127.0.0.22": {"drift.test.": 2025010203},
		"127.0.0.32": {"drift.test.": 2024122901},
		"127.0.0.41": {"dead.test.": 12},
		"127.0.0.51": {"self.test.": 3, "twin.test.": 9},
		"127.0.0.52": {}, // lame: not configured for self.test
		"127.0.0.61": {"solo.test.": 1},
	},
	silent: []string{"127.0.0.99"},
}

// startWorld serves w on loopback and returns the resolver's address and
// the port every name server listens on.
func startWorld(t *testing.T, w dnsWorld) (resolver string, port int) {
	t.Helper()
	ips := []string{"127.0.0.1"}
	for ip := range w.serials {
		ips = append(ips, ip)
	}
	ips = append(ips, w.silent...)
	var conns []net.PacketConn
	for try := 0; ; try++ {
		conns = listenAll(ips)
		if conns != nil {
			break
		}
		if try == 20 {
			t.Fatal("no UDP port free on every loopback address")
		}
	}
	port = conns[0].LocalAddr().(*net.UDPAddr).Port

	var wg sync.WaitGroup
	for i, conn := range conns {
		ip := ips[i]
		switch {
		case ip == "127.0.0.1":
			serveDNS(t, conn, w.resolve)
		case containsString(w.silent, ip):
			wg.Go(func() {
				buf := make([]byte, 512)
				for {
					if _, _, err := conn.ReadFrom(buf); err != nil {
						return
					}
				}
			})
			t.Cleanup(func() { conn.Close(); wg.Wait() })
		default:
			serials := w.serials[ip]
			serveDNS(t, conn, func(req *dns.Msg) *dns.Msg { return authoritative(req, serials) })
		}
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), port
}

// listenAll binds UDP on one port at every IP, or returns nil when that
// port is taken somewhere.
func listenAll(ips []string) []net.PacketConn {
	first, err := net.ListenPacket("udp", ips[0]+":0")
	if err != nil {
		return nil
	}
	port := first.LocalAddr().(*net.UDPAddr).Port
	conns := []net.PacketConn{first}
	for _, ip := range ips[1:] {
		c, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			return nil
		}
		conns = append(conns, c)
	}
	return conns
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// serveDNS answers queries on conn with answer until the test ends.
func serveDNS(t *testing.T, conn net.PacketConn, answer func(*dns.Msg) *dns.Msg) {
	started := make(chan struct{})
	srv := &dns.Server{
		PacketConn:        conn,
		NotifyStartedFunc: func() { close(started) },
		Handler: dns.HandlerFunc(func(rw dns.ResponseWriter, req *dns.Msg) {
			rw.WriteMsg(answer(req))
		}),
	}
	done := make(chan error, 1)
	go func() { done <- srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() {
		srv.Shutdown()
		<-done
	})
}

// resolve is the fake recursive resolver.
func (w dnsWorld) resolve(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	m.RecursionAvailable = true
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	switch {
	case q.Qtype == dns.TypeNS && w.zones[name].ns != nil:
		z := w.zones[name]
		for _, ns := range z.ns {
			m.Answer = append(m.Answer, &dns.NS{Hdr: hdr(name, dns.TypeNS), Ns: ns})
			if z.glue {
				m.Extra = append(m.Extra, &dns.A{Hdr: hdr(ns, dns.TypeA), A: net.ParseIP(w.addrs[ns])})
			}
		}
	case w.cnames[name] != "":
		m.Answer = append(m.Answer, &dns.CNAME{Hdr: hdr(name, dns.TypeCNAME), Target: w.cnames[name]})
	case w.subzones[name] != "":
		m.Ns = append(m.Ns, soa(w.subzones[name], 1))
	case w.addrs[name] != "":
		if q.Qtype == dns.TypeA {
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr(name, dns.TypeA), A: net.ParseIP(w.addrs[name])})
		}
	default:
		m.Rcode = dns.RcodeNameError
	}
	return m
}

// authoritative answers SOA queries for the zones in serials, with
// authority, and refuses the rest.
func authoritative(req *dns.Msg, serials map[string]uint32) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	q := req.Question[0]
	serial, ok := serials[strings.ToLower(q.Name)]
	if !ok {
		m.Rcode = dns.RcodeRefused
		return m
	}
	m.Authoritative = true
	if q.Qtype == dns.TypeSOA {
		m.Answer = append(m.Answer, soa(q.Name, serial))
	}
	return m
}

func hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: 300}
}

func soa(zone string, serial uint32) *dns.SOA {
	return &dns.SOA{Hdr: hdr(zone, dns.TypeSOA), Ns: "ns1." + zone, Mbox: "hostmaster." + zone,
		Serial: serial, Refresh: 7200, Retry: 900, Expire: 1209600, Minttl: 300}
}

func TestDNS(t *testing.T) {
	resolver, port := startWorld(t, world)
	opts := DNSOptions{Resolver: resolver, NameServerPort: port, Timeout: 300 * time.Millisecond}

	tests := []struct {
		domain    string
		providers []string // IDs, most name servers first
		agree     bool
		findings  []string // codes
		provider  string   // ModelComponent's provider
		replicas  int
		hazards   []string
	}{
		{"shop.test", []string{"awsdns"}, true, []string{"single-provider"}, "awsdns", 4, []string{"dns-shop.test-single-provider"}},
		{"Bank.Test.", []string{"cloudflare", "nsone"}, true, nil, "", 2, nil},
		{"drift.test", []string{"cloudflare", "nsone"}, false, []string{"serial-mismatch"}, "", 2, nil},
		{"dead.test", []string{"gone.example", "google"}, true, []string{"no-answer"}, "", 1, nil},
		{"self.test", []string{"self.test"}, true, []string{"single-provider", "no-answer"}, "self.test", 1, []string{"dns-self.test-single-provider"}},
		{"twin.test", []string{"twin.test"}, true, []string{"single-provider", "one-address"}, "twin.test", 1, []string{"dns-twin.test-single-provider", "dns-twin.test-one-address"}},
		{"down.test", []string{"gone.example", "self.test"}, false, []string{"no-answer", "no-answer", "no-authority"}, "", 1, []string{"dns-down.test-no-authority"}},
		{"solo.test", []string{"solo-dns.example"}, true, []string{"single-name-server"}, "solo-dns.example", 1, []string{"dns-solo.test-single-name-server"}},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r, err := DNS(ctx, tt.domain, opts)
			if err != nil {
				t.Fatal(err)
			}
			if ctx.Err() != nil {
				t.Fatal("DNS returned only when its context ended: the per-query timeout did not bound it")
			}
			var ids, codes, hazards []string
			for _, p := range r.Providers {
				ids = append(ids, p.ID)
			}
			for _, f := range r.Findings {
				codes = append(codes, f.Code)
			}
			for _, h := range r.Hazards() {
				hazards = append(hazards, h.Name)
				if len(h.Breaks) != 1 || h.Breaks[0] != r.Component {
					t.Errorf("hazard %s breaks %v, want [%s]", h.Name, h.Breaks, r.Component)
				}
			}
			c := r.ModelComponent()
			got := []any{ids, r.SerialsAgree, codes, c.Provider, c.Replicas, hazards}
			want := []any{tt.providers, tt.agree, tt.findings, tt.provider, tt.replicas, tt.hazards}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("providers, agree, findings, provider, replicas, hazards (-want +got):\n%s", diff)
			}
			checkSnippet(t, r)
		})
	}
}

// TestDNSDetails checks what each name server said, in the report and as
// text and JSON.
func TestDNSDetails(t *testing.T) {
	resolver, port := startWorld(t, world)
	opts := DNSOptions{Resolver: resolver, NameServerPort: port, Timeout: 300 * time.Millisecond}
	for _, domain := range []string{"shop.test", "drift.test", "self.test"} {
		t.Run(domain, func(t *testing.T) {
			r, err := DNS(context.Background(), domain, opts)
			if err != nil {
				t.Fatal(err)
			}
			r.Resolver = "resolver:53" // the test's port changes
			var buf bytes.Buffer
			if err := r.Text(&buf); err != nil {
				t.Fatal(err)
			}
			buf.WriteString("--- snippet\n")
			s, err := r.Snippet()
			if err != nil {
				t.Fatal(err)
			}
			buf.Write(s)
			buf.WriteString("--- json\n")
			js, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			buf.Write(js)
			golden(t, filepath.Join("testdata", "dns", domain+".golden"), buf.Bytes())
		})
	}
}

func TestDNSNoAnswer(t *testing.T) {
	resolver, port := startWorld(t, world)
	r, err := DNS(context.Background(), "dead.test", DNSOptions{Resolver: resolver, NameServerPort: port, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	gone := r.NameServers[0]
	if gone.Name != "ns1.gone.example" || gone.Answered || gone.Error != "127.0.0.99: no answer within 200ms" {
		t.Errorf("silent name server = %+v, want not answered with a timeout at 127.0.0.99", gone)
	}
	if ok := r.NameServers[1]; !ok.Answered || ok.Serial != 12 {
		t.Errorf("answering name server = %+v, want serial 12", ok)
	}
}

// checkSnippet asserts that the snippet, under a model's top level, is a
// model spof accepts, with the component ModelComponent describes.
func checkSnippet(t *testing.T, r *DNSReport) {
	t.Helper()
	s, err := r.Snippet()
	if err != nil {
		t.Fatal(err)
	}
	doc := "version: 1\nsystem: probe\n" + string(s)
	m, err := model.Parse("snippet.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("snippet does not parse: %v\n%s", err, doc)
	}
	want := r.ModelComponent()
	got := m.Component(r.Component)
	if got == nil || got.Kind != model.KindDNS || got.Replicas != want.Replicas || got.Provider != want.Provider {
		t.Errorf("snippet component = %+v, want %+v\n%s", got, want, doc)
	}
	if strings.Contains(string(s), "single-provider") {
		t.Errorf("snippet repeats the single-provider hazard its provider stands for:\n%s", s)
	}
}

func TestDNSErrors(t *testing.T) {
	resolver, port := startWorld(t, world)
	silent := net.JoinHostPort(world.silent[0], strconv.Itoa(port))
	tests := []struct {
		domain, resolver string
		is               error
		want             string
	}{
		{"", resolver, ErrBadInput, "no domain given"},
		{"https://shop.test/", resolver, ErrBadInput, `"https://shop.test/" is not a domain name`},
		{"shop.test:53", resolver, ErrBadInput, "without scheme, port or path"},
		{"192.0.2.1", resolver, ErrBadInput, "is an IP address"},
		{"localhost", resolver, ErrBadInput, `"localhost" is not a domain name`},
		{"bad..test", resolver, ErrBadInput, "is not a domain name"},
		{"-x.test", resolver, ErrBadInput, `label "-x"`},
		{"shop test", resolver, ErrBadInput, `"shop test" is not a domain name`},
		{"missing.test", resolver, ErrBadInput, "missing.test does not exist (NXDOMAIN"},
		{"www.shop.test", resolver, ErrBadInput, "www.shop.test has no NS records (it is inside zone shop.test: probe that)"},
		{"www.bank.test", resolver, ErrBadInput, "www.bank.test has no NS records (it is an alias of bank-prod.cdn.example: probe the zone it is in, or that of its target)"},
		{"shop.test", "127.0.0.1:99999", ErrBadInput, `resolver "127.0.0.1:99999"`},
		{"shop.test", silent, ErrUnreachable, "asking resolver " + silent},
	}
	for _, tt := range tests {
		t.Run(tt.domain+" "+tt.resolver, func(t *testing.T) {
			r, err := DNS(context.Background(), tt.domain, DNSOptions{Resolver: tt.resolver, NameServerPort: port, Timeout: 200 * time.Millisecond})
			if err == nil || r != nil {
				t.Fatalf("DNS = %v, %v; want an error", r, err)
			}
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DNS error = %q (is %v: %t), want one containing %q", err, tt.is, errors.Is(err, tt.is), tt.want)
			}
		})
	}
}

func TestDNSCanceled(t *testing.T) {
	resolver, port := startWorld(t, world)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := DNS(ctx, "shop.test", DNSOptions{Resolver: resolver, NameServerPort: port})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnreachable) {
		t.Errorf("DNS with a canceled context = %v, want context.Canceled, not unreachable", err)
	}
}

func TestResolverAddr(t *testing.T) {
	for in, want := range map[string]string{
		"1.1.1.1":          "1.1.1.1:53",
		"1.1.1.1:5353":     "1.1.1.1:5353",
		"::1":              "[::1]:53",
		"[::1]":            "[::1]:53",
		"[::1]:5353":       "[::1]:5353",
		"dns.example":      "dns.example:53",
		"dns.example:8053": "dns.example:8053",
	} {
		if got, err := resolverAddr(in); err != nil || got != want {
			t.Errorf("resolverAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestProviderOf(t *testing.T) {
	for host, want := range map[string]string{
		"ns-318.awsdns-39.com":           "awsdns",
		"ns-1899.awsdns-45.co.uk":        "awsdns",
		"kip.ns.cloudflare.com":          "cloudflare",
		"ns-cloud-a1.googledomains.com":  "google",
		"ns1-05.azure-dns.com":           "azure-dns",
		"ns4-05.azure-dns.info":          "azure-dns",
		"dns1.p05.nsone.net":             "nsone",
		"pdns196.ultradns.co.uk":         "ultradns",
		"ns1.p23.dynect.net":             "dynect",
		"a1-67.akam.net":                 "akamai",
		"ns57.domaincontrol.com":         "godaddy",
		"ns1.example.co.uk":              "example.co.uk",
		"ns1.shop.test":                  "shop.test",
		"ns2.hosting-company.example":    "hosting-company.example",
		"ns1.p68.dns.oraclecloud.net":    "oraclecloud",
		"dns1.registrar-servers.com":     "namecheap",
		"helium.ns.hetzner.de":           "hetzner",
		"ns-cloud-e2.googledomains.com.": "google",
	} {
		if got, _ := providerOf(strings.TrimSuffix(host, "."), "shop.test"); got != want {
			t.Errorf("providerOf(%q) = %q, want %q", host, got, want)
		}
		if got, _ := providerOf(strings.TrimSuffix(host, "."), "x.test"); !model.ValidName(got) {
			t.Errorf("providerOf(%q) = %q, not a valid model name", host, got)
		}
	}
}

// golden compares got with the file, or rewrites the file with -update.
func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got, go test -update to accept):\n%s", file, diff)
	}
}
