package main

import (
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spofhq/spof/proxy"
	"github.com/spofhq/spof/proxy/client"
)

// Target names, which are also the tables' column headers.
const (
	direct    = "direct"
	relay     = "relay"
	spof      = "spof"
	toxiproxy = "toxiproxy"
	spofLat0  = "spof+lat0"
)

// latencies are the delays of the latency targets, in ms: each has a
// spof+latN and a toxiproxy+latN target, the same latency toxic on both
// streams of each proxy.
var latencies = []int64{1, 10, 50}

func spofLat(ms int64) string      { return fmt.Sprintf("spof+lat%d", ms) }
func toxiproxyLat(ms int64) string { return fmt.Sprintf("toxiproxy+lat%d", ms) }

// latencyTarget returns the proxy and the latency of a latency target.
func latencyTarget(name string) (base string, ms int64, ok bool) {
	for _, ms := range latencies {
		switch name {
		case spofLat(ms):
			return spof, ms, true
		case toxiproxyLat(ms):
			return toxiproxy, ms, true
		}
	}
	return "", 0, false
}

// defaultTargets are measured unless --only says otherwise; allTargets
// is every target, in column order.
var (
	defaultTargets = []string{direct, relay, spof, toxiproxy, spofLat0}
	allTargets     = func() []string {
		all := slices.Clone(defaultTargets)
		for _, ms := range latencies {
			all = append(all, spofLat(ms), toxiproxyLat(ms))
		}
		return all
	}()
)

// A target is one way for the client to reach the upstream server.
type target struct {
	Name    string
	Addr    string // what the client dials
	Version string // the proxy's module version and what its GET /version answers
	Err     error  // why the target is unavailable; nil when it is ready
	api     string // the address of its Toxiproxy API, if it has one
	child   *child
}

// benchModule is the module the benchmark must run from: its go.mod pins
// Toxiproxy and points github.com/spofhq/spof at the checkout above.
const benchModule = "github.com/spofhq/spof/bench"

// setupTargets starts the named targets, all forwarding to upstream. A
// target that cannot start is returned with Err set, so that the others
// can still be measured. Binaries and configuration go into dir.
func setupTargets(ctx context.Context, names []string, upstream, dir string) []*target {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}

	// Build the proxies concurrently: each build takes seconds.
	wantSpof, wantToxiproxy := want[spof] || want[spofLat0], want[toxiproxy]
	for n := range want {
		if base, _, ok := latencyTarget(n); ok {
			wantSpof = wantSpof || base == spof
			wantToxiproxy = wantToxiproxy || base == toxiproxy
		}
	}
	var spofBin, toxiproxyBin string
	var spofErr, toxiproxyErr error
	var wg sync.WaitGroup
	if wantSpof {
		wg.Go(func() {
			spofBin = filepath.Join(dir, "spof")
			spofErr = goBuild(ctx, spofBin, "github.com/spofhq/spof/cmd/spof")
		})
	}
	if wantToxiproxy {
		wg.Go(func() {
			toxiproxyBin = filepath.Join(dir, "toxiproxy")
			toxiproxyErr = goBuild(ctx, toxiproxyBin, "github.com/Shopify/toxiproxy/v2/cmd/server")
		})
	}
	wg.Wait()

	var ts []*target
	for _, name := range names {
		t := &target{Name: name}
		var err error
		base, ms, isLatency := latencyTarget(name)
		switch {
		case name == direct:
			t.Addr = upstream
		case name == relay:
			err = startRelay(ctx, t, upstream)
		case name == spof || name == spofLat0 || base == spof:
			err = spofErr
			args := []string{"proxy", "--api", "{api}", "--config", "{config}"}
			if name != spof {
				// No TTL on the latency toxics: with the default
				// --max-ttl, a long run would end up measuring plain spof.
				args = append(args, "--max-ttl", "0")
			}
			if err == nil {
				err = startToxiproxyLike(ctx, t, dir, upstream, spofBin, args...)
			}
			if err == nil && name != spof {
				err = addLatencyToxics(ctx, t.api, ms)
			}
			if err != nil {
				err = fmt.Errorf("spof proxy unavailable: %w", err)
			}
		case name == toxiproxy || base == toxiproxy:
			err = toxiproxyErr
			if err == nil {
				err = startToxiproxyLike(ctx, t, dir, upstream, toxiproxyBin, "-host", "127.0.0.1", "-port", "{port}", "-config", "{config}")
			}
			if err == nil && isLatency {
				err = addLatencyToxics(ctx, t.api, ms)
			}
			if err != nil {
				err = fmt.Errorf("toxiproxy unavailable: %w", err)
			}
		}
		if err != nil {
			t.Err = err
			t.stop()
		}
		ts = append(ts, t)
	}
	return ts
}

// stop stops the target's process, if it has one.
func (t *target) stop() {
	if t.child != nil {
		t.child.stop()
		t.child = nil
	}
}

// checkModule fails unless the working directory is in the bench module,
// where go build finds the pinned Toxiproxy and the local spof.
func checkModule(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "go", "list", "-m").Output()
	if err != nil || strings.TrimSpace(string(out)) != benchModule {
		return fmt.Errorf("run from the bench directory, module %s (bench/proxy.sh does it)", benchModule)
	}
	return nil
}

// goBuild builds pkg into out, from the bench module.
func goBuild(ctx context.Context, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, indent(string(msg)))
	}
	return nil
}

// startRelay starts the bare relay: this binary again, as a child, on a
// socket the parent opens and passes down, so it is ready at once.
func startRelay(ctx context.Context, t *target, upstream string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	defer ln.Close() // the child has its own copy
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	defer f.Close()
	t.child, err = startChild(ctx, []*os.File{f}, self, relayArg, upstream)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	t.Addr = ln.Addr().String()
	return nil
}

// proxyName is the name of the one proxy each Toxiproxy-like target runs.
const proxyName = "bench"

// startToxiproxyLike starts a proxy with a Toxiproxy API: bin with args in
// which "{api}", "{port}" and "{config}" stand for the API address, its
// port, and a populate file with one proxy, "bench", to upstream. It
// returns once GET /version and GET /proxies/bench both answer 200.
func startToxiproxyLike(ctx context.Context, t *target, dir, upstream, bin string, args ...string) error {
	apiPort, err := freePort()
	if err != nil {
		return err
	}
	listenPort, err := freePort()
	if err != nil {
		return err
	}
	api := fmt.Sprintf("127.0.0.1:%d", apiPort)
	listen := fmt.Sprintf("127.0.0.1:%d", listenPort)

	config := filepath.Join(dir, t.Name+".json")
	data, err := json.Marshal([]proxy.ProxyConfig{{Name: proxyName, Listen: listen, Upstream: upstream, Enabled: true}})
	if err != nil {
		return err
	}
	if err := os.WriteFile(config, data, 0o644); err != nil {
		return err
	}
	r := strings.NewReplacer("{api}", api, "{port}", fmt.Sprint(apiPort), "{config}", config)
	for i, a := range args {
		args[i] = r.Replace(a)
	}

	t.child, err = startChild(ctx, nil, bin, args...)
	if err != nil {
		return err
	}
	t.Addr, t.api = listen, api
	apiVersion, err := waitReady(ctx, t)
	t.Version = moduleVersion(bin) + ", GET /version: " + apiVersion
	return err
}

// moduleVersion is the module bin was built from, as its build
// information records it.
func moduleVersion(bin string) string {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "unknown module"
	}
	if r := info.Main.Replace; r != nil {
		return info.Main.Path + " (replaced by " + r.Path + ")"
	}
	return info.Main.Path + " " + info.Main.Version
}

// freePort returns a loopback TCP port that was free a moment ago. The
// proxies take addresses, not sockets, so there is a small window for
// another process to take it; on a benchmark machine it does not happen.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// readyTimeout bounds how long a proxy may take to answer its API.
const readyTimeout = 20 * time.Second

// waitReady polls the target's API until GET /version and GET
// /proxies/bench answer, and returns the version. It fails at once if the
// child exits.
func waitReady(ctx context.Context, t *target) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	api := client.New(t.api)
	var last error
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-t.child.exited:
			return "", t.child.exitError()
		case <-ctx.Done():
			return "", fmt.Errorf("no answer from %s within %v: %v; its last output:\n%s", t.api, readyTimeout, last, indent(t.child.out.String()))
		case <-tick.C:
		}
		version, err := api.Version(ctx)
		if err == nil {
			_, err = api.Proxy(ctx, proxyName)
		}
		if err == nil {
			return version, nil
		}
		last = err
	}
}

// addLatencyToxics adds a latency toxic of ms milliseconds on both
// streams of the bench proxy of the API at addr (spof's or Toxiproxy's).
// At 0 ms data goes through spof's toxic path without delay, which
// measures what that path costs.
func addLatencyToxics(ctx context.Context, addr string, ms int64) error {
	api := client.New(addr)
	for _, stream := range []string{proxy.Upstream, proxy.Downstream} {
		_, err := api.AddToxic(ctx, proxyName, proxy.Toxic{Name: fmt.Sprintf("latency%d_%s", ms, stream), Type: proxy.ToxicLatency, Stream: stream, Toxicity: 1,
			Attributes: map[string]int64{"latency": ms}})
		if err != nil {
			return fmt.Errorf("adding a latency toxic: %w", err)
		}
	}
	return nil
}

// checkTargets returns what went wrong with the targets during the run:
// a proxy that died while being measured is a finding, not a detail.
func checkTargets(targets []*target) []string {
	var notes []string
	for _, t := range targets {
		if t.child == nil {
			continue
		}
		select {
		case <-t.child.exited:
			notes = append(notes, fmt.Sprintf("%s: %v", t.Name, t.child.exitError()))
		default:
		}
	}
	return notes
}
