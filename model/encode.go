package model

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// MarshalOptions steer Marshal.
type MarshalOptions struct {
	// Dir is the directory the file is written to. Source positions (the
	// files an import read) are written relative to it, so that the model
	// keeps pointing at them from where it lies.
	Dir string
	// Header is a comment written above the document, one line per line.
	Header string
}

// Marshal writes m as a spof.yaml document that Parse reads back to the
// same model: keys in the order docs/model.md lists them, defaults left
// out, and a source: key on every component, dependency, flow, zone,
// person and hazard that has a Source (an imported fact).
func Marshal(m *Model, opts MarshalOptions) ([]byte, error) {
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{ModelNode(m, opts.Dir)}}
	if opts.Header != "" {
		doc.HeadComment = opts.Header
	}
	return EncodeYAML(doc)
}

// EncodeYAML writes a YAML node tree with two-space indentation.
func EncodeYAML(n *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("writing YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("writing YAML: %w", err)
	}
	return buf.Bytes(), nil
}

// ModelNode is the mapping node of a whole model; see Marshal.
func ModelNode(m *Model, dir string) *yaml.Node {
	n := mapping()
	add(n, "version", intNode(max(m.Version, 1)))
	add(n, "system", str(m.System))
	addStr(n, "description", m.Description)
	addStr(n, "environment", m.Environment)
	if len(m.Zones) > 0 {
		zones := mapping()
		for _, z := range m.Zones {
			add(zones, z.Name, ZoneNode(z, dir))
		}
		add(n, "zones", zones)
	}
	if len(m.DeclaredRegions) > 0 {
		regions := mapping()
		for _, r := range m.DeclaredRegions {
			add(regions, r.Name, settingsNode(r.Description, r.Availability))
		}
		add(n, "regions", regions)
	}
	if len(m.DeclaredProviders) > 0 {
		providers := mapping()
		for _, p := range m.DeclaredProviders {
			add(providers, p.Name, settingsNode(p.Description, p.Availability))
		}
		add(n, "providers", providers)
	}
	comps := mapping()
	for _, c := range m.Components {
		add(comps, c.Name, ComponentNode(c, dir))
	}
	add(n, "components", comps)
	if len(m.Flows) > 0 {
		flows := mapping()
		for _, f := range m.Flows {
			add(flows, f.Name, FlowNode(f, dir))
		}
		add(n, "flows", flows)
	}
	if len(m.People) > 0 {
		people := mapping()
		for _, p := range m.People {
			add(people, p.Name, PersonNode(p, dir))
		}
		add(n, "people", people)
	}
	if len(m.Hazards) > 0 {
		hazards := mapping()
		for _, h := range m.Hazards {
			add(hazards, h.Name, HazardNode(h, dir))
		}
		add(n, "hazards", hazards)
	}
	if m.Chaos != nil {
		add(n, "chaos", chaosNode(m.Chaos))
	}
	return n
}

// ZoneNode is the value of a zone's key.
func ZoneNode(z *Zone, dir string) *yaml.Node {
	n := mapping()
	addStr(n, "region", z.Region)
	addFraction(n, "availability", z.Availability)
	addSource(n, z.Source, dir)
	if len(n.Content) == 0 {
		n.Style = yaml.FlowStyle // {}
	}
	return n
}

// ComponentNode is the value of a component's key.
func ComponentNode(c *Component, dir string) *yaml.Node {
	n := mapping()
	add(n, "kind", str(string(c.Kind)))
	addStr(n, "description", c.Description)
	if c.Replicas > 1 {
		add(n, "replicas", intNode(c.Replicas))
	}
	if c.MinHealthy > 1 {
		add(n, "min_healthy", intNode(c.MinHealthy))
	}
	if len(c.Zones) > 0 {
		add(n, "zones", flowList(c.Zones))
	}
	addStr(n, "provider", c.Provider)
	addFraction(n, "availability", c.Availability)
	if c.FailoverSet {
		add(n, "failover", str(string(c.Failover)))
	}
	if len(c.DependsOn) > 0 {
		deps := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range c.DependsOn {
			deps.Content = append(deps.Content, EdgeNode(e, dir))
		}
		add(n, "depends_on", deps)
	}
	if c.Chaos != nil {
		add(n, "chaos", bindingNode(c, c.Chaos))
	}
	addSource(n, c.Source, dir)
	return n
}

// EdgeNode is one entry of a depends_on list: the target's name alone
// when the edge has no options, else {target: options}.
func EdgeNode(e *Edge, dir string) *yaml.Node {
	opts := mapping()
	addStr(opts, "fallback_to", e.FallbackTo)
	addStr(opts, "fallback", e.Fallback)
	addStr(opts, "async_via", e.AsyncVia)
	if b := e.Breaker; b != nil {
		bn := mapping()
		addDuration(bn, "timeout", b.Timeout)
		if b.ErrorThreshold > 0 {
			add(bn, "error_threshold", intNode(b.ErrorThreshold))
		}
		addDuration(bn, "reset", b.Reset)
		if b.VolumeThreshold > 0 {
			add(bn, "volume_threshold", intNode(b.VolumeThreshold))
		}
		bn.Style = yaml.FlowStyle
		add(opts, "breaker", bn)
	}
	addStr(opts, "when", string(e.When))
	if len(e.Flows) > 0 {
		add(opts, "flows", flowList(e.Flows))
	}
	addSource(opts, e.Source, dir)
	if len(opts.Content) == 0 {
		return str(e.To)
	}
	if len(opts.Content) <= 4 {
		opts.Style = yaml.FlowStyle
	}
	n := mapping()
	add(n, e.To, opts)
	return n
}

// FlowNode is the value of a flow's key.
func FlowNode(f *Flow, dir string) *yaml.Node {
	n := mapping()
	add(n, "criticality", str(f.Criticality.String()))
	addStr(n, "description", f.Description)
	add(n, "steps", flowList(f.Steps))
	if f.Probe != nil {
		add(n, "probe", probeNode(f.Probe))
	}
	addSource(n, f.Source, dir)
	return n
}

// PersonNode is the value of a person's key.
func PersonNode(p *Person, dir string) *yaml.Node {
	n := mapping()
	if len(p.Knows) > 0 {
		add(n, "knows", flowList(p.Knows))
	}
	if len(p.Holds) > 0 {
		add(n, "holds", flowList(p.Holds))
	}
	addSource(n, p.Source, dir)
	return n
}

// HazardNode is the value of a hazard's key.
func HazardNode(h *Hazard, dir string) *yaml.Node {
	n := mapping()
	addStr(n, "description", h.Description)
	add(n, "breaks", flowList(h.Breaks))
	addStr(n, "fix", h.Fix)
	addFraction(n, "probability", h.Probability)
	addSource(n, h.Source, dir)
	return n
}

// settingsNode is the value of a region's or a provider's key.
func settingsNode(description string, availability float64) *yaml.Node {
	n := mapping()
	addStr(n, "description", description)
	addFraction(n, "availability", availability)
	if len(n.Content) == 0 {
		n.Style = yaml.FlowStyle // {}
	}
	return n
}

func probeNode(p *Probe) *yaml.Node {
	n := mapping()
	addStr(n, "http", p.HTTP)
	addStr(n, "tcp", p.TCP)
	addStr(n, "command", p.Command)
	addStr(n, "method", p.Method)
	if p.ExpectStatus != 0 {
		add(n, "expect_status", intNode(p.ExpectStatus))
	}
	addStr(n, "body_contains", p.BodyContains)
	addDuration(n, "max_latency", p.MaxLatency)
	if d := p.DegradedWhen; d != nil {
		dn := mapping()
		addStr(dn, "header", d.Header)
		addStr(dn, "value", d.Value)
		addStr(dn, "body_contains", d.BodyContains)
		add(n, "degraded_when", dn)
	}
	addDuration(n, "interval", p.Interval)
	return n
}

func chaosNode(c *ChaosConfig) *yaml.Node {
	n := mapping()
	addStr(n, "proxy_api", c.ProxyAPI)
	addStr(n, "state_dir", c.StateDir)
	if len(c.AbortProbes) > 0 {
		probes := mapping()
		for _, p := range c.AbortProbes {
			add(probes, p.Name, probeNode(p))
		}
		add(n, "abort_probes", probes)
	}
	if len(c.Schedules) > 0 {
		schedules := mapping()
		for _, sc := range c.Schedules {
			add(schedules, sc.Name, ScheduleNode(sc))
		}
		add(n, "schedules", schedules)
	}
	return n
}

// ScheduleNode is the value of a schedule's key.
func ScheduleNode(sc *Schedule) *yaml.Node {
	n := mapping()
	n.Style = yaml.FlowStyle
	add(n, "cron", str(sc.Cron))
	add(n, "experiments", flowList(sc.Experiments))
	addDuration(n, "duration", sc.Duration)
	return n
}

func bindingNode(c *Component, b *ChaosBinding) *yaml.Node {
	n := mapping()
	switch {
	case b.Proxy != nil:
		p := mapping()
		if b.Proxy.Name != c.Name {
			addStr(p, "name", b.Proxy.Name)
		}
		addStr(p, "listen", b.Proxy.Listen)
		addStr(p, "upstream", b.Proxy.Upstream)
		add(n, "proxy", p)
	case b.Process != nil:
		p := mapping()
		addStr(p, "pidfile", b.Process.PIDFile)
		addStr(p, "pid_cmd", b.Process.PIDCmd)
		if b.Process.Signal != SignalStop {
			addStr(p, "signal", string(b.Process.Signal))
		}
		addStr(p, "restart", b.Process.Restart)
		add(n, "process", p)
	case b.IPTables != nil:
		p := mapping()
		add(p, "port", intNode(b.IPTables.Port))
		addStr(p, "netns", b.IPTables.Netns)
		if b.IPTables.Action != IPTablesDrop {
			addStr(p, "action", b.IPTables.Action)
		}
		add(n, "iptables", p)
	case b.Docker != nil:
		p := mapping()
		addStr(p, "container", b.Docker.Container)
		if b.Docker.Action != DockerPause {
			addStr(p, "action", b.Docker.Action)
		}
		addStr(p, "network", b.Docker.Network)
		add(n, "docker", p)
	case b.Kubectl != nil:
		p := mapping()
		addStr(p, "selector", b.Kubectl.Selector)
		addStr(p, "namespace", b.Kubectl.Namespace)
		if b.Kubectl.Action != KubectlDelete {
			addStr(p, "action", b.Kubectl.Action)
		}
		add(n, "kubectl", p)
	case b.Command != nil:
		p := mapping()
		addStr(p, "inject", b.Command.Inject)
		addStr(p, "restore", b.Command.Restore)
		addStr(p, "check", b.Command.Check)
		add(n, "command", p)
	}
	return n
}

// FormatSource writes a source position as the source: key holds it,
// "file:line" (":col" when known), the file relative to dir.
func FormatSource(p Pos, dir string) string {
	file := p.File
	if dir != "" && !filepath.IsAbs(file) {
		if abs, err := filepath.Abs(file); err == nil {
			file = abs
		}
	}
	if dir != "" && filepath.IsAbs(file) {
		absDir, err := filepath.Abs(dir)
		if rel, err2 := filepath.Rel(absDir, file); err == nil && err2 == nil {
			file = rel
		}
	}
	file = filepath.ToSlash(file)
	switch {
	case p.Line > 0 && p.Col > 0:
		return fmt.Sprintf("%s:%d:%d", file, p.Line, p.Col)
	case p.Line > 0:
		return fmt.Sprintf("%s:%d", file, p.Line)
	}
	return file
}

// ParseSource reads a source: value ("file", "file:line" or
// "file:line:col"), the file relative to dir (the model's directory).
func ParseSource(s, dir string) Pos {
	file, nums := s, []int{}
	for range 2 {
		i := strings.LastIndexByte(file, ':')
		if i < 0 {
			break
		}
		n, err := strconv.Atoi(file[i+1:])
		if err != nil || n < 1 {
			break
		}
		nums = append([]int{n}, nums...)
		file = file[:i]
	}
	if dir != "" && !filepath.IsAbs(file) {
		file = filepath.Join(dir, filepath.FromSlash(file))
	}
	p := Pos{File: file}
	if len(nums) > 0 {
		p.Line = nums[0]
	}
	if len(nums) > 1 {
		p.Col = nums[1]
	}
	return p
}

func addSource(n *yaml.Node, p Pos, dir string) {
	if p.File != "" {
		add(n, "source", str(FormatSource(p, dir)))
	}
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

func add(n *yaml.Node, key string, v *yaml.Node) {
	n.Content = append(n.Content, str(key), v)
}

func addStr(n *yaml.Node, key, v string) {
	if v != "" {
		add(n, key, str(v))
	}
}

// addFraction writes a fraction as a percentage, "99.95%", when it is set.
func addFraction(n *yaml.Node, key string, f float64) {
	if f > 0 {
		add(n, key, str(FormatPercent(f)))
	}
}

// FormatPercent writes a fraction as a percentage with up to 12
// significant digits: 0.9995 is "99.95%".
func FormatPercent(f float64) string {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f*100, 'g', 12, 64), 64)
	return strconv.FormatFloat(r, 'f', -1, 64) + "%"
}

func addDuration(n *yaml.Node, key string, d time.Duration) {
	if d > 0 {
		add(n, key, str(d.String()))
	}
}

// str is a string scalar, quoted by the encoder when it would otherwise
// read as something else ("yes", "1.0", "null").
func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func intNode(i int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(i)}
}

func flowList(items []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, s := range items {
		n.Content = append(n.Content, str(s))
	}
	return n
}
