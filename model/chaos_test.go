package model

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestChaosModel(t *testing.T) {
	const file = "testdata/valid/chaos.yaml"
	m := parseFile(t, file)
	if m.Environment != "staging" {
		t.Errorf("environment = %q, want staging", m.Environment)
	}

	wantConfig := &ChaosConfig{
		ProxyAPI: "http://127.0.0.1:18474",
		StateDir: "var/spof-state",
		AbortProbes: []*Probe{
			{Name: "disk", Command: "test $(df --output=pcent / | tail -1 | tr -d ' %') -lt 95", Pos: Pos{file, 10, 5}},
			{Name: "admin", HTTP: "http://127.0.0.1:8080/admin/health", Interval: 5 * time.Second, Pos: Pos{file, 11, 5}},
		},
		Pos: Pos{file, 6, 1},
	}
	if diff := cmp.Diff(wantConfig, m.Chaos); diff != "" {
		t.Errorf("chaos (-want +got):\n%s", diff)
	}

	bindings := []struct {
		component string
		kind      string
		want      ChaosBinding
	}{
		{"app", "process", ChaosBinding{Process: &ProcessBinding{PIDFile: "/run/shop.pid", Signal: SignalKill, Restart: "systemctl start shop"}}},
		{"session-redis", "proxy", ChaosBinding{Proxy: &ProxyBinding{Name: "redis", Listen: "127.0.0.1:16379", Upstream: "127.0.0.1:6379",
			ListenPos: Pos{file, 25, 42}}}},
		{"postgres", "proxy", ChaosBinding{Proxy: &ProxyBinding{Name: "postgres", Listen: "[::1]:15432", Upstream: "db.internal:5432",
			ListenPos: Pos{file, 28, 29}}}},
		{"payments", "command", ChaosBinding{Command: &CommandBinding{
			Inject:  "iptables -A OUTPUT -d 10.0.0.7 -j DROP",
			Restore: "iptables -D OUTPUT -d 10.0.0.7 -j DROP || true",
			Check:   "iptables -C OUTPUT -d 10.0.0.7 -j DROP"}}},
		{"config", "iptables", ChaosBinding{IPTables: &IPTablesBinding{Port: 8500, Netns: "shop", Action: IPTablesReject}}},
		{"search", "docker", ChaosBinding{Docker: &DockerBinding{Container: "shop-search", Action: DockerDisconnect, Network: "shop-net"}}},
		{"mail", "kubectl", ChaosBinding{Kubectl: &KubectlBinding{Selector: "app=mail", Namespace: "shop", Action: KubectlScale}}},
		// Defaults.
		{"worker", "process", ChaosBinding{Process: &ProcessBinding{PIDCmd: "pgrep -f shop-worker", Signal: SignalStop}}},
		{"cache2", "docker", ChaosBinding{Docker: &DockerBinding{Container: "shop-cache", Action: DockerPause}}},
		{"queue2", "kubectl", ChaosBinding{Kubectl: &KubectlBinding{Selector: "app=queue", Action: KubectlDelete}}},
		{"edge", "iptables", ChaosBinding{IPTables: &IPTablesBinding{Port: 443, Netns: "edge", Action: IPTablesDrop}}},
	}
	for _, tt := range bindings {
		c := m.Component(tt.component)
		if c == nil || c.Chaos == nil {
			t.Errorf("%s has no chaos binding", tt.component)
			continue
		}
		if got := c.Chaos.Kind(); got != tt.kind {
			t.Errorf("%s binding kind = %q, want %q", tt.component, got, tt.kind)
		}
		if c.Chaos.Pos.Line == 0 {
			t.Errorf("%s binding has no position", tt.component)
		}
		tt.want.Pos = c.Chaos.Pos
		if diff := cmp.Diff(&tt.want, c.Chaos); diff != "" {
			t.Errorf("%s binding (-want +got):\n%s", tt.component, diff)
		}
	}

	probes := []struct {
		flow string
		want Probe
	}{
		{"checkout", Probe{HTTP: "http://127.0.0.1:8080/checkout", Method: "POST", ExpectStatus: 201, BodyContains: "order",
			MaxLatency: 500 * time.Millisecond, DegradedWhen: &DegradedWhen{Header: "X-Degraded", Value: "sessions"},
			Interval: 250 * time.Millisecond}},
		{"browse", Probe{HTTP: "http://127.0.0.1:8080/", DegradedWhen: &DegradedWhen{BodyContains: "cached"}}},
		{"sessions", Probe{TCP: "127.0.0.1:16379", MaxLatency: 100 * time.Millisecond}},
		{"jobs", Probe{Command: "pgrep -f shop-worker"}},
	}
	for _, tt := range probes {
		got := m.Flow(tt.flow).Probe
		tt.want.Pos = got.Pos
		if diff := cmp.Diff(&tt.want, got); diff != "" {
			t.Errorf("%s probe (-want +got):\n%s", tt.flow, diff)
		}
	}
}

func TestChaosDefaults(t *testing.T) {
	m := mustParse(t, "x.yaml", []byte("version: 1\nsystem: s\ncomponents: {app: {kind: service}}\n"+
		"flows: {f: {criticality: low, steps: [app], probe: {http: \"http://127.0.0.1/\"}}}\n"))
	if m.Chaos != nil || m.Component("app").Chaos != nil {
		t.Errorf("chaos = %+v, binding = %+v; want nil for a model without chaos keys", m.Chaos, m.Component("app").Chaos)
	}
	if got := m.Chaos.ProxyAPIOrDefault(); got != "http://127.0.0.1:8474" {
		t.Errorf("ProxyAPIOrDefault() = %q", got)
	}
	if got := m.Chaos.StateDirOrDefault(); got != ".spof" {
		t.Errorf("StateDirOrDefault() = %q", got)
	}
	p := m.Flow("f").Probe
	if p.MethodOrDefault() != "GET" || p.ExpectStatusOrDefault() != 200 || p.IntervalOrDefault() != time.Second {
		t.Errorf("probe defaults: method %q, status %d, interval %v", p.MethodOrDefault(), p.ExpectStatusOrDefault(), p.IntervalOrDefault())
	}
	if p.Method != "" || p.ExpectStatus != 0 || p.Interval != 0 {
		t.Errorf("probe fields hold defaults the model did not write: %+v", p)
	}
}

// TestProxyListenCollisions pins which listen addresses clash: the same
// host and port, or the same port with a wildcard host on either side.
func TestProxyListenCollisions(t *testing.T) {
	tests := []struct {
		a, b  string
		clash bool
	}{
		{"127.0.0.1:16379", "127.0.0.1:16379", true},
		{"127.0.0.1:16379", "127.0.0.1:16380", false},
		{"127.0.0.1:16379", "127.0.0.2:16379", false},
		{"0.0.0.0:16379", "127.0.0.1:16379", true},
		{"localhost:16379", "[::]:16379", true},
		{"[::1]:16379", "[::1]:16379", true},
		{"localhost:16379", "127.0.0.1:16379", false}, // names are not resolved
	}
	for _, tt := range tests {
		src := "version: 1\nsystem: s\ncomponents:\n" +
			"  a: {kind: cache, chaos: {proxy: {listen: \"" + tt.a + "\", upstream: 10.0.0.1:6379}}}\n" +
			"  b: {kind: cache, chaos: {proxy: {listen: \"" + tt.b + "\", upstream: 10.0.0.2:6379}}}\n"
		_, err := Parse("x.yaml", []byte(src))
		clash := err != nil && strings.Contains(err.Error(), "is also the proxy listen address of component")
		if clash != tt.clash || (err != nil && !clash) {
			t.Errorf("listen %s and %s: error %v, want clash %v", tt.a, tt.b, err, tt.clash)
		}
	}
}
