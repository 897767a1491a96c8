// Package demo starts the demo shop of examples/shop on loopback: a
// redis-server and a throwaway PostgreSQL cluster in a temporary directory
// (or Backends shared with other systems), the configuration service and
// payment API, a `spof proxy` with one proxy per dependency, and the shop
// talking to every dependency through its proxy, so that faults can be
// injected with proxy/client. Every port is chosen free. It is the one
// implementation behind run.sh (through cmd/shop-demo), the shop's tests
// and the chaos end-to-end tests.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spofhq/spof/proxy"
	"github.com/spofhq/spof/proxy/client"
)

// Proxy names, one per dependency of the shop.
const (
	ProxyRedis    = "redis"
	ProxyPostgres = "postgres"
	ProxyPayments = "payments"
	ProxyConfig   = "config"
)

// ErrMissing is returned (wrapped) when redis-server or PostgreSQL's
// binaries cannot be found; scripts/test-deps.sh installs them.
var ErrMissing = errors.New("not installed")

// Options configure Start. The zero value builds the programs and keeps
// everything in a new temporary directory that Stop removes.
type Options struct {
	// BinDir holds built spof, shop, shop-config and shop-payments
	// binaries. Empty: Start builds them (go build, from the module that
	// contains the working directory) into the system's directory.
	BinDir string
	// KeepDir keeps the system's directory (data and logs/) after Stop.
	KeepDir bool
	// Backends, when set, are the Redis and PostgreSQL the shop uses,
	// shared with other systems: it gets a database and a Redis database
	// number of its own, and Stop leaves the servers running. Nil: Start
	// starts its own, and Stop stops them.
	Backends *Backends
}

// A System is a running demo shop. Its fields are read-only.
type System struct {
	// Dir holds the data and logs/NAME.log of every process.
	Dir string
	// ShopURL is the shop's base URL, such as http://127.0.0.1:41234.
	ShopURL string
	// ProxyAPI is the fault proxy's API URL, for proxy/client.
	ProxyAPI string
	// Proxies are the proxies the shop talks through, by name
	// (ProxyRedis, ...): Listen is what the shop dials, Upstream the real
	// dependency.
	Proxies map[string]proxy.ProxyInfo
	// ConfigURL and PaymentsURL reach those services directly.
	ConfigURL, PaymentsURL string
	// RedisAddr and PostgresURL reach those servers directly; the shop
	// uses Redis database RedisDB and PostgresURL's database.
	RedisAddr, PostgresURL string
	RedisDB                int

	keepDir  bool
	procs    []*process // in start order; stopped in reverse
	backends *Backends  // started by Start, stopped by Stop; nil if shared
}

// Start starts the demo system; ctx bounds the start-up only. On error,
// whatever was started is stopped again. Call Stop when done.
func Start(ctx context.Context, opts Options) (sys *System, err error) {
	if opts.Backends == nil {
		// Before anything else: a missing server is ErrMissing, with
		// nothing built in vain.
		if err := findServers(); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "spof-shop-")
	if err != nil {
		return nil, err
	}
	s := &System{Dir: dir, keepDir: opts.KeepDir, Proxies: map[string]proxy.ProxyInfo{}}
	defer func() {
		if err != nil {
			if stopErr := s.Stop(); stopErr != nil {
				err = fmt.Errorf("%w (and stopping: %v)", err, stopErr)
			}
			sys = nil
		}
	}()
	bin := opts.BinDir
	if bin == "" {
		bin = filepath.Join(dir, "bin")
		if err := Build(ctx, bin); err != nil {
			return nil, err
		}
	}

	b := opts.Backends
	if b == nil {
		// In the system's directory, logs beside the others'; the
		// directory is the system's to remove.
		if b, err = startBackends(ctx, dir, false); err != nil {
			return nil, err
		}
		s.backends = b
	}
	s.RedisAddr = b.RedisAddr
	if s.PostgresURL, s.RedisDB, err = b.tenant(ctx); err != nil {
		return nil, err
	}
	if s.ConfigURL, err = s.startServer(ctx, "shop-config", filepath.Join(bin, "shop-config"), "--listen", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	if s.PaymentsURL, err = s.startServer(ctx, "shop-payments", filepath.Join(bin, "shop-payments"), "--listen", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	if err := s.startProxy(ctx, filepath.Join(bin, "spof")); err != nil {
		return nil, err
	}
	pgURL := strings.Replace(s.PostgresURL, hostPort(s.PostgresURL), s.Proxies[ProxyPostgres].Listen, 1)
	s.ShopURL, err = s.startServer(ctx, "shop", filepath.Join(bin, "shop"),
		"--listen", "127.0.0.1:0",
		"--redis", s.Proxies[ProxyRedis].Listen,
		"--redis-db", strconv.Itoa(s.RedisDB),
		"--postgres", pgURL,
		"--payments", "http://"+s.Proxies[ProxyPayments].Listen,
		"--config", "http://"+s.Proxies[ProxyConfig].Listen)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Stop stops every process, the shop first, and the backends if Start
// started them, and removes the directory unless Options.KeepDir. It may
// be called more than once.
func (s *System) Stop() error {
	var errs []error
	for i := len(s.procs) - 1; i >= 0; i-- {
		if err := s.procs[i].stop(10 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	s.procs = nil
	if s.backends != nil {
		if err := s.backends.Stop(); err != nil {
			errs = append(errs, err)
		}
		s.backends = nil
	}
	if !s.keepDir && s.Dir != "" {
		if err := os.RemoveAll(s.Dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// PIDs returns the process id of each running process by name
// (shop-config, shop-payments, spof-proxy, shop, and redis and postgres
// unless the backends are shared); each leads its own process group.
func (s *System) PIDs() map[string]int {
	pids := make(map[string]int, len(s.procs)+2)
	if s.backends != nil {
		pids = s.backends.PIDs()
	}
	for _, p := range s.procs {
		pids[p.name] = p.cmd.Process.Pid
	}
	return pids
}

// Proxy returns a client of the fault proxy's API.
func (s *System) Proxy() *client.Client { return client.New(s.ProxyAPI) }

// Build builds spof and the shop's programs into binDir, from the module
// that contains the working directory.
func Build(ctx context.Context, binDir string) error {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("finding the module to build: go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return errors.New("building the demo: the working directory is not inside the spof module")
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", binDir+string(filepath.Separator),
		"./cmd/spof", "./examples/shop/cmd/shop", "./examples/shop/cmd/shop-config", "./examples/shop/cmd/shop-payments")
	cmd.Dir = filepath.Dir(mod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the demo: %w\n%s", err, out)
	}
	return nil
}

// startServer starts one of the shop's Go programs and waits for the line
// that says where it listens.
func (s *System) startServer(ctx context.Context, name, path string, args ...string) (string, error) {
	p, err := startProcess(s.Dir, name, exec.Command(path, args...), syscall.SIGTERM)
	if err != nil {
		return "", err
	}
	s.procs = append(s.procs, p)
	return p.waitReady(ctx)
}

// startProxy starts `spof proxy` with a proxy, on a free port, in front of
// each dependency, and waits until its API answers.
func (s *System) startProxy(ctx context.Context, spof string) error {
	cfgs := []proxy.ProxyConfig{
		{Name: ProxyRedis, Listen: "127.0.0.1:0", Upstream: s.RedisAddr, Enabled: true},
		{Name: ProxyPostgres, Listen: "127.0.0.1:0", Upstream: hostPort(s.PostgresURL), Enabled: true},
		{Name: ProxyPayments, Listen: "127.0.0.1:0", Upstream: hostPort(s.PaymentsURL), Enabled: true},
		{Name: ProxyConfig, Listen: "127.0.0.1:0", Upstream: hostPort(s.ConfigURL), Enabled: true},
	}
	b, err := json.MarshalIndent(cfgs, "", "  ")
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(s.Dir, "proxies.json")
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		return err
	}
	api, err := freeAddr()
	if err != nil {
		return err
	}
	p, err := startProcess(s.Dir, "spof-proxy", exec.Command(spof, "proxy", "--api", api, "--config", cfgPath, "--drain", "1s"), syscall.SIGTERM)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, p)
	s.ProxyAPI = "http://" + api
	c := s.Proxy()
	var infos []proxy.ProxyInfo
	err = poll(ctx, p, "spof proxy's API", func(ctx context.Context) error {
		infos, err = c.Proxies(ctx)
		return err
	})
	if err != nil {
		return err
	}
	for _, info := range infos {
		s.Proxies[info.Name] = info
	}
	if len(s.Proxies) != len(cfgs) {
		return fmt.Errorf("spof proxy has %d proxies, want %d: %v", len(s.Proxies), len(cfgs), infos)
	}
	return nil
}

// poll calls check every 50 ms until it succeeds, p exits or ctx ends.
func poll(ctx context.Context, p *process, what string, check func(context.Context) error) error {
	for {
		attemptCtx, cancel := context.WithTimeout(ctx, time.Second)
		err := check(attemptCtx)
		cancel()
		if err == nil {
			return nil
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for %s: %w (last error: %v)%s", what, context.Cause(ctx), err, p.logTail())
		case <-p.done:
			t.Stop()
			return p.exitError()
		case <-t.C:
		}
	}
}

// freeAddr returns a loopback address with a port that was free a moment
// ago, for servers that cannot be asked to choose one and say which.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// hostPort is the host:port of a URL such as http://127.0.0.1:8080 or
// postgres://user@127.0.0.1:5432/db.
func hostPort(url string) string {
	_, rest, _ := strings.Cut(url, "://")
	if _, after, ok := strings.Cut(rest, "@"); ok {
		rest = after
	}
	host, _, _ := strings.Cut(rest, "/")
	return host
}
