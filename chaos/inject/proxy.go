package inject

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"

	"github.com/spofhq/spof/proxy"
	"github.com/spofhq/spof/proxy/client"
)

// Proxy injects faults as toxics on a proxy of spof's fault proxy (or
// Toxiproxy, without the TTL).
type Proxy struct {
	API   string // the proxy's API, e.g. http://127.0.0.1:8474
	Proxy string // the proxy's name
	// Toxic names the toxic, so that two experiments never remove each
	// other's faults: spof-<experiment>.
	Toxic string
	// Listen and Upstream, when set, are what the model says the proxy
	// does: Check compares them with the running proxy.
	Listen, Upstream string
}

type proxyUndo struct {
	API   string `json:"api"`
	Proxy string `json:"proxy"`
	Toxic string `json:"toxic"`
}

// Undo returns the undo record of the fault: remove the toxic.
func (p Proxy) Undo() Undo {
	return marshalUndo("proxy", proxyUndo{API: p.API, Proxy: p.Proxy, Toxic: p.Toxic})
}

// Prepare finds the proxy as the model describes it (Check) and returns
// the undo record of the fault, before it is injected.
func (p Proxy) Prepare(ctx context.Context) (Undo, error) {
	return p.Undo(), p.Check(ctx)
}

// Check finds the proxy and compares it with what the model says: a
// proxy that forwards elsewhere, or listens on another port, means the
// model describes another setup, and a fault there would test nothing
// the model predicts.
func (p Proxy) Check(ctx context.Context) error {
	info, err := client.New(p.API).Proxy(ctx, p.Proxy)
	if err != nil {
		return fmt.Errorf("proxy %s at %s: %w", p.Proxy, p.API, err)
	}
	if p.Upstream != "" && info.Upstream != p.Upstream {
		return fmt.Errorf("proxy %s forwards to %s, but the model says %s: update the component's chaos: proxy binding, or the proxy", p.Proxy, info.Upstream, p.Upstream)
	}
	if p.Listen != "" && port(info.Listen) != port(p.Listen) {
		return fmt.Errorf("proxy %s listens on %s, but the model says %s: update the component's chaos: proxy binding, or the proxy", p.Proxy, info.Listen, p.Listen)
	}
	return nil
}

func port(hostport string) string {
	_, port, _ := net.SplitHostPort(hostport)
	return port
}

// Inject adds the toxic for f (the undo record names it too). The proxy
// must exist.
func (p Proxy) Inject(ctx context.Context, _ Undo, f Fault) error {
	t, err := toxicFor(f)
	if err != nil {
		return err
	}
	t.Name = p.Toxic
	t.Toxicity = 1
	t.TTL = f.TTL
	if _, err := client.New(p.API).AddToxic(ctx, p.Proxy, t); err != nil {
		return fmt.Errorf("injecting %s on proxy %s: %w", f, p.Proxy, err)
	}
	return nil
}

// toxicFor maps a fault to the proxy's toxic. Faults that a client meets
// when it sends (blackhole, reset) go on the upstream stream; those on
// answers, downstream.
func toxicFor(f Fault) (proxy.Toxic, error) {
	switch f.Kind {
	case Down:
		return proxy.Toxic{Type: proxy.ToxicDown, Stream: proxy.Downstream}, nil
	case Blackhole:
		return proxy.Toxic{Type: proxy.ToxicTimeout, Stream: proxy.Upstream, Attributes: map[string]int64{"timeout": 0}}, nil
	case Reset:
		return proxy.Toxic{Type: proxy.ToxicResetPeer, Stream: proxy.Upstream, Attributes: map[string]int64{"timeout": 0}}, nil
	case Latency:
		return proxy.Toxic{Type: proxy.ToxicLatency, Stream: proxy.Downstream, Attributes: map[string]int64{"latency": f.Latency.Milliseconds(), "jitter": f.Jitter.Milliseconds()}}, nil
	case Bandwidth:
		return proxy.Toxic{Type: proxy.ToxicBandwidth, Stream: proxy.Downstream, Attributes: map[string]int64{"rate": f.Rate}}, nil
	case SlowClose:
		return proxy.Toxic{Type: proxy.ToxicSlowClose, Stream: proxy.Downstream, Attributes: map[string]int64{"delay": f.Delay.Milliseconds()}}, nil
	case LimitData:
		return proxy.Toxic{Type: proxy.ToxicLimitData, Stream: proxy.Downstream, Attributes: map[string]int64{"bytes": f.Bytes}}, nil
	}
	return proxy.Toxic{}, fmt.Errorf("fault %q cannot be injected through the proxy", f.Kind)
}

func (u proxyUndo) restore(ctx context.Context) error {
	err := client.New(u.API).RemoveToxic(ctx, u.Proxy, u.Toxic)
	if errors.Is(err, proxy.ErrToxicNotFound) || errors.Is(err, proxy.ErrProxyNotFound) {
		return nil // already gone: by its TTL, an earlier restore, or with its proxy
	}
	if err != nil {
		return fmt.Errorf("removing toxic %s from proxy %s: %w", u.Toxic, u.Proxy, err)
	}
	return nil
}

func (u proxyUndo) active(ctx context.Context) (bool, error) {
	_, err := client.New(u.API).Toxic(ctx, u.Proxy, u.Toxic)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, proxy.ErrToxicNotFound), errors.Is(err, proxy.ErrProxyNotFound):
		return false, nil
	}
	return false, err
}

// ProxyToxic is the toxic that u, a proxy fault's undo record, removes:
// ok is false for other injectors' records.
func ProxyToxic(u Undo) (api, proxy, toxic string, ok bool) {
	if u.Injector != "proxy" {
		return "", "", "", false
	}
	var d proxyUndo
	if json.Unmarshal(u.Data, &d) != nil {
		return "", "", "", false
	}
	return d.API, d.Proxy, d.Toxic, true
}

// Toxics returns the names of the toxics on the proxy name of the fault
// proxy at api.
func Toxics(ctx context.Context, api, name string) ([]string, error) {
	ts, err := client.New(api).Toxics(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("proxy %s at %s: %w", name, api, err)
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	return out, nil
}
