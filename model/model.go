// Package model holds the types of a spof model (spof.yaml), its strict
// loader with source positions, its validation and its JSON Schema.
//
// The model is a value: Parse takes bytes and returns a *Model or an
// ErrorList; nothing here does I/O. Semantics (what fails, what depends on
// what) are documented in docs/model.md and implemented by package analysis.
package model

import (
	"fmt"
	"time"
)

// Pos is a position in a model source file. Line and Col count from 1; a zero
// Pos means "unknown".
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

// String formats p as file:line:col, leaving out what is unknown.
func (p Pos) String() string {
	switch {
	case p.Line == 0 && p.File == "":
		return "-"
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	default:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
}

// Model is a whole system: its failure domains, components, the flows users
// care about, the people who operate it and the common-cause hazards.
//
// Collections keep declaration order, which is the order reports use when
// nothing else ranks them. A Model may be built in Go as well as by Parse:
// the lookups by name (Component, Flow, ...) work on either, in O(1) on a
// model from Parse, by a scan on one built or changed by hand.
type Model struct {
	File        string // source file name, as given to Parse
	Version     int
	System      string
	Description string
	Environment string // e.g. "staging"; checked by chaos guards

	Zones      []*Zone
	Components []*Component
	// DeclaredRegions and DeclaredProviders hold the settings of the
	// regions and providers the model's regions: and providers: keys
	// name (Regions and Providers list every one in use).
	DeclaredRegions   []*Region
	DeclaredProviders []*Provider
	Flows             []*Flow
	People            []*Person
	Hazards           []*Hazard
	Chaos             *ChaosConfig // nil when the model has no chaos: block

	Pos Pos // position of the document (line 1)

	index *index // built by Parse; nil on a model built by hand
}

// index maps names to positions in the model's slices. Lookups check what
// they find against the slice, so a model changed after Parse still
// answers right (by a scan).
type index struct {
	zones, components, flows, people, hazards map[string]int
}

// Zone is a failure domain. Regions are derived from zones.
type Zone struct {
	Name   string
	Region string // may be empty: the zone belongs to no declared region
	// Availability is the fraction of the time the zone is up, in (0, 1];
	// 0 when the model does not say (spof availability then assumes a
	// default).
	Availability float64
	Pos          Pos
	// Source is where an importer found this fact (the source: key);
	// zero for what was written by hand. Reports point there.
	Source Pos
}

// Region holds the settings of a region (the regions: key). A region
// exists through the zones that name it.
type Region struct {
	Name         string
	Description  string
	Availability float64 // in (0, 1]; 0 when not set
	Pos          Pos
}

// Provider holds the settings of a provider (the providers: key). A
// provider exists through the components that name it.
type Provider struct {
	Name         string
	Description  string
	Availability float64 // in (0, 1]; 0 when not set
	Pos          Pos
}

// Kind is what a component is. It decides defaults (failover) and fixes.
type Kind string

// Component kinds.
const (
	KindService      Kind = "service"
	KindLoadBalancer Kind = "loadbalancer"
	KindDatabase     Kind = "database"
	KindCache        Kind = "cache"
	KindQueue        Kind = "queue"
	KindStorage      Kind = "storage"
	KindExternal     Kind = "external"
	KindDNS          Kind = "dns"
	KindCDN          Kind = "cdn"
	KindCertificate  Kind = "certificate"
	KindCI           Kind = "ci"
	KindMonitoring   Kind = "monitoring"
	KindConfig       Kind = "config"
	KindSecrets      Kind = "secrets"
	KindOther        Kind = "other"
)

// Kinds lists every valid Kind in documentation order.
var Kinds = []Kind{KindService, KindLoadBalancer, KindDatabase, KindCache, KindQueue,
	KindStorage, KindExternal, KindDNS, KindCDN, KindCertificate, KindCI, KindMonitoring,
	KindConfig, KindSecrets, KindOther}

// Stateful reports whether the kind keeps state that a replica must take over
// (database, cache, queue, storage). Stateful components need their primary
// unless failover is automatic.
func (k Kind) Stateful() bool {
	switch k {
	case KindDatabase, KindCache, KindQueue, KindStorage:
		return true
	}
	return false
}

// Failover says how a replicated component replaces a failed primary.
type Failover string

// Failover modes.
const (
	FailoverAutomatic Failover = "automatic"
	FailoverManual    Failover = "manual"
	FailoverNone      Failover = "none"
)

// Failovers lists every valid Failover.
var Failovers = []Failover{FailoverAutomatic, FailoverManual, FailoverNone}

// DefaultFailover is automatic for stateless kinds and none for stateful ones.
func DefaultFailover(k Kind) Failover {
	if k.Stateful() {
		return FailoverNone
	}
	return FailoverAutomatic
}

// Component is a box on the architecture diagram (or one that should be):
// a service, a datastore, an external API, the CI pipeline, a certificate.
type Component struct {
	Name        string
	Kind        Kind
	Description string
	Replicas    int      // ≥ 1; defaults to 1
	MinHealthy  int      // ≥ 1 and ≤ Replicas; defaults to 1
	Zones       []string // replicas are placed round-robin over these
	Provider    string   // every replica fails with this provider
	// Availability is the fraction of the time one replica is up on its
	// own, in (0, 1]; 0 when the model does not say.
	Availability float64
	Failover     Failover // resolved: the default applies when not set
	FailoverSet  bool     // whether the model set failover explicitly
	DependsOn    []*Edge
	Chaos        *ChaosBinding // how experiments make it fail; nil when unbound

	Pos         Pos // the component's key
	ProviderPos Pos // the provider value, when set
	// Source is where an importer found this fact (the source: key);
	// zero for what was written by hand. Reports point there.
	Source Pos
}

// At is where reports point for the component: its source when it was
// imported, else its declaration.
func (c *Component) At() Pos {
	if c.Source.File != "" {
		return c.Source
	}
	return c.Pos
}

// NeedsPrimary reports whether the component is down when replica 0 is down:
// a stateful component without automatic failover.
func (c *Component) NeedsPrimary() bool {
	return c.Kind.Stateful() && c.Failover != FailoverAutomatic
}

// ReplicaZone returns the zone replica i is placed in (round-robin over
// Zones), or "" when the component names no zones.
func (c *Component) ReplicaZone(i int) string {
	if len(c.Zones) == 0 {
		return ""
	}
	return c.Zones[i%len(c.Zones)]
}

// When says at which time a dependency is needed. The zero value means
// "while running"; the others are needed only to start, deploy or recover.
type When string

// Phases of a dependency.
const (
	WhenRunning  When = ""
	WhenStartup  When = "startup"
	WhenDeploy   When = "deploy"
	WhenRecovery When = "recovery"
)

// Whens lists the valid values of an edge's when: key.
var Whens = []When{WhenStartup, WhenDeploy, WhenRecovery}

// Edge is one entry of a component's depends_on list: From needs To.
type Edge struct {
	From       string
	To         string
	FallbackTo string   // From needs To OR FallbackTo (degraded on FallbackTo)
	Fallback   string   // what From does without To; alone: To down ⇒ From degraded
	AsyncVia   string   // From needs AsyncVia, not To; To down ⇒ degraded (backlog)
	Breaker    *Breaker // a circuit breaker guards the call
	When       When     // WhenRunning unless only needed to start, deploy or recover
	Flows      []string // scope: the edge applies only to these flows (all when empty)

	Pos Pos // the list entry
	// Source is where an importer found this fact (the source: key);
	// zero for what was written by hand. Reports point there.
	Source Pos
}

// Running reports whether the edge is needed while the system runs.
func (e *Edge) Running() bool { return e.When == WhenRunning }

// AppliesTo reports whether the edge is in force for the named flow.
func (e *Edge) AppliesTo(flow string) bool {
	if len(e.Flows) == 0 {
		return true
	}
	for _, f := range e.Flows {
		if f == flow {
			return true
		}
	}
	return false
}

// Degrades reports whether losing To leaves From degraded rather than down,
// given that the fallback target (if any) is up.
func (e *Edge) Degrades() bool {
	return e.FallbackTo != "" || e.Fallback != "" || e.AsyncVia != ""
}

// Breaker records the circuit breaker guarding a call.
type Breaker struct {
	Timeout         time.Duration
	ErrorThreshold  int // percent
	Reset           time.Duration
	VolumeThreshold int
}

// Criticality ranks flows, and findings by the flows they hit.
type Criticality int

// Criticalities, lowest first so that comparisons read naturally.
const (
	CriticalityNone Criticality = iota
	Low
	Medium
	High
	Critical
)

// Criticalities lists the valid criticalities, most critical first.
var Criticalities = []Criticality{Critical, High, Medium, Low}

func (c Criticality) String() string {
	switch c {
	case Low:
		return "low"
	case Medium:
		return "medium"
	case High:
		return "high"
	case Critical:
		return "critical"
	}
	return "none"
}

// ParseCriticality parses "critical", "high", "medium", "low" (and "none",
// which the CLI's --fail-on accepts).
func ParseCriticality(s string) (Criticality, bool) {
	switch s {
	case "critical":
		return Critical, true
	case "high":
		return High, true
	case "medium":
		return Medium, true
	case "low":
		return Low, true
	case "none":
		return CriticalityNone, true
	}
	return CriticalityNone, false
}

// MarshalText encodes c as its name.
func (c Criticality) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText decodes a criticality name.
func (c *Criticality) UnmarshalText(b []byte) error {
	v, ok := ParseCriticality(string(b))
	if !ok {
		return fmt.Errorf("unknown criticality %q", b)
	}
	*c = v
	return nil
}

// Flow is something users do (checkout, login) that must keep working.
type Flow struct {
	Name        string
	Criticality Criticality
	Description string
	Steps       []string // components the flow passes through, outermost first
	Probe       *Probe   // how to observe the flow live (chaos experiments)

	Pos      Pos
	StepsPos []Pos // position of each step
	// Source is where an importer found this fact (the source: key);
	// zero for what was written by hand. Reports point there.
	Source Pos
}

// Probe is a live check: of a flow (Flow.Probe) or of the whole system
// while an experiment runs (ChaosConfig.AbortProbes). Exactly one of HTTP,
// TCP and Command is set. Fields hold what the model says, zero when it says
// nothing; the methods apply the defaults.
type Probe struct {
	Name    string // abort probes: their name; empty for a flow's probe
	HTTP    string // an http or https URL
	TCP     string // host:port; the probe passes when a connection opens
	Command string // a shell command; the probe passes when it exits 0

	// HTTP probes only.
	Method       string        // "" means GET
	ExpectStatus int           // 0 means 200
	BodyContains string        // a healthy body contains it
	DegradedWhen *DegradedWhen // how a degraded answer looks

	MaxLatency time.Duration // slower samples fail; 0: no limit
	Interval   time.Duration // between samples; 0 means DefaultProbeInterval

	Pos Pos
}

// Probe defaults.
const (
	DefaultProbeMethod   = "GET"
	DefaultExpectStatus  = 200
	DefaultProbeInterval = time.Second
)

// MethodOrDefault returns the HTTP method the probe uses.
func (p *Probe) MethodOrDefault() string {
	if p.Method == "" {
		return DefaultProbeMethod
	}
	return p.Method
}

// ExpectStatusOrDefault returns the HTTP status of a healthy answer.
func (p *Probe) ExpectStatusOrDefault() int {
	if p.ExpectStatus == 0 {
		return DefaultExpectStatus
	}
	return p.ExpectStatus
}

// IntervalOrDefault returns the time between two samples of the probe.
func (p *Probe) IntervalOrDefault() time.Duration {
	if p.Interval == 0 {
		return DefaultProbeInterval
	}
	return p.Interval
}

// DegradedWhen tells an http probe how a degraded answer looks. At least
// one of Header and BodyContains is set; an answer that matches either is
// degraded.
type DegradedWhen struct {
	Header       string // a response header that is present when degraded
	Value        string // and, when set, has this value
	BodyContains string // or a substring of the body
}

// ChaosConfig is the model's top-level chaos: block. Fields hold what the
// model says; the methods apply the defaults, and are safe on a nil
// *ChaosConfig (a model without the block).
type ChaosConfig struct {
	ProxyAPI    string   // the fault proxy's API; "" means DefaultProxyAPI
	StateDir    string   // the journal's directory as written; "" means DefaultStateDir
	AbortProbes []*Probe // each with its Name; one failing aborts an experiment
	// Schedules are the recurring experiments spof serve runs, by name.
	Schedules []*Schedule

	Pos Pos // the chaos key
}

// Schedule is a set of experiments spof serve runs on a cron schedule.
type Schedule struct {
	Name string
	// Cron is a standard five-field cron expression (minute hour
	// day-of-month month day-of-week) or a descriptor such as @daily, in
	// UTC.
	Cron        string
	Experiments []string      // names from spof chaos plan, run one after the other
	Duration    time.Duration // how long each fault stays; 0: spof chaos run's default
	Pos         Pos
}

// Chaos defaults.
const (
	DefaultProxyAPI = "http://127.0.0.1:8474"
	// DefaultStateDir is relative to the directory of the model file, as is
	// a relative state_dir; the model does no I/O, so the chaos command
	// resolves it.
	DefaultStateDir = ".spof"
)

// ProxyAPIOrDefault returns the base URL of the fault proxy's API.
func (c *ChaosConfig) ProxyAPIOrDefault() string {
	if c == nil || c.ProxyAPI == "" {
		return DefaultProxyAPI
	}
	return c.ProxyAPI
}

// StateDirOrDefault returns the journal's directory as written in the
// model, or DefaultStateDir; a relative path is relative to the model file.
func (c *ChaosConfig) StateDirOrDefault() string {
	if c == nil || c.StateDir == "" {
		return DefaultStateDir
	}
	return c.StateDir
}

// ChaosBinding says how chaos experiments make a component fail. Exactly
// one of its pointers is set.
type ChaosBinding struct {
	Proxy    *ProxyBinding
	Process  *ProcessBinding
	IPTables *IPTablesBinding
	Docker   *DockerBinding
	Kubectl  *KubectlBinding
	Command  *CommandBinding

	Pos Pos // the chaos key of the component
}

// Kind returns the binding's key in the model: "proxy", "process",
// "iptables", "docker", "kubectl" or "command".
func (b *ChaosBinding) Kind() string {
	switch {
	case b.Proxy != nil:
		return "proxy"
	case b.Process != nil:
		return "process"
	case b.IPTables != nil:
		return "iptables"
	case b.Docker != nil:
		return "docker"
	case b.Kubectl != nil:
		return "kubectl"
	case b.Command != nil:
		return "command"
	}
	return ""
}

// ProxyBinding: the application talks to the component through a proxy of
// spof's fault proxy, which listens on Listen and forwards to Upstream.
type ProxyBinding struct {
	Name     string // resolved: the component's name when the model names none
	Listen   string // host:port
	Upstream string // host:port

	ListenPos Pos // the listen value
}

// Signal is what a process binding sends to inject its fault.
type Signal string

// Signals a process binding may send.
const (
	SignalStop Signal = "STOP" // pauses; restored with CONT
	SignalTerm Signal = "TERM" // ends; restored by the restart command
	SignalKill Signal = "KILL" // ends at once; restored by the restart command
)

// Signals lists the valid signals, the default first.
var Signals = []Signal{SignalStop, SignalTerm, SignalKill}

// ProcessBinding: the component is a local process. Exactly one of PIDFile
// and PIDCmd finds it.
type ProcessBinding struct {
	PIDFile string
	PIDCmd  string // a shell command that prints the pid
	Signal  Signal // resolved: SignalStop when the model names none
	Restart string // a shell command; required for TERM and KILL
}

// Actions of the iptables, docker and kubectl bindings.
const (
	IPTablesDrop   = "drop"
	IPTablesReject = "reject"

	DockerPause      = "pause"
	DockerStop       = "stop"
	DockerDisconnect = "disconnect"

	KubectlDelete = "delete"
	KubectlScale  = "scale"
)

// IPTablesBinding: traffic to Port inside network namespace Netns is
// dropped or rejected.
type IPTablesBinding struct {
	Port   int
	Netns  string
	Action string // resolved: IPTablesDrop when the model names none
}

// DockerBinding: the component is a Docker container.
type DockerBinding struct {
	Container string
	Action    string // resolved: DockerPause when the model names none
	Network   string // the network to disconnect from (DockerDisconnect only)
}

// KubectlBinding: the component is the pods a label selector picks.
type KubectlBinding struct {
	Selector  string
	Namespace string // "" means kubectl's current namespace
	Action    string // resolved: KubectlDelete when the model names none
}

// CommandBinding: shell commands inject and restore the fault.
type CommandBinding struct {
	Inject  string
	Restore string // must be safe to run more than once
	Check   string // exits 0 while the fault is in place; optional
}

// Person operates the system: what they know how to run and what they hold.
type Person struct {
	Name  string
	Knows []string // components
	Holds []string // resources: credentials, accounts, keys (free names)

	Pos      Pos
	KnowsPos []Pos
	HoldsPos []Pos
	// Source is where an importer found this fact (the source: key);
	// zero for what was written by hand. Reports point there.
	Source Pos
}

// Hazard is a common-cause event: one thing that takes several components
// (or one, in a way replicas do not help) down at once.
type Hazard struct {
	Name        string
	Description string
	Breaks      []string // components that go down entirely
	Fix         string   // the mitigation, if the modeller knows it
	// Probability is the fraction of the time the hazard is in effect, in
	// (0, 1]; 0 when the model does not say.
	Probability float64

	Pos Pos
	// Source is where an importer found this fact (the source: key);
	// zero for what was written by hand. Reports point there.
	Source Pos
}

// Component returns the named component, or nil.
func (m *Model) Component(name string) *Component {
	return lookup(m.Components, m.index.get(func(ix *index) map[string]int { return ix.components }), name,
		func(c *Component) string { return c.Name })
}

// Flow returns the named flow, or nil.
func (m *Model) Flow(name string) *Flow {
	return lookup(m.Flows, m.index.get(func(ix *index) map[string]int { return ix.flows }), name,
		func(f *Flow) string { return f.Name })
}

// Zone returns the named zone, or nil.
func (m *Model) Zone(name string) *Zone {
	return lookup(m.Zones, m.index.get(func(ix *index) map[string]int { return ix.zones }), name,
		func(z *Zone) string { return z.Name })
}

// Hazard returns the named hazard, or nil.
func (m *Model) Hazard(name string) *Hazard {
	return lookup(m.Hazards, m.index.get(func(ix *index) map[string]int { return ix.hazards }), name,
		func(h *Hazard) string { return h.Name })
}

// Person returns the named person, or nil.
func (m *Model) Person(name string) *Person {
	return lookup(m.People, m.index.get(func(ix *index) map[string]int { return ix.people }), name,
		func(p *Person) string { return p.Name })
}

// get returns one map of the index, nil when there is no index.
func (ix *index) get(which func(*index) map[string]int) map[string]int {
	if ix == nil {
		return nil
	}
	return which(ix)
}

// lookup finds name in items: through ix when it points at an item of
// that name, else by a scan (a model built or changed by hand).
func lookup[T any](items []T, ix map[string]int, name string, nameOf func(T) string) T {
	if i, ok := ix[name]; ok && i < len(items) && nameOf(items[i]) == name {
		return items[i]
	}
	for _, it := range items {
		if nameOf(it) == name {
			return it
		}
	}
	var zero T
	return zero
}

// Region returns the settings of the named region, or nil when the model
// has none.
func (m *Model) Region(name string) *Region {
	for _, r := range m.DeclaredRegions {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Provider returns the settings of the named provider, or nil when the
// model has none.
func (m *Model) Provider(name string) *Provider {
	for _, p := range m.DeclaredProviders {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Regions returns the regions named by zones, in first-seen order.
func (m *Model) Regions() []string {
	var out []string
	seen := map[string]bool{}
	for _, z := range m.Zones {
		if z.Region != "" && !seen[z.Region] {
			seen[z.Region] = true
			out = append(out, z.Region)
		}
	}
	return out
}

// Providers returns the providers named by components, in first-seen order.
func (m *Model) Providers() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range m.Components {
		if c.Provider != "" && !seen[c.Provider] {
			seen[c.Provider] = true
			out = append(out, c.Provider)
		}
	}
	return out
}

// buildIndex computes the name → position maps that make lookups O(1).
// The loader calls it once the model is complete.
func (m *Model) buildIndex() {
	ix := &index{
		zones:      make(map[string]int, len(m.Zones)),
		components: make(map[string]int, len(m.Components)),
		flows:      make(map[string]int, len(m.Flows)),
		people:     make(map[string]int, len(m.People)),
		hazards:    make(map[string]int, len(m.Hazards)),
	}
	for i, z := range m.Zones {
		ix.zones[z.Name] = i
	}
	for i, c := range m.Components {
		ix.components[c.Name] = i
	}
	for i, f := range m.Flows {
		ix.flows[f.Name] = i
	}
	for i, p := range m.People {
		ix.people[p.Name] = i
	}
	for i, h := range m.Hazards {
		ix.hazards[h.Name] = i
	}
	m.index = ix
}
