package gen

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/spofhq/spof/model"
	"go.yaml.in/yaml/v3"
)

// Encode writes m as a spof.yaml document that model.Parse reads back into
// an equivalent model (positions aside). Keys follow the order of the
// format's documentation; defaults (one replica, min_healthy 1, the
// default failover) are left out; short option maps and name lists use
// flow style.
//
// The YAML encoder does all the quoting (names such as "true" or "007" stay
// strings). It keeps every event of a document in memory, several hundred
// bytes each, so a whole 100,000-component model as one node tree would
// take gigabytes and tens of seconds. Encode therefore encodes each large
// section in chunks of entries, each chunk as its own mapping under the
// section's key, and drops the repeated "key:" line of every chunk after
// the first: the concatenation is one block mapping.
func Encode(m *model.Model) ([]byte, error) {
	var buf bytes.Buffer
	top := mapping(false)
	version := m.Version
	if version == 0 {
		version = 1
	}
	top.add("version", intNode(version))
	top.add("system", str(m.System))
	top.addString("description", m.Description)
	top.addString("environment", m.Environment)
	if c := m.Chaos; c != nil {
		top.add("chaos", chaosConfig(c))
	}
	if err := encodeNode(&buf, top.node, header(m)); err != nil {
		return nil, err
	}

	sections := []struct {
		key   string
		n     int
		entry func(i int) (string, *yaml.Node)
	}{
		{"zones", len(m.Zones), func(i int) (string, *yaml.Node) { return zone(m.Zones[i]) }},
		{"regions", len(m.DeclaredRegions), func(i int) (string, *yaml.Node) {
			r := m.DeclaredRegions[i]
			return r.Name, settings(r.Description, r.Availability)
		}},
		{"providers", len(m.DeclaredProviders), func(i int) (string, *yaml.Node) {
			p := m.DeclaredProviders[i]
			return p.Name, settings(p.Description, p.Availability)
		}},
		{"components", len(m.Components), func(i int) (string, *yaml.Node) {
			return m.Components[i].Name, component(m.Components[i])
		}},
		{"flows", len(m.Flows), func(i int) (string, *yaml.Node) { return m.Flows[i].Name, flow(m.Flows[i]) }},
		{"people", len(m.People), func(i int) (string, *yaml.Node) { return m.People[i].Name, person(m.People[i]) }},
		{"hazards", len(m.Hazards), func(i int) (string, *yaml.Node) { return m.Hazards[i].Name, hazard(m.Hazards[i]) }},
	}
	for _, s := range sections {
		for lo := 0; lo < s.n; lo += chunkEntries {
			entries := mapping(false)
			for i := lo; i < min(lo+chunkEntries, s.n); i++ {
				entries.add(s.entry(i))
			}
			chunk := mapping(false)
			chunk.add(s.key, entries.node)
			if lo == 0 {
				if err := encodeNode(&buf, chunk.node, ""); err != nil {
					return nil, err
				}
				continue
			}
			var part bytes.Buffer
			if err := encodeNode(&part, chunk.node, ""); err != nil {
				return nil, err
			}
			rest, ok := bytes.CutPrefix(part.Bytes(), []byte(s.key+":\n"))
			if !ok {
				return nil, fmt.Errorf("encoding the model as YAML: %s: unexpected encoder output %.40q", s.key, part.Bytes())
			}
			buf.Write(rest)
		}
	}
	return buf.Bytes(), nil
}

// chunkEntries is how many entries of a section are encoded at once.
const chunkEntries = 32

// encodeNode appends the YAML of mapping n (indent 2) to buf, with comment
// as the document's head comment.
func encodeNode(buf *bytes.Buffer, n *yaml.Node, comment string) error {
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{n}, HeadComment: comment}
	enc := yaml.NewEncoder(buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encoding the model as YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encoding the model as YAML: %w", err)
	}
	return nil
}

func zone(z *model.Zone) (string, *yaml.Node) {
	if z.Region == "" && z.Availability == 0 {
		return z.Name, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: ""}
	}
	v := mapping(true)
	v.addString("region", z.Region)
	v.addFraction("availability", z.Availability)
	return z.Name, v.node
}

// settings is a region's or a provider's entry.
func settings(description string, availability float64) *yaml.Node {
	v := mapping(true)
	v.addString("description", description)
	v.addFraction("availability", availability)
	return v.node
}

func person(p *model.Person) *yaml.Node {
	v := mapping(true)
	if len(p.Knows) > 0 {
		v.add("knows", list(p.Knows))
	}
	if len(p.Holds) > 0 {
		v.add("holds", list(p.Holds))
	}
	return v.node
}

func hazard(h *model.Hazard) *yaml.Node {
	v := mapping(false)
	v.addString("description", h.Description)
	v.add("breaks", list(h.Breaks))
	v.addString("fix", h.Fix)
	v.addFraction("probability", h.Probability)
	return v.node
}

// header says where the file comes from and what it holds.
func header(m *model.Model) string {
	edges := 0
	for _, c := range m.Components {
		edges += len(c.DependsOn)
	}
	var b strings.Builder
	if cmd, ok := strings.CutPrefix(m.Description, generatedBy); ok {
		fmt.Fprintf(&b, "Generated by spof (github.com/spofhq/spof) with:\n  %s\nRegenerate it rather than edit it.\n", cmd)
	} else {
		fmt.Fprintf(&b, "Written by spof (github.com/spofhq/spof) from the model of system %s.\n", m.System)
	}
	fmt.Fprintf(&b, "%d components, %d dependencies, %d flows, %d people, %d hazards.\n",
		len(m.Components), edges, len(m.Flows), len(m.People), len(m.Hazards))
	b.WriteString("Analyse it with: spof check FILE")
	return b.String()
}

func component(c *model.Component) *yaml.Node {
	v := mapping(false)
	v.add("kind", str(string(c.Kind)))
	v.addString("description", c.Description)
	if c.Replicas != 1 && c.Replicas != 0 {
		v.add("replicas", intNode(c.Replicas))
	}
	if c.MinHealthy != 1 && c.MinHealthy != 0 {
		v.add("min_healthy", intNode(c.MinHealthy))
	}
	if len(c.Zones) > 0 {
		v.add("zones", list(c.Zones))
	}
	v.addString("provider", c.Provider)
	v.addFraction("availability", c.Availability)
	if c.Failover != "" && (c.FailoverSet || c.Failover != model.DefaultFailover(c.Kind)) {
		v.add("failover", str(string(c.Failover)))
	}
	if c.Chaos != nil {
		v.add("chaos", binding(c.Chaos))
	}
	if len(c.DependsOn) > 0 {
		deps := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range c.DependsOn {
			deps.Content = append(deps.Content, edge(e))
		}
		v.add("depends_on", deps)
	}
	return v.node
}

// edge is a bare name for a hard dependency, else {name: {options}}.
func edge(e *model.Edge) *yaml.Node {
	opts := mapping(true)
	opts.addString("fallback_to", e.FallbackTo)
	opts.addString("fallback", e.Fallback)
	opts.addString("async_via", e.AsyncVia)
	if b := e.Breaker; b != nil {
		bn := mapping(true)
		if b.Timeout != 0 {
			bn.add("timeout", str(b.Timeout.String()))
		}
		if b.ErrorThreshold != 0 {
			bn.add("error_threshold", intNode(b.ErrorThreshold))
		}
		if b.Reset != 0 {
			bn.add("reset", str(b.Reset.String()))
		}
		if b.VolumeThreshold != 0 {
			bn.add("volume_threshold", intNode(b.VolumeThreshold))
		}
		opts.add("breaker", bn.node)
	}
	opts.addString("when", string(e.When))
	if len(e.Flows) > 0 {
		opts.add("flows", list(e.Flows))
	}
	if len(opts.node.Content) == 0 {
		return str(e.To)
	}
	entry := mapping(false)
	entry.add(e.To, opts.node)
	return entry.node
}

func flow(f *model.Flow) *yaml.Node {
	v := mapping(f.Probe == nil)
	v.add("criticality", str(f.Criticality.String()))
	v.addString("description", f.Description)
	v.add("steps", list(f.Steps))
	if f.Probe != nil {
		v.add("probe", probe(f.Probe))
	}
	return v.node
}

func probe(p *model.Probe) *yaml.Node {
	pn := mapping(true)
	pn.addString("http", p.HTTP)
	pn.addString("tcp", p.TCP)
	pn.addString("command", p.Command)
	pn.addString("method", p.Method)
	if p.ExpectStatus != 0 {
		pn.add("expect_status", intNode(p.ExpectStatus))
	}
	pn.addString("body_contains", p.BodyContains)
	if dw := p.DegradedWhen; dw != nil {
		dn := mapping(true)
		dn.addString("header", dw.Header)
		dn.addString("value", dw.Value)
		dn.addString("body_contains", dw.BodyContains)
		pn.add("degraded_when", dn.node)
	}
	if p.MaxLatency != 0 {
		pn.add("max_latency", str(p.MaxLatency.String()))
	}
	if p.Interval != 0 {
		pn.add("interval", str(p.Interval.String()))
	}
	return pn.node
}

func chaosConfig(c *model.ChaosConfig) *yaml.Node {
	n := mapping(len(c.AbortProbes) == 0 && len(c.Schedules) == 0)
	n.addString("proxy_api", c.ProxyAPI)
	n.addString("state_dir", c.StateDir)
	if len(c.AbortProbes) > 0 {
		ps := mapping(false)
		for _, p := range c.AbortProbes {
			ps.add(p.Name, probe(p))
		}
		n.add("abort_probes", ps.node)
	}
	if len(c.Schedules) > 0 {
		ss := mapping(false)
		for _, sc := range c.Schedules {
			ss.add(sc.Name, model.ScheduleNode(sc))
		}
		n.add("schedules", ss.node)
	}
	return n.node
}

// binding writes a component's chaos binding, defaults resolved by the
// loader included: reading it back gives the same binding.
func binding(b *model.ChaosBinding) *yaml.Node {
	k := mapping(true)
	switch {
	case b.Proxy != nil:
		k.addString("name", b.Proxy.Name)
		k.addString("listen", b.Proxy.Listen)
		k.addString("upstream", b.Proxy.Upstream)
	case b.Process != nil:
		k.addString("pidfile", b.Process.PIDFile)
		k.addString("pid_cmd", b.Process.PIDCmd)
		k.addString("signal", string(b.Process.Signal))
		k.addString("restart", b.Process.Restart)
	case b.IPTables != nil:
		k.add("port", intNode(b.IPTables.Port))
		k.addString("netns", b.IPTables.Netns)
		k.addString("action", b.IPTables.Action)
	case b.Docker != nil:
		k.addString("container", b.Docker.Container)
		k.addString("action", b.Docker.Action)
		k.addString("network", b.Docker.Network)
	case b.Kubectl != nil:
		k.addString("selector", b.Kubectl.Selector)
		k.addString("namespace", b.Kubectl.Namespace)
		k.addString("action", b.Kubectl.Action)
	case b.Command != nil:
		k.addString("inject", b.Command.Inject)
		k.addString("restore", b.Command.Restore)
		k.addString("check", b.Command.Check)
	}
	n := mapping(true)
	n.add(b.Kind(), k.node)
	return n.node
}

// mappingNode builds a mapping in key order.
type mappingNode struct{ node *yaml.Node }

func mapping(flow bool) mappingNode {
	n := &yaml.Node{Kind: yaml.MappingNode}
	if flow {
		n.Style = yaml.FlowStyle
	}
	return mappingNode{n}
}

func (m mappingNode) add(key string, value *yaml.Node) {
	m.node.Content = append(m.node.Content, str(key), value)
}

// addString adds key: value unless value is empty.
func (m mappingNode) addString(key, value string) {
	if value != "" {
		m.add(key, str(value))
	}
}

// str is a string scalar; the encoder quotes it when it would otherwise
// read as another type.
// addFraction writes a fraction, when set, as the model writes it: "99.95%".
func (m mappingNode) addFraction(key string, f float64) {
	if f > 0 {
		m.add(key, str(model.FormatPercent(f)))
	}
}

func str(s string) *yaml.Node {
	n := &yaml.Node{}
	n.SetString(s)
	return n
}

func intNode(i int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(i)}
}

func list(items []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle, Content: make([]*yaml.Node, len(items))}
	for i, s := range items {
		n.Content[i] = str(s)
	}
	return n
}
