// Package client talks to the HTTP API of spof's fault proxy (`spof
// proxy`): proxies, toxics with their TTLs, populate and reset. The API is
// Toxiproxy's, so the client also works against Toxiproxy 2.x, whose
// toxics simply have no TTL.
//
// Errors the server answers with come back as *proxy.Error, so callers can
// test for conditions with errors.Is(err, proxy.ErrProxyNotFound) and the
// like; when the server cannot be reached, the error names its URL.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spofhq/spof/proxy"
)

// defaultTimeout bounds each request of a Client built without
// WithHTTPClient, so that a hung server cannot hang a caller that passed a
// context without a deadline.
const defaultTimeout = 30 * time.Second

// maxAnswer bounds the answers read: a list of thousands of proxies is
// well below it.
const maxAnswer = 16 << 20

// TokenEnv names the environment variable New reads the API's bearer
// token from, for a `spof proxy --token-file` server.
const TokenEnv = "SPOF_PROXY_TOKEN"

// A Client calls one proxy API. It is safe for concurrent use.
type Client struct {
	base  string // scheme://host:port, no trailing slash
	hc    *http.Client
	token string // sent as "Authorization: Bearer TOKEN" if not empty
}

// An Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests with hc (its
// transport, timeout and so on) instead of its own.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.hc = hc }
}

// WithToken makes the Client send token as a bearer token with every
// request, for a server started with --token-file; an empty token sends
// none. It overrides $SPOF_PROXY_TOKEN.
func WithToken(token string) Option {
	return func(c *Client) { c.token = token }
}

// New returns a client of the API at baseURL, such as
// "http://127.0.0.1:8474"; without a scheme, http is assumed. It sends
// the bearer token in $SPOF_PROXY_TOKEN (TokenEnv), if set, unless
// WithToken says otherwise: so the injectors of `spof chaos` reach a
// server that needs a token without a setting of their own.
func New(baseURL string, opts ...Option) *Client {
	if !strings.Contains(baseURL, "://") {
		baseURL = "http://" + baseURL
	}
	c := &Client{base: strings.TrimRight(baseURL, "/"), hc: &http.Client{Timeout: defaultTimeout}, token: strings.TrimSpace(os.Getenv(TokenEnv))}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Version returns the version the server reports.
func (c *Client) Version(ctx context.Context) (string, error) {
	data, err := c.call(ctx, http.MethodGet, "/version", nil)
	if err != nil {
		return "", err
	}
	var v struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(data, &v) != nil || v.Version == "" {
		// Toxiproxy before 2.6 answers in plain text.
		return strings.TrimSpace(string(data)), nil
	}
	return v.Version, nil
}

// ErrNoLimits is returned by Limits when the server has no GET
// /spof/limits: Toxiproxy (whose toxics have no TTL, so no maximum), or an
// older spof proxy (whose maximum TTL is unknown: 15m by default).
var ErrNoLimits = errors.New("the proxy API does not report its limits (Toxiproxy, or spof proxy before /spof/limits)")

// Limits returns the caps the server applies (GET /spof/limits). Callers
// that need a fault to last check MaxTTL first: a fault that must stay
// for longer than a non-zero MaxTTL would be removed by the proxy before
// the end, so `spof chaos run` refuses a --duration plus recovery window
// longer than it. A server without the endpoint gives an error that
// errors.Is(err, ErrNoLimits) matches.
func (c *Client) Limits(ctx context.Context) (proxy.Limits, error) {
	var l proxy.Limits
	err := c.do(ctx, http.MethodGet, "/spof/limits", nil, &l)
	var pe *proxy.Error
	if errors.As(err, &pe) && pe.Status == http.StatusNotFound {
		return proxy.Limits{}, fmt.Errorf("proxy API at %s: %w", c.base, ErrNoLimits)
	}
	return l, err
}

// Proxies returns every proxy, sorted by name.
func (c *Client) Proxies(ctx context.Context) ([]proxy.ProxyInfo, error) {
	var byName map[string]proxy.ProxyInfo
	if err := c.do(ctx, http.MethodGet, "/proxies", nil, &byName); err != nil {
		return nil, err
	}
	out := make([]proxy.ProxyInfo, 0, len(byName))
	for _, p := range byName {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b proxy.ProxyInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Proxy returns the named proxy.
func (c *Client) Proxy(ctx context.Context, name string) (proxy.ProxyInfo, error) {
	var p proxy.ProxyInfo
	err := c.do(ctx, http.MethodGet, "/proxies/"+url.PathEscape(name), nil, &p)
	return p, err
}

// CreateProxy creates a proxy as cfg says: it listens only if cfg.Enabled
// is true, as with proxy.Server.CreateProxy. An empty host in cfg.Listen
// means 127.0.0.1, port 0 any free port: the ProxyInfo returned has the
// address chosen.
func (c *Client) CreateProxy(ctx context.Context, cfg proxy.ProxyConfig) (proxy.ProxyInfo, error) {
	var p proxy.ProxyInfo
	err := c.do(ctx, http.MethodPost, "/proxies", cfg, &p)
	return p, err
}

// UpdateProxy changes the fields of u that are not nil. A new listen
// address or upstream restarts the proxy and closes its connections;
// disabling it closes its listener and its connections.
func (c *Client) UpdateProxy(ctx context.Context, name string, u proxy.ProxyUpdate) (proxy.ProxyInfo, error) {
	// Send only the fields to change: Toxiproxy reads null as "".
	body := map[string]any{}
	if u.Listen != nil {
		body["listen"] = *u.Listen
	}
	if u.Upstream != nil {
		body["upstream"] = *u.Upstream
	}
	if u.Enabled != nil {
		body["enabled"] = *u.Enabled
	}
	var p proxy.ProxyInfo
	err := c.do(ctx, http.MethodPost, "/proxies/"+url.PathEscape(name), body, &p)
	return p, err
}

// DeleteProxy stops a proxy, closes its connections and removes it.
func (c *Client) DeleteProxy(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/proxies/"+url.PathEscape(name), nil, nil)
}

// Populate creates or replaces the proxies of cfgs, keeping those that
// exist with the same listen address and upstream (toxics and connections
// included). The server checks every config before it changes anything;
// on a later error (a listen address in use) it returns the proxies it
// handled before, with the error.
func (c *Client) Populate(ctx context.Context, cfgs []proxy.ProxyConfig) ([]proxy.ProxyInfo, error) {
	if cfgs == nil {
		cfgs = []proxy.ProxyConfig{}
	}
	data, err := c.call(ctx, http.MethodPost, "/populate", cfgs)
	var answer struct {
		Proxies []proxy.ProxyInfo `json:"proxies"`
	}
	var apiErr *proxy.Error
	if errors.As(err, &apiErr) {
		// The answer to a failed populate lists what was done.
		json.Unmarshal(data, &answer)
		return answer.Proxies, err
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &answer); err != nil {
		return nil, c.unexpected(http.MethodPost, "/populate", data, err)
	}
	return answer.Proxies, nil
}

// AddToxic adds t to a proxy and returns it as the server stored it: with
// its defaults filled in (name TYPE_STREAM, stream downstream, every
// attribute), its TTL capped by the server's maximum, and ExpiresAt.
// Toxicity is sent as it is: set it to 1 for a toxic that applies to every
// connection (0 applies to none).
func (c *Client) AddToxic(ctx context.Context, proxyName string, t proxy.Toxic) (proxy.Toxic, error) {
	var out proxy.Toxic
	err := c.do(ctx, http.MethodPost, "/proxies/"+url.PathEscape(proxyName)+"/toxics", t, &out)
	return out, err
}

// UpdateToxic replaces the stream, toxicity, attributes and TTL of the
// toxic named t.Name (attributes t leaves out keep their values), as
// proxy.Server.UpdateToxic does: the TTL counts again from now, unless t
// has a non-zero ExpiresAt and the toxic's current TTL (a toxic read from
// the server and changed), which keeps its expiry. To extend a toxic's
// life, set ExpiresAt to zero.
func (c *Client) UpdateToxic(ctx context.Context, proxyName string, t proxy.Toxic) (proxy.Toxic, error) {
	path := "/proxies/" + url.PathEscape(proxyName) + "/toxics/" + url.PathEscape(t.Name)
	body := map[string]any{
		"name":       t.Name,
		"type":       t.Type,
		"stream":     t.Stream,
		"toxicity":   t.Toxicity,
		"attributes": t.Attributes,
		"ttl":        t.TTL.String(),
	}
	if t.Attributes == nil {
		body["attributes"] = map[string]int64{}
	}
	if !t.ExpiresAt.IsZero() {
		// With the expiry it read, the server keeps it if the TTL is the
		// same.
		body["expires_at"] = t.ExpiresAt
	}
	var out proxy.Toxic
	err := c.do(ctx, http.MethodPost, path, body, &out)
	return out, err
}

// RemoveToxic removes a toxic from a proxy and its connections.
func (c *Client) RemoveToxic(ctx context.Context, proxyName, toxicName string) error {
	return c.do(ctx, http.MethodDelete, "/proxies/"+url.PathEscape(proxyName)+"/toxics/"+url.PathEscape(toxicName), nil, nil)
}

// Toxics returns the toxics of a proxy, in the order they were added.
func (c *Client) Toxics(ctx context.Context, proxyName string) ([]proxy.Toxic, error) {
	var out []proxy.Toxic
	err := c.do(ctx, http.MethodGet, "/proxies/"+url.PathEscape(proxyName)+"/toxics", nil, &out)
	return out, err
}

// Toxic returns one toxic of a proxy.
func (c *Client) Toxic(ctx context.Context, proxyName, toxicName string) (proxy.Toxic, error) {
	var out proxy.Toxic
	err := c.do(ctx, http.MethodGet, "/proxies/"+url.PathEscape(proxyName)+"/toxics/"+url.PathEscape(toxicName), nil, &out)
	return out, err
}

// Reset enables every proxy and removes every toxic.
func (c *Client) Reset(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/reset", nil, nil)
}

// do sends a request with in as its JSON body (nil: none) and decodes the
// answer into out (nil: the answer is not read).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	data, err := c.call(ctx, method, path, in)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return c.unexpected(method, path, data, err)
	}
	return nil
}

// call sends a request and returns the body of the answer. An answer
// outside 2xx is returned as a *proxy.Error, with the body.
func (c *Client) call(ctx context.Context, method, path string, in any) ([]byte, error) {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encoding the request: %w", method, path, err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("proxy API at %s: %w", c.base, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// The server refuses browsers' user agents; say who is calling.
	req.Header.Set("User-Agent", "spof-proxy-client")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("proxy API at %s: %s %s: %w", c.base, method, path, err)
		}
		return nil, fmt.Errorf("proxy API at %s unreachable: %w (is `spof proxy` running?)", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("proxy API at %s: reading the answer to %s %s: %w", c.base, method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		err := apiError(resp, data)
		if resp.StatusCode == http.StatusUnauthorized {
			var pe *proxy.Error
			if errors.As(err, &pe) {
				hint := " (set $" + TokenEnv + " to the server's token)"
				if c.token != "" {
					hint = " (the token sent, from $" + TokenEnv + " or WithToken, is not the server's)"
				}
				pe.Message += hint
			}
		}
		return data, err
	}
	return data, nil
}

// apiError decodes the error the server answered with: Toxiproxy's
// {"error": "...", "status": N}, or whatever else answered (a plain-text
// 403, a gateway's page) with its status.
func apiError(resp *http.Response, data []byte) error {
	var e proxy.Error
	if json.Unmarshal(data, &e) == nil && e.Message != "" {
		e.Status = resp.StatusCode
		return &e
	}
	msg := shorten(strings.TrimSpace(string(data)))
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return &proxy.Error{Message: fmt.Sprintf("%s %s: %s %s", resp.Request.Method, resp.Request.URL, resp.Status, msg), Status: resp.StatusCode}
}

func (c *Client) unexpected(method, path string, data []byte, err error) error {
	return fmt.Errorf("proxy API at %s: %s %s: unexpected answer %q: %w", c.base, method, path, shorten(string(data)), err)
}

// shorten cuts s to 200 characters: enough to recognise an answer, not a
// whole HTML page in an error message.
func shorten(s string) string {
	const max = 200
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}
