package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spofhq/spof/model"
	"github.com/spofhq/spof/proxy"
	"go.yaml.in/yaml/v3"
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
	var entries []proxyEntry
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
		if _, err := srv.CreateProxy(en.cfg); err != nil {
			ln.Close()
			closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.drain)
			srv.Close(closeCtx)
			cancel()
			return usageError("%s: %s: %v", en.pos(f.config, err), en.label(), err)
		}
	}

	hs := proxy.NewAPIServer(logRequests(log, srv.Handler()), proxy.APITimeouts{}, log)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
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

// proxyEntry is one proxy of a --config file, with the nodes it came
// from for error positions.
type proxyEntry struct {
	cfg   proxy.ProxyConfig
	index int                   // from 1
	node  *yaml.Node            // the entry
	at    map[string]*yaml.Node // the value of each field given
}

func (en proxyEntry) label() string {
	if en.cfg.Name != "" {
		return "proxy " + en.cfg.Name
	}
	return "proxy " + strconv.Itoa(en.index)
}

// pos is where in file the error err of the entry is: at the field it
// names (listen or upstream), else at the entry.
func (en proxyEntry) pos(file string, err error) string {
	n := en.node
	for _, field := range []string{"listen", "upstream"} {
		if at := en.at[field]; at != nil && strings.HasPrefix(err.Error(), field+" ") {
			n = at
		}
	}
	return fmt.Sprintf("%s:%d:%d", file, n.Line, n.Column)
}

var proxyFields = []string{"name", "listen", "upstream", "enabled"}

// loadProxyFile reads a --config file. Its problems are printed on
// stderr, one per line as file:line:col: message, like a model's.
func loadProxyFile(e *env, path string) ([]proxyEntry, error) {
	data, err := e.readInput(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usageError("--config %s: no such file", path)
		}
		return nil, usageError("--config: %v", err)
	}
	entries, problems := parseProxyFile(path, data)
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(e.stderr, p)
		}
		return nil, usageError("%d error%s in %s", len(problems), plural(len(problems)), path)
	}
	return entries, nil
}

// parseProxyFile decodes a list of proxies in Toxiproxy's configuration
// format, JSON or YAML, strictly: unknown fields, wrong types, missing
// names or upstreams and duplicate names are problems, each with its
// position. Addresses are checked when the proxies are created.
func parseProxyFile(file string, data []byte) (entries []proxyEntry, problems []string) {
	type fileProblem struct {
		line, col int
		msg       string
	}
	var found []fileProblem
	problemAt := func(n *yaml.Node, format string, args ...any) {
		found = append(found, fileProblem{n.Line, n.Column, fmt.Sprintf(format, args...)})
	}
	defer func() {
		slices.SortStableFunc(found, func(a, b fileProblem) int { return cmp.Or(a.line-b.line, a.col-b.col) })
		for _, p := range found {
			problems = append(problems, fmt.Sprintf("%s:%d:%d: %s", file, p.line, p.col, p.msg))
		}
	}()
	if strings.EqualFold(filepath.Ext(file), ".json") {
		// The YAML parser reads JSON too, but more leniently (trailing
		// commas): hold a .json file to JSON's syntax.
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				line, col := lineCol(data, int(se.Offset)-1)
				return nil, []string{fmt.Sprintf("%s:%d:%d: invalid JSON: %v", file, line, col, se)}
			}
			return nil, []string{fmt.Sprintf("%s: invalid JSON: %v", file, err)}
		}
	}
	root, err := model.YAMLDocument(file, data)
	if err != nil {
		return nil, []string{err.Error()}
	}
	if root == nil {
		return nil, nil // an empty file: no proxies
	}
	root = model.ResolveAlias(root)
	if root.Kind != yaml.SequenceNode {
		problemAt(root, "want a list of proxies, each with name, listen, upstream and enabled (Toxiproxy's format)")
		return nil, nil
	}
	names := map[string]*yaml.Node{}
	for i, item := range root.Content {
		item = model.ResolveAlias(item)
		en := proxyEntry{index: i + 1, node: item, at: map[string]*yaml.Node{}, cfg: proxy.ProxyConfig{Enabled: true}}
		if item.Kind != yaml.MappingNode {
			problemAt(item, "%s: want a mapping with name, listen, upstream and enabled", en.label())
			continue
		}
		// The name first, so that every message can use it.
		for j := 0; j+1 < len(item.Content); j += 2 {
			if v := model.ResolveAlias(item.Content[j+1]); item.Content[j].Value == "name" {
				if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" {
					en.cfg.Name = v.Value
				}
				break
			}
		}
		bad := map[string]bool{} // fields of the wrong type, already reported
		for j := 0; j+1 < len(item.Content); j += 2 {
			k, v := item.Content[j], model.ResolveAlias(item.Content[j+1])
			if first := en.at[k.Value]; first != nil {
				problemAt(k, "%s: %s given twice (first at line %d)", en.label(), k.Value, first.Line)
				continue
			}
			switch k.Value {
			case "name", "listen", "upstream":
				en.at[k.Value] = v
				if v.ShortTag() == "!!null" {
					continue // reported as missing below, or the default
				}
				if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
					want := "a string"
					if k.Value != "name" {
						want = "host:port as a string, such as 127.0.0.1:6379"
					}
					problemAt(v, "%s: %s: want %s, got %s", en.label(), k.Value, want, model.DescribeNode(v))
					bad[k.Value] = true
					continue
				}
				switch k.Value {
				case "listen":
					en.cfg.Listen = v.Value
				case "upstream":
					en.cfg.Upstream = v.Value
				}
			case "enabled":
				en.at[k.Value] = v
				if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
					problemAt(v, "%s: enabled: want true or false, got %s", en.label(), model.DescribeNode(v))
					continue
				}
				v.Decode(&en.cfg.Enabled)
			case "toxics":
				problemAt(k, "%s: toxics cannot be set in a config file: add them through the API, with a ttl", en.label())
			default:
				if c := model.Closest(k.Value, proxyFields); c != "" {
					problemAt(k, "%s: unknown field %q (did you mean %q?)", en.label(), k.Value, c)
				} else {
					problemAt(k, "%s: unknown field %q (a proxy has %s)", en.label(), k.Value, strings.Join(proxyFields, ", "))
				}
			}
		}
		switch {
		case en.cfg.Name == "" && !bad["name"]:
			problemAt(item, "%s: missing name", en.label())
		case en.cfg.Name == "":
		case names[en.cfg.Name] != nil:
			problemAt(en.at["name"], "%s: name given twice (first at line %d)", en.label(), names[en.cfg.Name].Line)
		default:
			names[en.cfg.Name] = en.at["name"]
		}
		if en.cfg.Upstream == "" && !bad["upstream"] {
			problemAt(item, "%s: missing upstream (host:port of the service to proxy)", en.label())
		}
		entries = append(entries, en)
	}
	return entries, nil
}

// lineCol converts a byte offset of data to a line and a column in
// characters, both from 1.
func lineCol(data []byte, off int) (line, col int) {
	off = max(0, min(off, len(data)))
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	col = 1 + utf8.RuneCount(data[bytes.LastIndexByte(data[:off], '\n')+1:off])
	return line, col
}
