package proxy

import (
	"net"
	"strings"
	"testing"
)

// A proxy reports the address it bound, in the family it was given:
// 0.0.0.0 stays 0.0.0.0 (not [::], which Go's dual-stack listener would
// report), with the port chosen for port 0.
func TestListenReportsWhatWasBound(t *testing.T) {
	upstream := startEcho(t)
	s := newServer(t, Options{})
	for _, tc := range []struct{ listen, wantHost string }{
		{"0.0.0.0:0", "0.0.0.0"},
		{"127.0.0.1:0", "127.0.0.1"},
		{":0", "127.0.0.1"},
		{"[::1]:0", "::1"},
	} {
		name := "p" + strings.NewReplacer(":", "_", ".", "_", "[", "", "]", "").Replace(tc.listen)
		info, err := s.CreateProxy(ProxyConfig{Name: name, Listen: tc.listen, Upstream: upstream, Enabled: true})
		if err != nil {
			if tc.wantHost == "::1" {
				t.Logf("no IPv6 loopback: %v", err)
				continue
			}
			t.Fatalf("listen %s: %v", tc.listen, err)
		}
		host, port, err := net.SplitHostPort(info.Listen)
		if err != nil || host != tc.wantHost || port == "0" {
			t.Errorf("listen %s: reported %q; want %s:PORT", tc.listen, info.Listen, tc.wantHost)
			continue
		}
		// Reported the same by GET /proxies/NAME, and reachable there
		// (through loopback for a wildcard).
		if got, _ := s.Proxy(name); got.Listen != info.Listen {
			t.Errorf("listen %s: Proxy reports %q, CreateProxy %q", tc.listen, got.Listen, info.Listen)
		}
		dialHost := host
		if dialHost == "0.0.0.0" {
			dialHost = "127.0.0.1"
		}
		c := dial(t, net.JoinHostPort(dialHost, port))
		roundTrip(t, c, "hello")
		c.Close()
	}
}
