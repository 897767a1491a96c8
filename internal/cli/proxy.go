package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spofhq/spof/model"
	"github.com/spofhq/spof/proxy"
)

type proxyFlags struct {
	api            string
	tokenFile      string
	insecurePublic bool
	config         string
	maxTTL         time.Duration
	maxConns       int
	drain          time.Duration
	logLevel       string
}

func newProxyCmd(e *env) *cobra.Command {
	var f proxyFlags
	c := &cobra.Command{
		Use:   "proxy [flags]",
		Short: "Run the fault-injection proxy: Toxiproxy's HTTP API, with a TTL on every fault",
		Long: `proxy runs spof's fault-injection proxy. Each proxy listens on an address
and relays every TCP connection to its upstream; faults ("toxics": latency,
down, timeout, reset_peer, bandwidth, slow_close, slicer, limit_data) are
added and removed through an HTTP API that is Toxiproxy's, so Toxiproxy's
clients work with it, as does the Go client in proxy/client.

Every toxic can have a ttl, after which it removes itself even if whoever
added it has died. --max-ttl caps every ttl and gives one to the toxics
added without; --max-ttl 0 lets faults live until they are removed.

--config creates proxies at start from a file in Toxiproxy's format, JSON
or YAML: a list of name, listen, upstream and enabled (default true). An
empty listen host means 127.0.0.1; port 0, any free port.

SIGINT or SIGTERM stops it cleanly: the API stops, every toxic is removed,
and open connections have --drain to end before they are closed. A second
signal stops it at once. Logs go to standard error.

The API needs no token on loopback (as Toxiproxy). On an address other
machines can reach, it needs --token-file: every request must then carry
"Authorization: Bearer TOKEN" (spof's client sends $SPOF_PROXY_TOKEN); or
--insecure-public-api, if the network is yours alone.

Exit codes: 0 after a clean stop; 2 for bad flags, a bad --config or
--token-file, a reachable --api without a token, or an address in use.
The API and the toxics: docs/proxy.md.`,
		Example: `  spof proxy                                   # the API on 127.0.0.1:8474, no proxies yet
  spof proxy --config proxies.yaml             # the proxies of a Toxiproxy config file
  spof proxy --api 127.0.0.1:9474 --max-ttl 5m --drain 30s --log-level debug
  spof proxy --api 10.0.0.5:8474 --token-file proxy.token   # reachable by others: a token on every request
  # then, from another shell: 500 ms more latency on redis, for two minutes
  curl -s 127.0.0.1:8474/proxies/redis/toxics -d '{"type":"latency","attributes":{"latency":500},"ttl":"2m"}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runProxy(cmd.Context(), e, &f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.api, "api", "127.0.0.1:8474", "serve the HTTP API on `host:port`; an address other machines can reach needs --token-file (or --insecure-public-api)")
	fl.StringVar(&f.tokenFile, "token-file", "", "require the bearer token in `FILE` (not readable by every user; one line) on every API request, loopback included; clients send it as \"Authorization: Bearer TOKEN\" (spof's: $SPOF_PROXY_TOKEN)")
	fl.BoolVar(&f.insecurePublic, "insecure-public-api", false, "allow an --api address other machines can reach without --token-file: anyone who reaches it can cut the proxied traffic")
	fl.StringVarP(&f.config, "config", "c", "", "create the proxies of `FILE` at start: JSON or YAML, Toxiproxy's format (a list of name, listen, upstream, enabled)")
	fl.DurationVar(&f.maxTTL, "max-ttl", 15*time.Minute, "cap the ttl of every toxic, and give it to toxics added without one (0: no cap, faults may live for ever)")
	fl.IntVar(&f.maxConns, "max-conns", 0, "cap the proxied connections open at once, over all proxies; more are reset at once, so that the API keeps the file descriptors it needs (0: derived from ulimit -n)")
	fl.DurationVar(&f.drain, "drain", 10*time.Second, "on SIGINT or SIGTERM, give open connections this long to end before closing them")
	fl.StringVar(&f.logLevel, "log-level", "info", "log `level` on standard error: debug (every API request), info, warn or error")
	return c
}

var logLevels = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}

func runProxy(ctx context.Context, e *env, f *proxyFlags) error {
	level, ok := logLevels[f.logLevel]
	if !ok {
		return usageError("--log-level %q: want debug, info, warn or error", f.logLevel)
	}
	if f.maxTTL < 0 {
		return usageError("--max-ttl %s: must not be negative (0 disables the cap)", f.maxTTL)
	}
	if f.maxConns < 0 {
		return usageError("--max-conns %d: must not be negative (0: derived from ulimit -n)", f.maxConns)
	}
	if f.maxConns == 0 {
		f.maxConns = proxy.DefaultMaxConns()
	}
	if f.drain < 0 {
		return usageError("--drain %s: must not be negative", f.drain)
	}
	if _, _, err := net.SplitHostPort(f.api); err != nil {
		return usageError("--api %q: want host:port, such as 127.0.0.1:8474", f.api)
	}
	var token []byte
	if f.tokenFile != "" {
		var err error
		if token, err = proxy.ReadTokenFile(f.tokenFile); err != nil {
			return usageError("%v", err)
		}
	}
	if token == nil && !f.insecurePublic && !loopbackOnly(f.api) {
		return usageError("--api %s: other machines can reach this address, and the API has no token: anyone reaching it could cut the proxied traffic. "+
			"Give --token-file FILE (a bearer token every request must carry), listen on loopback (such as --api 127.0.0.1:8474), or pass --insecure-public-api if the network is yours alone",
			f.api)
	}
	var entries []model.ProxyEntry
	if f.config != "" {
		var err error
		if entries, err = loadProxyFile(e, f.config); err != nil {
			return err
		}
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))

	// Signals cancel ctx from here on, so that one arriving during start-up
	// stops the proxy as cleanly as one arriving later.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen(proxy.ListenNetwork(f.api), f.api)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return usageError("--api %s: address already in use (is another spof proxy or toxiproxy running?)", f.api)
		}
		return usageError("--api %s: %v", f.api, opErr(err))
	}
	srv := proxy.New(proxy.Options{MaxTTL: f.maxTTL, MaxConns: f.maxConns, Logger: log, APIToken: token})
	for _, en := range entries {
		if _, err := srv.CreateProxy(proxyConfig(en)); err != nil {
			ln.Close()
			closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.drain)
			srv.Close(closeCtx)
			cancel()
			return createError(en, err)
		}
	}

	hs := proxy.NewAPIServer(logRequests(log, srv.Handler()), proxy.APITimeouts{}, log)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(proxy.ReclaimingListener(ln)) }()
	logStart(log, srv, ln.Addr(), f.maxTTL, token != nil)

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	stop() // from now on, a second signal ends the process at once
	reason := "the API server failed"
	if serveErr == nil {
		reason = context.Cause(ctx).Error()
	}
	log.Info("shutting down: removing every toxic and draining connections", "reason", reason, "drain", f.drain)
	drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.drain)
	defer cancel()
	if serveErr == nil {
		if err := hs.Shutdown(drainCtx); err != nil {
			hs.Close()
		}
		<-served
	}
	if err := srv.Close(drainCtx); err != nil {
		log.Warn("drain deadline passed: closed the connections still open", "drain", f.drain)
	} else {
		log.Info("connections drained")
	}
	if serveErr != nil {
		return fmt.Errorf("serving the API on %s: %w", ln.Addr(), serveErr)
	}
	log.Info("stopped")
	return nil
}

// logStart logs the proxies, then that the proxy is ready, with warnings
// for settings that make faults outlive their welcome or reach the API
// from other machines.
func logStart(log *slog.Logger, srv *proxy.Server, api net.Addr, maxTTL time.Duration, withToken bool) {
	proxies := srv.Proxies()
	for _, p := range proxies {
		log.Info("proxy", "name", p.Name, "listen", p.Listen, "upstream", p.Upstream, "enabled", p.Enabled)
	}
	ttl := maxTTL.String()
	if maxTTL == 0 {
		ttl = "none"
		log.Warn("--max-ttl 0: toxics without a ttl live until they are removed, so a fault may outlive whoever added it")
	}
	if addr, ok := api.(*net.TCPAddr); ok && !addr.IP.IsLoopback() && !withToken {
		log.Warn("--insecure-public-api: the API is reachable from other machines and has no token: anyone who reaches it can cut the proxied traffic", "api", api.String())
	}
	auth := "none"
	if withToken {
		auth = "bearer token"
	}
	conns := "none"
	if n := srv.Limits().MaxConns; n > 0 {
		conns = strconv.Itoa(n)
	}
	log.Info("spof proxy ready", "api", "http://"+api.String(), "auth", auth, "proxies", len(proxies), "max_ttl", ttl, "max_conns", conns)
}

// loopbackOnly reports whether listening on addr (host:port) can only
// take connections from this machine: a loopback IP, or a name whose
// addresses are all loopback. An empty host, 0.0.0.0 and [::] are every
// interface.
func loopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 {
		return true // listening fails the same way, and says why
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return false
		}
	}
	return true
}

// opErr is err without the "listen tcp ADDR:" prefix of *net.OpError,
// which the caller's message already says.
func opErr(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

// logRequests logs each API request: changes at info level (they are the
// record of which faults were injected, and when), reads at debug.
func logRequests(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		level := slog.LevelInfo
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			level = slog.LevelDebug
		}
		log.Log(r.Context(), level, "api", "method", r.Method, "path", r.URL.Path, "status", rec.status, "remote", r.RemoteAddr)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// loadProxyFile reads a --config file. Its problems are printed on
// stderr, one per line as file:line:col: message, like a model's.
func loadProxyFile(e *env, path string) ([]model.ProxyEntry, error) {
	data, err := e.readInput(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usageError("--config %s: no such file", path)
		}
		return nil, usageError("--config: %v", err)
	}
	entries, err := model.ParseProxies(path, data)
	var list model.ErrorList
	if errors.As(err, &list) {
		n := len(list)
		for _, p := range list {
			fmt.Fprintln(e.stderr, p)
		}
		var more *model.TooManyErrors
		if errors.As(err, &more) {
			fmt.Fprintf(e.stderr, "… and %d more error%s\n", more.More, plural(more.More))
			n += more.More
		}
		return nil, usageError("%d error%s in %s", n, plural(n), path)
	}
	return entries, err
}

// proxyConfig is the proxy an entry of a --config file describes.
func proxyConfig(en model.ProxyEntry) proxy.ProxyConfig {
	return proxy.ProxyConfig{Name: en.Name, Listen: en.Listen, Upstream: en.Upstream, Enabled: en.Enabled}
}

// createError is err, the error of creating the proxy of en, at the
// field it names (listen or upstream), else at the entry.
func createError(en model.ProxyEntry, err error) error {
	pos := en.Pos
	switch {
	case strings.HasPrefix(err.Error(), "listen ") && en.ListenPos.Line > 0:
		pos = en.ListenPos
	case strings.HasPrefix(err.Error(), "upstream ") && en.UpstreamPos.Line > 0:
		pos = en.UpstreamPos
	}
	return usageError("%s: %s: %v", pos, en.Path, err)
}
