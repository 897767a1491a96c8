package model

import (
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/spofhq/spof/internal/yamltree"
)

// model decodes the root mapping of a document.
func (d *decoder) model(root *yamltree.Node) *Model {
	if root.Kind != yamltree.MappingNode {
		d.errorf(root, "", `a model is a mapping that starts with "version: 1"`,
			"want a mapping at the top level, got %s", describe(root))
		return nil
	}
	vs := d.object(root, modelObject, "", root)
	d.arena = arena{} // vs lives on: keep its blocks out of the resets
	m := &Model{
		File:        d.file,
		Version:     vs.get("version").num,
		System:      vs.get("system").str,
		Description: vs.get("description").str,
		Environment: vs.get("environment").str,
		Pos:         Pos{File: d.file, Line: 1, Col: 1},
	}

	// Names first: components refer to zones and flows declared later.
	zones, components, flows := vs.get("zones"), vs.get("components"), vs.get("flows")
	for _, s := range []struct {
		kind refKind
		v    *value
	}{{refZone, zones}, {refComponent, components}, {refFlow, flows}} {
		d.declare(s.kind, s.v.pairs)
		d.unchecked[s.kind] = s.v.set && !s.v.ok
	}

	for _, p := range zones.pairs {
		if z := d.zone(p); z != nil {
			m.Zones = append(m.Zones, z)
		}
		d.arena.reset()
	}
	if d.split != nil {
		if m.Components = d.splitComponents(); d.splitFailed {
			return nil
		}
	} else {
		m.Components = d.components(components.pairs)
	}
	for _, p := range flows.pairs {
		if f := d.flow(p); f != nil {
			m.Flows = append(m.Flows, f)
		}
		d.arena.reset()
	}
	for _, p := range vs.get("people").pairs {
		if person := d.person(p); person != nil {
			m.People = append(m.People, person)
		}
		d.arena.reset()
	}
	for _, p := range vs.get("hazards").pairs {
		if h := d.hazard(p); h != nil {
			m.Hazards = append(m.Hazards, h)
		}
		d.arena.reset()
	}
	if chaos := vs.get("chaos"); chaos.ok {
		m.Chaos = d.chaos(chaos.node, chaos.key)
	}
	m.DeclaredRegions = d.regions(vs.get("regions").pairs, m.Regions())
	m.DeclaredProviders = d.providers(vs.get("providers").pairs, m.Providers())
	d.proxyCollisions(m.Components)
	d.findCycles()
	m.buildIndex()
	return m
}

// parallelComponents is the least number of components that components
// decodes on several goroutines; a variable so that tests can lower it.
var parallelComponents = 4096

// components decodes the components section. A large one is decoded on
// several goroutines, each with a decoder of its own over a run of the
// components; if any of them finds a problem, everything is decoded again
// on one, so that errors come out exactly as they always do (in order,
// capped at MaxErrors).
func (d *decoder) components(pairs []pair) []*Component {
	if workers := min(runtime.GOMAXPROCS(0), 8); workers > 1 && len(pairs) >= parallelComponents {
		if cs, ok := d.componentsParallel(pairs, workers); ok {
			return cs
		}
	}
	cs := make([]*Component, 0, len(pairs))
	for i, p := range pairs {
		if c := d.component(int32(i), p); c != nil {
			cs = append(cs, c)
		}
		d.arena.reset()
	}
	return cs
}

func (d *decoder) componentsParallel(pairs []pair, workers int) ([]*Component, bool) {
	cs := make([]*Component, len(pairs))
	subs := make([]*decoder, workers)
	var wg sync.WaitGroup
	for w := range workers {
		// Decoders share the declared names, which nothing changes
		// from now on.
		sub := &decoder{file: d.file, names: d.names, index: d.index, unchecked: d.unchecked}
		subs[w] = sub
		lo, hi := len(pairs)*w/workers, len(pairs)*(w+1)/workers
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				cs[i] = sub.component(int32(i), pairs[i])
				sub.arena.reset()
				if len(sub.errs) > 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	for _, sub := range subs {
		if len(sub.errs) > 0 {
			return nil, false
		}
	}
	for _, sub := range subs {
		d.arcs = append(d.arcs, sub.arcs...)
	}
	return cs, true
}

// chaos decodes the top-level chaos: block.
func (d *decoder) chaos(n, at *yamltree.Node) *ChaosConfig {
	vs := d.object(n, chaosObject, "chaos", at)
	if vs == nil {
		return nil
	}
	c := &ChaosConfig{
		ProxyAPI: vs.get("proxy_api").str,
		StateDir: vs.get("state_dir").str,
		Pos:      d.pos(at),
	}
	for _, p := range vs.get("abort_probes").pairs {
		if probe := d.probe(p.val, join("chaos.abort_probes", p.key.Value), p.key); probe != nil {
			probe.Name = p.key.Value
			c.AbortProbes = append(c.AbortProbes, probe)
		}
	}
	for _, p := range vs.get("schedules").pairs {
		if sc := d.schedule(p); sc != nil {
			c.Schedules = append(c.Schedules, sc)
		}
	}
	return c
}

func (d *decoder) schedule(p pair) *Schedule {
	path := join("chaos.schedules", p.key.Value)
	vs := d.object(p.val, scheduleObject, path, p.key)
	if vs == nil {
		return nil
	}
	sc := &Schedule{Name: p.key.Value, Cron: vs.get("cron").str, Experiments: vs.get("experiments").list,
		Duration: vs.get("duration").dur, Pos: d.pos(p.key)}
	if c := vs.get("cron"); c.ok {
		if _, err := ParseCron(sc.Cron); err != nil {
			d.errorf(c.node, join(path, "cron"), `five fields: minute hour day-of-month month day-of-week, e.g. "0 3 * * 1-5" (03:00 UTC on weekdays), or @daily`,
				"invalid cron expression %q: %v", sc.Cron, err)
			return nil
		}
	}
	return sc
}

// binding decodes the chaos: binding of component c.
func (d *decoder) binding(c *Component, n *yamltree.Node, path string, at *yamltree.Node) *ChaosBinding {
	vs := d.object(n, bindingObject, path, at)
	if vs == nil {
		return nil
	}
	b := &ChaosBinding{Pos: d.pos(at)}
	sub := func(key string, obj *object) *values {
		v := vs.get(key)
		if !v.ok {
			return nil
		}
		return d.object(v.node, obj, join(path, key), v.key)
	}
	if vs := sub("proxy", proxyBindingObject); vs != nil {
		listen := vs.get("listen")
		b.Proxy = &ProxyBinding{
			Name:      vs.get("name").str,
			Listen:    listen.str,
			Upstream:  vs.get("upstream").str,
			ListenPos: d.pos(listen.node),
		}
		if b.Proxy.Name == "" {
			b.Proxy.Name = c.Name
		}
		if up := vs.get("upstream"); listen.ok && up.ok && listen.str == up.str {
			d.errorf(up.node, join(path, "proxy.upstream"), "the proxy would forward to itself: listen on another port",
				"upstream is the listen address")
		}
	}
	if vs := sub("process", processBindingObject); vs != nil {
		p := &ProcessBinding{
			PIDFile: vs.get("pidfile").str,
			PIDCmd:  vs.get("pid_cmd").str,
			Signal:  SignalStop,
			Restart: vs.get("restart").str,
		}
		if sig := vs.get("signal"); sig.ok {
			p.Signal = Signal(sig.str)
			if p.Signal != SignalStop && !vs.get("restart").set {
				d.errorf(sig.node, join(path, "process.signal"),
					"add restart: with the command that starts it again, or use signal: STOP to pause it",
					"signal %s ends the process, and nothing restarts it", p.Signal)
			}
		}
		b.Process = p
	}
	if vs := sub("iptables", iptablesBindingObject); vs != nil {
		b.IPTables = &IPTablesBinding{
			Port:   vs.get("port").num,
			Netns:  vs.get("netns").str,
			Action: orDefault(vs.get("action"), IPTablesDrop),
		}
	}
	if vs := sub("docker", dockerBindingObject); vs != nil {
		action, network := vs.get("action"), vs.get("network")
		b.Docker = &DockerBinding{
			Container: vs.get("container").str,
			Action:    orDefault(action, DockerPause),
			Network:   network.str,
		}
		switch {
		case b.Docker.Action == DockerDisconnect && !network.set:
			d.errorf(action.node, join(path, "docker"), "example: network: shop-net",
				"action disconnect needs the network to disconnect from")
		case b.Docker.Action != DockerDisconnect && network.set:
			d.errorf(network.key, join(path, "docker.network"), "remove it, or set action: disconnect",
				"network applies only with action: disconnect")
		}
	}
	if vs := sub("kubectl", kubectlBindingObject); vs != nil {
		b.Kubectl = &KubectlBinding{
			Selector:  vs.get("selector").str,
			Namespace: vs.get("namespace").str,
			Action:    orDefault(vs.get("action"), KubectlDelete),
		}
	}
	if vs := sub("command", commandBindingObject); vs != nil {
		b.Command = &CommandBinding{
			Inject:  vs.get("inject").str,
			Restore: vs.get("restore").str,
			Check:   vs.get("check").str,
		}
	}
	if b.Kind() == "" {
		return nil // errors recorded
	}
	return b
}

// orDefault returns the value of an enum key, or def when it is not set.
func orDefault(v *value, def string) string {
	if v.ok {
		return v.str
	}
	return def
}

// proxyCollisions reports proxy bindings that listen on the same address,
// or share a proxy name: the fault proxy could not create both. An address
// on 0.0.0.0 or :: takes its port on every host.
func (d *decoder) proxyCollisions(components []*Component) {
	type listener struct {
		component, host, port string
	}
	var seen []listener // proxies are few: a scan is enough
	names := map[string]string{}
	for _, c := range components {
		if c.Chaos == nil || c.Chaos.Proxy == nil {
			continue
		}
		p := c.Chaos.Proxy
		path := join(join("components", c.Name), "chaos.proxy")
		if other, dup := names[p.Name]; dup {
			d.errorAt(c.Chaos.Pos, join(path, "name"), "give each proxy its own name",
				"proxy name %q is also the proxy name of component %q", p.Name, other)
		} else {
			names[p.Name] = c.Name
		}
		host, port, err := net.SplitHostPort(p.Listen)
		if err != nil {
			continue // reported
		}
		for _, l := range seen {
			if l.port == port && (l.host == host || wildcard(l.host) || wildcard(host)) {
				d.errorAt(p.ListenPos, join(path, "listen"), "give each proxy its own port",
					"listen address %s is also the proxy listen address of component %q", p.Listen, l.component)
				break
			}
		}
		seen = append(seen, listener{c.Name, host, port})
	}
}

// wildcard reports whether host means every interface.
func wildcard(host string) bool {
	return host == "0.0.0.0" || host == "::"
}

func (d *decoder) zone(p pair) *Zone {
	z := &Zone{Name: p.key.Value, Pos: d.pos(p.key)}
	if p.val.ShortTag() == "!!null" {
		return z
	}
	vs := d.object(p.val, zoneObject, join("zones", z.Name), p.key)
	if vs == nil {
		return nil
	}
	z.Region = vs.get("region").str
	z.Availability = vs.get("availability").frac
	z.Source = d.source(vs)
	return z
}

// component decodes the component declared id-th.
func (d *decoder) component(id int32, p pair) *Component {
	path := join("components", p.key.Value)
	vs := d.object(p.val, componentObject, path, p.key)
	if vs == nil {
		return nil
	}
	c := &Component{
		Name:        p.key.Value,
		Kind:        Kind(vs.get("kind").str),
		Description: vs.get("description").str,
		Replicas:    1,
		MinHealthy:  1,
		Zones:       vs.get("zones").list,
		Pos:         d.pos(p.key),
		Source:      d.source(vs),
	}
	replicas, minHealthy := vs.get("replicas"), vs.get("min_healthy")
	if replicas.ok {
		c.Replicas = replicas.num
	}
	if minHealthy.ok {
		c.MinHealthy = minHealthy.num
		if c.MinHealthy > c.Replicas && (replicas.ok || !replicas.set) {
			d.errorf(minHealthy.node, join(path, "min_healthy"), "raise replicas or lower min_healthy",
				"min_healthy (%d) is greater than replicas (%d)", c.MinHealthy, c.Replicas)
		}
	}
	c.Availability = vs.get("availability").frac
	if provider := vs.get("provider"); provider.ok {
		c.Provider, c.ProviderPos = provider.str, d.pos(provider.node)
	}
	if failover := vs.get("failover"); failover.ok {
		c.Failover, c.FailoverSet = Failover(failover.str), true
	} else {
		c.Failover = DefaultFailover(c.Kind)
	}
	if deps := vs.get("depends_on"); deps.ok {
		d.dependsOn(id, c, deps.node, join(path, "depends_on"))
	}
	if chaos := vs.get("chaos"); chaos.ok {
		c.Chaos = d.binding(c, chaos.node, join(path, "chaos"), chaos.key)
	}
	return c
}

// dependsOn decodes the depends_on list of component c, declared id-th.
func (d *decoder) dependsOn(id int32, c *Component, n *yamltree.Node, path string) {
	type key struct {
		to   string
		when When
	}
	c.DependsOn = make([]*Edge, 0, len(n.Content))
	items := make([]int, 0, len(n.Content)) // the list index of each edge
	var seen map[key]int                    // only for long lists
	if len(n.Content) > 16 {
		seen = make(map[key]int, len(n.Content))
	}
	for i, item := range n.Content {
		p := indexPath(path, i)
		e, target, running := d.edge(c.Name, resolve(item), p)
		if e == nil {
			continue
		}
		if e.To == c.Name {
			d.errorf(target, p, "remove this entry", "component depends on itself")
		}
		first := -1
		if seen != nil {
			if j, dup := seen[key{e.To, e.When}]; dup {
				first = j
			} else {
				seen[key{e.To, e.When}] = i
			}
		} else {
			for j, prev := range c.DependsOn {
				if prev.To == e.To && prev.When == e.When {
					first = items[j]
					break
				}
			}
		}
		if first >= 0 {
			d.errorf(target, p, fmt.Sprintf("merge it with depends_on[%d]", first), "duplicate dependency on %q", e.To)
			continue
		}
		c.DependsOn = append(c.DependsOn, e)
		items = append(items, i)
		if running {
			for _, to := range []string{e.To, e.FallbackTo, e.AsyncVia} {
				if d.deferRefs {
					if to != "" {
						d.pendingArcs = append(d.pendingArcs, pendingArc{from: id, to: to, item: int32(i), edge: e})
					}
					continue
				}
				if t, ok := d.index[refComponent][to]; ok && to != c.Name {
					d.arcs = append(d.arcs, arc{from: id, to: t, item: int32(i), edge: e})
				}
			}
		}
	}
}

// edge decodes one entry of a depends_on list. It returns the edge (nil if
// the entry is unusable), the node naming the target, and whether the edge
// is needed while running (and so part of cycle detection).
func (d *decoder) edge(from string, n *yamltree.Node, path string) (e *Edge, target *yamltree.Node, running bool) {
	e = &Edge{From: from, Pos: d.pos(n)}
	switch {
	case isString(n):
		e.To = n.Value
		d.ref(n, func() string { return path }, refComponent, e.To)
		return e, n, true
	case n.Kind != yamltree.MappingNode:
		d.typeError(n, path, "a component name or a mapping")
		return nil, nil, false
	}
	pairs := d.pairs(n, path)
	if len(pairs) != 1 {
		keys := make([]string, len(pairs))
		for i, p := range pairs {
			keys[i] = p.key.Value
		}
		switch {
		case len(pairs) == 0:
			d.errorf(n, path, `write "- name" or "- name: {options}"`, "want one key, the component's name, got none")
		case pairs[0].val.ShortTag() == "!!null" && edgeObject.lookup(pairs[1].key.Value) >= 0:
			d.errorf(n, path, fmt.Sprintf("indent the options under %q", pairs[0].key.Value+":"),
				"want one key, the component's name, got %d: %s", len(keys), strings.Join(keys, ", "))
		default:
			d.errorf(n, path, "write each dependency as its own list entry",
				"want one key, the component's name, got %d: %s", len(keys), strings.Join(keys, ", "))
		}
		return nil, nil, false
	}
	target, opts := pairs[0].key, pairs[0].val
	e.To = target.Value
	d.ref(target, func() string { return path }, refComponent, e.To)
	if opts.ShortTag() == "!!null" {
		return e, target, true
	}
	if opts.Kind != yamltree.MappingNode {
		d.errorf(opts, path, fmt.Sprintf(`write "- %s: {fallback: ...}", or "- %s" without options`, e.To, e.To),
			"want a mapping of options, got %s", describe(opts))
		return e, target, false
	}
	vs := d.object(opts, edgeObject, path, target)
	fallbackTo, asyncVia, when := vs.get("fallback_to"), vs.get("async_via"), vs.get("when")
	e.FallbackTo = fallbackTo.str
	e.Fallback = vs.get("fallback").str
	e.AsyncVia = asyncVia.str
	e.When = When(when.str)
	e.Flows = vs.get("flows").list
	e.Source = d.source(vs)
	if b := vs.get("breaker"); b.ok {
		e.Breaker = d.breaker(b.node, join(path, "breaker"), b.key)
	}
	for _, alt := range []struct {
		key string
		v   *value
	}{{"fallback_to", fallbackTo}, {"async_via", asyncVia}} {
		switch {
		case !alt.v.ok:
		case alt.v.str == e.To:
			d.errorf(alt.v.node, join(path, alt.key), "name another component", "%s is the dependency itself", alt.key)
		case alt.v.str == from:
			d.errorf(alt.v.node, join(path, alt.key), "name another component", "component depends on itself")
		}
	}
	return e, target, e.When == WhenRunning && !when.set
}

func (d *decoder) breaker(n *yamltree.Node, path string, at *yamltree.Node) *Breaker {
	vs := d.object(n, breakerObject, path, at)
	if vs == nil {
		return nil
	}
	return &Breaker{
		Timeout:         vs.get("timeout").dur,
		ErrorThreshold:  vs.get("error_threshold").num,
		Reset:           vs.get("reset").dur,
		VolumeThreshold: vs.get("volume_threshold").num,
	}
}

func (d *decoder) flow(p pair) *Flow {
	path := join("flows", p.key.Value)
	vs := d.object(p.val, flowObject, path, p.key)
	if vs == nil {
		return nil
	}
	crit, _ := ParseCriticality(vs.get("criticality").str)
	steps := vs.get("steps")
	f := &Flow{
		Name:        p.key.Value,
		Criticality: crit,
		Description: vs.get("description").str,
		Steps:       steps.list,
		StepsPos:    d.positions(steps.items),
		Pos:         d.pos(p.key),
		Source:      d.source(vs),
	}
	if probe := vs.get("probe"); probe.ok {
		f.Probe = d.probe(probe.node, join(path, "probe"), probe.key)
	}
	return f
}

// probe decodes a flow's probe or an abort probe.
func (d *decoder) probe(n *yamltree.Node, path string, at *yamltree.Node) *Probe {
	vs := d.object(n, probeObject, path, at)
	if vs == nil {
		return nil
	}
	p := &Probe{
		HTTP:         vs.get("http").str,
		TCP:          vs.get("tcp").str,
		Command:      vs.get("command").str,
		Method:       vs.get("method").str,
		ExpectStatus: vs.get("expect_status").num,
		BodyContains: vs.get("body_contains").str,
		MaxLatency:   vs.get("max_latency").dur,
		Interval:     vs.get("interval").dur,
		Pos:          d.pos(at),
	}
	if dw := vs.get("degraded_when"); dw.ok {
		if vs := d.object(dw.node, degradedWhenObject, join(path, "degraded_when"), dw.key); vs != nil {
			p.DegradedWhen = &DegradedWhen{
				Header:       vs.get("header").str,
				Value:        vs.get("value").str,
				BodyContains: vs.get("body_contains").str,
			}
		}
	}
	return p
}

func (d *decoder) person(p pair) *Person {
	vs := d.object(p.val, personObject, join("people", p.key.Value), p.key)
	if vs == nil {
		return nil
	}
	knows, holds := vs.get("knows"), vs.get("holds")
	return &Person{
		Name:     p.key.Value,
		Knows:    knows.list,
		Holds:    holds.list,
		Pos:      d.pos(p.key),
		KnowsPos: d.positions(knows.items),
		HoldsPos: d.positions(holds.items),
		Source:   d.source(vs),
	}
}

func (d *decoder) hazard(p pair) *Hazard {
	vs := d.object(p.val, hazardObject, join("hazards", p.key.Value), p.key)
	if vs == nil {
		return nil
	}
	return &Hazard{
		Name:        p.key.Value,
		Description: vs.get("description").str,
		Breaks:      vs.get("breaks").list,
		Fix:         vs.get("fix").str,
		Probability: vs.get("probability").frac,
		Pos:         d.pos(p.key),
		Source:      d.source(vs),
	}
}

// regions decodes the regions: settings; each must name a region that a
// zone is in.
func (d *decoder) regions(pairs []pair, inUse []string) []*Region {
	var out []*Region
	d.settings(pairs, "regions", regionObject, "region", "no zone is in this region", inUse, func(name, desc string, a float64, pos Pos) {
		out = append(out, &Region{Name: name, Description: desc, Availability: a, Pos: pos})
	})
	return out
}

// providers decodes the providers: settings; each must name a provider
// that a component has.
func (d *decoder) providers(pairs []pair, inUse []string) []*Provider {
	var out []*Provider
	d.settings(pairs, "providers", providerObject, "provider", "no component has this provider", inUse, func(name, desc string, a float64, pos Pos) {
		out = append(out, &Provider{Name: name, Description: desc, Availability: a, Pos: pos})
	})
	return out
}

// settings decodes the entries of regions: or providers:, reporting those
// that name nothing in use.
func (d *decoder) settings(pairs []pair, section string, obj *object, noun, what string, inUse []string, add func(name, desc string, availability float64, pos Pos)) {
	for _, p := range pairs {
		path := join(section, p.key.Value)
		vs := d.object(p.val, obj, path, p.key)
		if vs == nil {
			continue
		}
		if !slices.Contains(inUse, p.key.Value) {
			d.unused(p.key, path, noun, what, inUse)
			continue
		}
		add(p.key.Value, vs.get("description").str, vs.get("availability").frac, d.pos(p.key))
	}
}

// unused reports settings for a region or provider nothing uses.
func (d *decoder) unused(key *yamltree.Node, path, noun, what string, inUse []string) {
	hint := didYouMean(key.Value, inUse)
	if hint == "" && len(inUse) > 0 {
		hint = fmt.Sprintf("the %ss in use: %s", noun, strings.Join(inUse, ", "))
	} else if hint == "" {
		hint = fmt.Sprintf("no %s is in use: remove the key", noun)
	}
	d.errorf(key, path, hint, "%s", what)
}

// source reads an object's source: key, relative to the model's directory.
func (d *decoder) source(vs *values) Pos {
	v := vs.get("source")
	if !v.ok || v.str == "" {
		return Pos{}
	}
	return ParseSource(v.str, filepath.Dir(d.file))
}

// positions returns the position of each node, or nil for none.
func (d *decoder) positions(nodes []*yamltree.Node) []Pos {
	if len(nodes) == 0 {
		return nil
	}
	out := make([]Pos, len(nodes))
	for i, n := range nodes {
		out[i] = d.pos(n)
	}
	return out
}
