//go:build linux

package inject

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spofhq/spof/internal/netnstest"
)

// The iptables tests change real rules, each in a network namespace of its
// own, and send their traffic inside it: the host's rules and traffic are
// never touched.

// loopbacks are the addresses the rule must cover: ::1 too where the
// injector adds the rule to ip6tables.
func loopbacks(port int) []string {
	addrs := []string{fmt.Sprintf("127.0.0.1:%d", port)}
	if netnstest.OnPath("ip6tables") && ipv6() {
		addrs = append(addrs, fmt.Sprintf("[::1]:%d", port))
	}
	return addrs
}

func refused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

func timedOut(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func prepare(t *testing.T, ipt IPTables) Undo {
	t.Helper()
	u, err := ipt.Prepare(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return journalled(t, u)
}

func wantActive(t *testing.T, u Undo, want bool) {
	t.Helper()
	if on, err := Active(context.Background(), u); err != nil || on != want {
		t.Errorf("Active = %v, %v; want %v", on, err, want)
	}
}

func TestIPTablesInject(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		action  string
		blocked func(error) bool
		want    string
	}{
		{"reject", refused, "connection refused"},
		{"drop", timedOut, "a timeout"},
	} {
		t.Run(tc.action, func(t *testing.T) {
			ns := netnstest.New(t)
			port := netnstest.EchoServer(t, ns)
			for _, addr := range loopbacks(port) {
				if err := netnstest.Echo(ns, addr, time.Second); err != nil {
					t.Fatalf("before injecting, %s: %v", addr, err)
				}
			}
			ipt := IPTables{Port: port, Netns: ns, Action: tc.action, Comment: "spof-test-" + tc.action}
			u := prepare(t, ipt)
			wantActive(t, u, false) // Prepare injects nothing
			if err := ipt.Inject(ctx, Undo{}, Fault{Kind: Down}); err != nil {
				t.Fatal(err)
			}
			wantActive(t, u, true)
			for _, addr := range loopbacks(port) {
				if err := netnstest.Echo(ns, addr, 300*time.Millisecond); !tc.blocked(err) {
					t.Errorf("with the rule, %s: %v; want %s", addr, err, tc.want)
				}
			}
			if err := Restore(ctx, u); err != nil {
				t.Fatal(err)
			}
			wantActive(t, u, false)
			for _, addr := range loopbacks(port) {
				if err := netnstest.Echo(ns, addr, time.Second); err != nil {
					t.Errorf("after Restore, %s: %v", addr, err)
				}
			}
			if err := Restore(ctx, u); err != nil {
				t.Errorf("second Restore: %v, want nil (idempotent)", err)
			}
		})
	}
}

func TestIPTablesRestoreRemovesEveryCopy(t *testing.T) {
	ctx := context.Background()
	ns := netnstest.New(t)
	port := netnstest.EchoServer(t, ns)
	ipt := IPTables{Port: port, Netns: ns, Action: "reject", Comment: "spof-twice"}
	u := prepare(t, ipt)
	for range 2 { // an experiment run twice without a restore between
		if err := ipt.Inject(ctx, Undo{}, Fault{Kind: Down}); err != nil {
			t.Fatal(err)
		}
	}
	if rules := netnstest.Run(t, "ip", "netns", "exec", ns, "iptables", "-S", "INPUT"); strings.Count(rules, "spof-twice") != 2 {
		t.Fatalf("want two copies of the rule:\n%s", rules)
	}
	if err := Restore(ctx, u); err != nil {
		t.Fatal(err)
	}
	wantActive(t, u, false)
	if err := netnstest.Echo(ns, fmt.Sprintf("127.0.0.1:%d", port), time.Second); err != nil {
		t.Errorf("after Restore: %v", err)
	}
}

func TestIPTablesCommentsKeepExperimentsApart(t *testing.T) {
	ctx := context.Background()
	ns := netnstest.New(t)
	port := netnstest.EchoServer(t, ns)
	a := IPTables{Port: port, Netns: ns, Action: "reject", Comment: "spof-a"}
	b := IPTables{Port: port, Netns: ns, Action: "reject", Comment: "spof-b"}
	ua, ub := prepare(t, a), prepare(t, b)
	for _, ipt := range []IPTables{a, b} {
		if err := ipt.Inject(ctx, Undo{}, Fault{Kind: Down}); err != nil {
			t.Fatal(err)
		}
	}
	if err := Restore(ctx, ua); err != nil {
		t.Fatal(err)
	}
	wantActive(t, ua, false)
	wantActive(t, ub, true)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if err := netnstest.Echo(ns, addr, 300*time.Millisecond); !refused(err) {
		t.Errorf("after restoring a, b's rule should still refuse: %v", err)
	}
	if err := Restore(ctx, ub); err != nil {
		t.Fatal(err)
	}
	if err := netnstest.Echo(ns, addr, time.Second); err != nil {
		t.Errorf("after restoring both: %v", err)
	}
}

func TestIPTablesRestoreAfterNetnsDeleted(t *testing.T) {
	ctx := context.Background()
	ns := netnstest.New(t)
	ipt := IPTables{Port: 6379, Netns: ns, Action: "drop", Comment: "spof-gone"}
	u := prepare(t, ipt)
	if err := ipt.Inject(ctx, Undo{}, Fault{Kind: Blackhole}); err != nil {
		t.Fatal(err)
	}
	wantActive(t, u, true)
	netnstest.Run(t, "ip", "netns", "delete", ns)
	if err := Restore(ctx, u); err != nil {
		t.Errorf("Restore with the netns gone: %v, want nil (the rule went with it)", err)
	}
	wantActive(t, u, false)
}

func TestIPTablesPrepareErrors(t *testing.T) {
	for _, tc := range []struct {
		ipt  IPTables
		want string
	}{
		{IPTables{Port: 0, Comment: "c"}, "iptables: port 0: want 1 to 65535"},
		{IPTables{Port: 65536, Comment: "c"}, "iptables: port 65536: want 1 to 65535"},
		{IPTables{Port: 80, Action: "explode", Comment: "c"}, `iptables: action "explode": want drop or reject`},
		{IPTables{Port: 80, Netns: "spof-no-such-netns", Comment: "c"}, `iptables: netns "spof-no-such-netns" does not exist (ip netns list shows the named ones)`},
		{IPTables{Port: 80, Netns: "../run", Comment: "c"}, `iptables: netns "../run" is not a network namespace name`},
		{IPTables{Port: 80}, "iptables: the rule needs a comment"},
		{IPTables{Port: 80, Comment: strings.Repeat("x", 256)}, "256 bytes, want at most 255"},
		{IPTables{Port: 80, Comment: "spof\nx"}, `iptables: comment "spof\nx" has control characters`},
	} {
		_, err := tc.ipt.Prepare(context.Background())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: Prepare error %v; want %q", tc.ipt, err, tc.want)
		}
	}
}

func TestIPTablesNotInstalled(t *testing.T) {
	ns := netnstest.New(t)
	ipt, err := exec.LookPath("iptables")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	_, err = IPTables{Port: 80, Comment: "c"}.Prepare(context.Background())
	if want := "iptables: not found in PATH (apt-get install iptables)"; err == nil || err.Error() != want {
		t.Errorf("no iptables: %v; want %q", err, want)
	}
	if err := os.Symlink(ipt, filepath.Join(dir, "iptables")); err != nil {
		t.Fatal(err)
	}
	_, err = IPTables{Port: 80, Netns: ns, Comment: "c"}.Prepare(context.Background())
	if err == nil || !strings.Contains(err.Error(), "ip: not found in PATH, needed for netns (apt-get install iproute2)") {
		t.Errorf("no ip: %v", err)
	}
}

// TestIPTablesNotRoot runs the real iptables as nobody, through a wrapper
// on PATH, and wants its complaint in the error with the hint.
func TestIPTablesNotRoot(t *testing.T) {
	ctx := context.Background()
	ns := netnstest.New(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		netnstest.SkipOrFail(t, "setpriv (util-linux) is not installed")
	}
	ipt, _ := exec.LookPath("iptables")
	ip, _ := exec.LookPath("ip")
	dir := t.TempDir()
	script := fmt.Sprintf("#!/bin/sh\nexec %s --reuid=65534 --regid=65534 --clear-groups %s \"$@\"\n", setpriv, ipt)
	if err := os.WriteFile(filepath.Join(dir, "iptables"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(ip, filepath.Join(dir, "ip")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	nobody := IPTables{Port: 80, Netns: ns, Comment: "spof-nobody"}
	u, err := nobody.Prepare(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	err = nobody.Inject(ctx, Undo{}, Fault{Kind: Down})
	for _, want := range []string{
		fmt.Sprintf("injecting iptables drop of tcp port 80 in netns %s (comment \"spof-nobody\"): ip netns exec %s iptables -w -I INPUT", ns, ns),
		"Permission denied (you must be root)",
		"(not root: iptables needs CAP_NET_ADMIN)",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Inject as nobody: %v; want it to say %q", err, want)
		}
	}
	if err := Restore(ctx, u); err == nil || !strings.Contains(err.Error(), "not root") {
		t.Errorf("Restore as nobody: %v; want an error saying not root", err)
	}
}

func TestIPTablesHint(t *testing.T) {
	for msg, want := range map[string]string{
		"iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)": "not root: iptables needs CAP_NET_ADMIN",
		"Fatal: can't open lock file /run/xtables.lock: Permission denied":                                          "not root: iptables needs CAP_NET_ADMIN",
		`setting the network namespace "shop" failed: Operation not permitted`:                                      "not root: ip netns exec needs CAP_SYS_ADMIN",
		"iptables v1.8.9 (legacy): Couldn't load match `comment':No such file or directory":                         "the kernel lacks an xtables module: modprobe xt_comment ipt_REJECT ip6t_REJECT",
		"iptables v1.8.9 (nf_tables): invalid port/service `99999' specified":                                       "",
	} {
		if got := iptablesHint(msg); got != want {
			t.Errorf("iptablesHint(%q) = %q, want %q", msg, got, want)
		}
	}
}

func TestEffectiveCaps(t *testing.T) {
	for _, tc := range []struct {
		status string
		caps   uint64
		ok     bool
	}{
		{"Name:\tspof\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n", 0x1ffffffffff, true},
		{"CapPrm:\t0000000000003000\nCapEff:\t0000000000001000\n", 1 << capNetAdmin, true},
		{"Name:\tspof\n", 0, false},
		{"CapEff:\tzz\n", 0, false},
	} {
		caps, ok := effectiveCaps([]byte(tc.status))
		if caps != tc.caps || ok != tc.ok {
			t.Errorf("effectiveCaps(%q) = %#x, %v; want %#x, %v", tc.status, caps, ok, tc.caps, tc.ok)
		}
	}
}
