package model

// This file is the single description of the spof.yaml format. The loader
// checks keys, types, enums, bounds and references against these tables, and
// Schema generates the JSON Schema from them, so the two cannot drift.

// valueType is the shape a key's value must have.
type valueType int

const (
	typeString    valueType = iota // a string
	typeInt                        // an integer in [min, max]
	typeEnum                       // a string from enum
	typeDuration                   // a Go duration string ("3s"), > 0
	typeURL                        // an http or https URL
	typeList                       // a list of strings
	typeObject                     // a mapping described by object
	typeMap                        // a mapping from names to mappings described by object
	typeDependsOn                  // a list of names or {name: options described by object}
	typeHostPort                   // "host:port" with a non-empty host and a port in 1..65535
	typeBool                       // true or false
	typeRefused                    // a key that is known but may not be set; desc says what to do instead
	typeFraction                   // a number in (0, 1] or a percentage string in (0%, 100%]: "99.95%"
)

// refKind says what a string names, when it must name something declared.
type refKind int

const (
	refNone refKind = iota
	refComponent
	refZone
	refFlow
	numRefKinds
)

// refNouns are used in "unknown component" messages.
var refNouns = [numRefKinds]string{"", "component", "zone", "flow"}

// field is one key of a mapping.
type field struct {
	key      string
	typ      valueType
	desc     string   // the schema description
	required bool     // the key must be present
	example  string   // YAML shown in the hint when a required key is missing
	enum     []string // typeEnum: the valid values
	min, max int      // typeInt: bounds; max 0 means unbounded
	name     bool     // strings, list items or map keys must be valid names
	ref      refKind  // strings or list items must name something declared
	noun     string   // what one list item or map entry is, in messages
	nonEmpty bool     // strings, lists and maps that need at least one character or entry
	requires string   // another key of the same mapping that must be set with this one
	listen   bool     // typeHostPort: an address to listen on (empty host: loopback; port 0: any)
	nullable bool     // typeObject, typeMap: null values stand for an empty mapping
	object   *object  // typeObject, typeMap, typeDependsOn
}

// object describes a mapping with a fixed set of keys.
type object struct {
	name   string // its name under $defs in the schema
	desc   string
	fields []field
	// choice lists keys of which exactly one (at least one, with
	// choiceMany) must be set; choiceExample is shown when none is.
	choice        []string
	choiceMany    bool
	choiceExample string
}

// lookup returns the index of key in o.fields, or -1.
func (o *object) lookup(key string) int {
	for i := range o.fields {
		if o.fields[i].key == key {
			return i
		}
	}
	return -1
}

// keys are the keys a mapping of o may have (refused ones are left out).
func (o *object) keys() []string {
	keys := make([]string, 0, len(o.fields))
	for _, f := range o.fields {
		if f.typ != typeRefused {
			keys = append(keys, f.key)
		}
	}
	return keys
}

// maxReplicas bounds replicas: analysis creates one basic event per replica.
const maxReplicas = 10000

func kindNames() []string {
	out := make([]string, len(Kinds))
	for i, k := range Kinds {
		out[i] = string(k)
	}
	return out
}

func failoverNames() []string {
	out := make([]string, len(Failovers))
	for i, f := range Failovers {
		out[i] = string(f)
	}
	return out
}

func whenNames() []string {
	out := make([]string, len(Whens))
	for i, w := range Whens {
		out[i] = string(w)
	}
	return out
}

func signalNames() []string {
	out := make([]string, len(Signals))
	for i, s := range Signals {
		out[i] = string(s)
	}
	return out
}

func criticalityNames() []string {
	out := make([]string, len(Criticalities))
	for i, c := range Criticalities {
		out[i] = c.String()
	}
	return out
}

var modelObject = &object{
	name: "model",
	desc: "A spof model: the failure domains, components and dependencies of a system, " +
		"the user flows that must keep working, the people who operate it and the " +
		"common-cause hazards.",
	fields: []field{
		{key: "version", typ: typeInt, min: 1, max: 1, required: true, example: "version: 1",
			desc: "Version of the model format. Must be 1."},
		{key: "system", typ: typeString, required: true, example: "system: shop",
			desc: "Name of the system the model describes; shown in reports."},
		{key: "description", typ: typeString,
			desc: "What the system does, for readers of the reports."},
		{key: "environment", typ: typeString,
			desc: "The environment the model describes, e.g. staging. Chaos experiments run only when --env matches it."},
		{key: "zones", typ: typeMap, object: zoneObject, nullable: true, name: true, noun: "zone",
			desc: "Failure domains (availability zones, data centres, racks) by name. A zone's failure takes down every replica placed in it."},
		{key: "regions", typ: typeMap, object: regionObject, name: true, noun: "region",
			desc: "Settings of the regions the zones name (a region exists through its zones): its availability for spof availability."},
		{key: "providers", typ: typeMap, object: providerObject, name: true, noun: "provider",
			desc: "Settings of the providers the components name: their availability for spof availability."},
		{key: "components", typ: typeMap, object: componentObject, required: true, nonEmpty: true,
			name: true, noun: "component", example: "components: {app: {kind: service}}",
			desc: "Everything that can fail, by name: services, datastores, external APIs, DNS, CI, certificates."},
		{key: "flows", typ: typeMap, object: flowObject, name: true, noun: "flow",
			desc: "What users do that must keep working (checkout, login), by name."},
		{key: "people", typ: typeMap, object: personObject, name: true, noun: "person",
			desc: "The people who operate the system, by name: what they know how to run and what they hold."},
		{key: "hazards", typ: typeMap, object: hazardObject, name: true, noun: "hazard",
			desc: "Common-cause events, by name: one thing that takes several components down at once."},
		{key: "chaos", typ: typeObject, object: chaosObject,
			desc: "Settings of chaos experiments: where the fault proxy's API is, where the journal lives, and the abort probes."},
	},
}

var zoneObject = &object{
	name: "zone",
	desc: "A failure domain. An empty value is allowed.",
	fields: []field{
		{key: "region", typ: typeString, name: true,
			desc: "The region the zone belongs to; a region's failure takes down all its zones."},
		{key: "description", typ: typeString,
			desc: "What the zone is."},
		{key: "availability", typ: typeFraction,
			desc: "Fraction of the time the zone is up, as 0.9995 or \"99.95%\" (default 99.95%, docs/model.md says why): the probability of the zone:Z event in spof availability."},
		{key: "source", typ: typeString, nonEmpty: true,
			desc: "Where spof import found this (file:line, relative to the model file); reports point there. Written by spof import; leave it out by hand."},
	},
}

var componentObject = &object{
	name: "component",
	desc: "Something that can fail.",
	fields: []field{
		{key: "kind", typ: typeEnum, enum: kindNames(), required: true, example: "kind: service",
			desc: "What the component is. database, cache, queue and storage are stateful: they need their primary unless failover is automatic."},
		{key: "description", typ: typeString,
			desc: "What the component does."},
		{key: "replicas", typ: typeInt, min: 1, max: maxReplicas,
			desc: "Number of replicas (default 1), placed round-robin over zones."},
		{key: "min_healthy", typ: typeInt, min: 1, max: maxReplicas,
			desc: "Replicas that must be up for the component to be up (default 1); at most replicas."},
		{key: "zones", typ: typeList, ref: refZone, noun: "zone",
			desc: "Declared zones the replicas are placed in, round-robin: replica i is in zones[i mod len(zones)]."},
		{key: "provider", typ: typeString, name: true,
			desc: "The provider every replica fails with (aws, stripe, route53)."},
		{key: "availability", typ: typeFraction,
			desc: "Fraction of the time one replica is up on its own (its zone, region and provider fail separately), as 0.995 or \"99.5%\". The default depends on the kind (docs/model.md lists the published SLAs behind each)."},
		{key: "failover", typ: typeEnum, enum: failoverNames(),
			desc: "How a failed primary is replaced. Default: automatic for stateless kinds, none for stateful kinds."},
		{key: "depends_on", typ: typeDependsOn, object: edgeObject, noun: "dependency",
			desc: "What the component needs. Each entry is a component name (a hard dependency) or a mapping with one key, the component name, whose value holds options."},
		{key: "chaos", typ: typeObject, object: bindingObject,
			desc: "How chaos experiments make the component fail: exactly one of proxy, process, iptables, docker, kubectl, command."},
		{key: "source", typ: typeString, nonEmpty: true,
			desc: "Where spof import found this (file:line, relative to the model file); reports point there. Written by spof import; leave it out by hand."},
	},
}

var edgeObject = &object{
	name: "dependency",
	desc: "Options of one dependency. Without options, a dependency is hard: the target down means the dependent down.",
	fields: []field{
		{key: "fallback_to", typ: typeString, ref: refComponent,
			desc: "A component used when the target is down; the dependent is then degraded, not down."},
		{key: "fallback", typ: typeString,
			desc: "What the dependent does without the target (fail open, cached answer). Alone, it makes the target's loss a degradation."},
		{key: "async_via", typ: typeString, ref: refComponent,
			desc: "The queue the calls go through: the dependent needs the queue, not the target; the target down means a backlog (degraded)."},
		{key: "breaker", typ: typeObject, object: breakerObject,
			desc: "The circuit breaker guarding the call."},
		{key: "when", typ: typeEnum, enum: whenNames(),
			desc: "The dependency is needed only at this time, not while running; its loss is a recovery SPOF."},
		{key: "flows", typ: typeList, ref: refFlow, noun: "flow", nonEmpty: true,
			desc: "The flows the dependency applies to (default: all)."},
		{key: "source", typ: typeString, nonEmpty: true,
			desc: "Where spof import found this (file:line, relative to the model file); reports point there. Written by spof import; leave it out by hand."},
	},
}

var breakerObject = &object{
	name: "breaker",
	desc: "A circuit breaker guarding a call.",
	fields: []field{
		{key: "timeout", typ: typeDuration,
			desc: "How long a call may take before it counts as failed, e.g. 3s."},
		{key: "error_threshold", typ: typeInt, min: 1, max: 100,
			desc: "Percentage of failed calls that opens the breaker."},
		{key: "reset", typ: typeDuration,
			desc: "How long the breaker stays open before trying again, e.g. 30s."},
		{key: "volume_threshold", typ: typeInt, min: 0,
			desc: "Minimum number of calls in the window before the breaker may open."},
	},
}

var flowObject = &object{
	name: "flow",
	desc: "Something users do that must keep working.",
	fields: []field{
		{key: "criticality", typ: typeEnum, enum: criticalityNames(), required: true, example: "criticality: critical",
			desc: "How bad it is when the flow stops; ranks the findings."},
		{key: "description", typ: typeString,
			desc: "What the flow is."},
		{key: "steps", typ: typeList, ref: refComponent, noun: "step", required: true, nonEmpty: true, example: "steps: [lb, app]",
			desc: "The components a request passes through, outermost first. Their dependencies are followed."},
		{key: "probe", typ: typeObject, object: probeObject,
			desc: "How to observe the flow live, for chaos experiments."},
		{key: "source", typ: typeString, nonEmpty: true,
			desc: "Where spof import found this (file:line, relative to the model file); reports point there. Written by spof import; leave it out by hand."},
	},
}

var probeObject = &object{
	name: "probe",
	desc: "A live check of a flow: exactly one of http, tcp, command.",
	fields: []field{
		{key: "http", typ: typeURL,
			desc: "The http or https URL to request."},
		{key: "tcp", typ: typeHostPort,
			desc: "A host:port to connect to; the probe passes when the connection opens."},
		{key: "command", typ: typeString, nonEmpty: true,
			desc: "A shell command; the probe passes when it exits 0."},
		{key: "method", typ: typeEnum, enum: httpMethods, requires: "http",
			desc: "The HTTP method (default GET)."},
		{key: "expect_status", typ: typeInt, min: 100, max: 599, requires: "http",
			desc: "The HTTP status code of a healthy answer (default 200)."},
		{key: "body_contains", typ: typeString, nonEmpty: true, requires: "http",
			desc: "A substring the body of a healthy answer contains."},
		{key: "max_latency", typ: typeDuration,
			desc: "The probe fails when it takes longer than this, e.g. 500ms (default: no limit)."},
		{key: "degraded_when", typ: typeObject, object: degradedWhenObject, requires: "http",
			desc: "How a degraded (but successful) answer looks."},
		{key: "interval", typ: typeDuration,
			desc: "How often the probe is sampled during an experiment (default 1s)."},
	},
	choice:        []string{"http", "tcp", "command"},
	choiceExample: `http: "http://127.0.0.1:8080/health"`,
}

// httpMethods are the methods an http probe may use.
var httpMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

var degradedWhenObject = &object{
	name: "degraded_when",
	desc: "How a probe recognises a degraded answer: a header, a body substring, or either.",
	fields: []field{
		{key: "header", typ: typeString, nonEmpty: true,
			desc: "A response header present only when the answer is degraded."},
		{key: "value", typ: typeString, requires: "header",
			desc: "The value the header has when the answer is degraded (default: any value)."},
		{key: "body_contains", typ: typeString, nonEmpty: true,
			desc: "A substring of the body present only when the answer is degraded."},
	},
	choice:        []string{"header", "body_contains"},
	choiceMany:    true,
	choiceExample: "header: X-Degraded",
}

var chaosObject = &object{
	name: "chaos",
	desc: "Settings of chaos experiments.",
	fields: []field{
		{key: "proxy_api", typ: typeURL,
			desc: "The base URL of the fault proxy's API (default " + DefaultProxyAPI + ")."},
		{key: "state_dir", typ: typeString, nonEmpty: true,
			desc: "The directory of the experiment journal; a relative path is relative to the model file (default " + DefaultStateDir + ")."},
		{key: "abort_probes", typ: typeMap, object: probeObject, name: true, noun: "abort probe",
			desc: "Probes checked throughout an experiment, by name; one failing aborts it and removes the fault."},
		{key: "schedules", typ: typeMap, object: scheduleObject, name: true, noun: "schedule",
			desc: "Recurring experiments that spof serve runs, by name: one replica at a time."},
	},
}

var scheduleObject = &object{
	name: "schedule",
	desc: "Experiments that spof serve runs on a cron schedule.",
	fields: []field{
		{key: "cron", typ: typeString, required: true, nonEmpty: true, example: `cron: "0 3 * * 1-5"`,
			desc: "When, in UTC: five cron fields (minute hour day-of-month month day-of-week), or @hourly, @daily, @weekly, @monthly, @every 6h."},
		{key: "experiments", typ: typeList, name: true, noun: "experiment", required: true, nonEmpty: true,
			example: "experiments: [session-redis-down]",
			desc:    "The experiments to run, one after the other, by the names spof chaos plan gives them."},
		{key: "duration", typ: typeDuration,
			desc: "How long each fault stays (default: spof chaos run's --duration default)."},
	},
}

var bindingObject = &object{
	name: "chaos_binding",
	desc: "How chaos experiments make a component fail: exactly one of the keys.",
	fields: []field{
		{key: "proxy", typ: typeObject, object: proxyBindingObject,
			desc: "The application reaches the component through spof's fault proxy."},
		{key: "process", typ: typeObject, object: processBindingObject,
			desc: "The component is a local process, paused or killed by a signal."},
		{key: "iptables", typ: typeObject, object: iptablesBindingObject,
			desc: "Traffic to a port is dropped or rejected by iptables inside a network namespace."},
		{key: "docker", typ: typeObject, object: dockerBindingObject,
			desc: "The component is a Docker container, paused, stopped or disconnected from a network."},
		{key: "kubectl", typ: typeObject, object: kubectlBindingObject,
			desc: "The component is a set of Kubernetes pods, deleted or scaled to zero with kubectl."},
		{key: "command", typ: typeObject, object: commandBindingObject,
			desc: "Shell commands that inject and restore the fault."},
	},
	choice:        []string{"proxy", "process", "iptables", "docker", "kubectl", "command"},
	choiceExample: "proxy: {listen: 127.0.0.1:16379, upstream: 127.0.0.1:6379}",
}

var proxyBindingObject = &object{
	name: "proxy_binding",
	desc: "A proxy of spof's fault proxy that the application talks to instead of the component.",
	fields: []field{
		{key: "name", typ: typeString, name: true,
			desc: "The proxy's name in the proxy API (default: the component's name)."},
		{key: "listen", typ: typeHostPort, required: true, example: "listen: 127.0.0.1:16379",
			desc: "The host:port the proxy listens on, which the application connects to."},
		{key: "upstream", typ: typeHostPort, required: true, example: "upstream: 127.0.0.1:6379",
			desc: "The host:port of the component itself."},
	},
}

var processBindingObject = &object{
	name: "process_binding",
	desc: "A local process: exactly one of pidfile, pid_cmd finds it.",
	fields: []field{
		{key: "pidfile", typ: typeString, nonEmpty: true,
			desc: "A file holding the process id."},
		{key: "pid_cmd", typ: typeString, nonEmpty: true,
			desc: "A shell command that prints the process id."},
		{key: "signal", typ: typeEnum, enum: signalNames(),
			desc: "STOP pauses the process (restored with CONT); TERM and KILL end it and need restart (default STOP)."},
		{key: "restart", typ: typeString, nonEmpty: true,
			desc: "A shell command that starts the process again after TERM or KILL."},
	},
	choice:        []string{"pidfile", "pid_cmd"},
	choiceExample: "pidfile: /run/redis.pid",
}

var iptablesBindingObject = &object{
	name: "iptables_binding",
	desc: "An iptables rule on a port inside a network namespace.",
	fields: []field{
		{key: "port", typ: typeInt, min: 1, max: 65535, required: true, example: "port: 6379",
			desc: "The TCP port whose traffic is dropped or rejected."},
		{key: "netns", typ: typeString, nonEmpty: true, required: true, example: "netns: shop",
			desc: "The network namespace (ip netns) the rule is added in."},
		{key: "action", typ: typeEnum, enum: []string{IPTablesDrop, IPTablesReject},
			desc: "drop (connections hang) or reject (connections are refused) (default drop)."},
	},
}

var dockerBindingObject = &object{
	name: "docker_binding",
	desc: "A Docker container, reached through the Docker Engine API.",
	fields: []field{
		{key: "container", typ: typeString, nonEmpty: true, required: true, example: "container: shop-redis",
			desc: "The container's name or id."},
		{key: "action", typ: typeEnum, enum: []string{DockerPause, DockerStop, DockerDisconnect},
			desc: "pause/unpause, stop/start, or disconnect from network and reconnect (default pause)."},
		{key: "network", typ: typeString, nonEmpty: true,
			desc: "The network to disconnect the container from; required with action: disconnect."},
	},
}

var kubectlBindingObject = &object{
	name: "kubectl_binding",
	desc: "Kubernetes pods, through the kubectl binary.",
	fields: []field{
		{key: "selector", typ: typeString, nonEmpty: true, required: true, example: "selector: app=redis",
			desc: "The label selector of the pods, e.g. app=redis."},
		{key: "namespace", typ: typeString, nonEmpty: true,
			desc: "The namespace (default: kubectl's current one)."},
		{key: "action", typ: typeEnum, enum: []string{KubectlDelete, KubectlScale},
			desc: "delete the pods, or scale their workload to zero and back (default delete)."},
	},
}

var commandBindingObject = &object{
	name: "command_binding",
	desc: "Shell commands that inject and remove the fault.",
	fields: []field{
		{key: "inject", typ: typeString, nonEmpty: true, required: true, example: `inject: "systemctl stop redis"`,
			desc: "The command that injects the fault."},
		{key: "restore", typ: typeString, nonEmpty: true, required: true, example: `restore: "systemctl start redis"`,
			desc: "The command that removes the fault; it must be safe to run twice."},
		{key: "check", typ: typeString, nonEmpty: true,
			desc: "A command that exits 0 when the fault is in place, to verify injection and restore."},
	},
}

var personObject = &object{
	name: "person",
	desc: "Someone who operates the system.",
	fields: []field{
		{key: "knows", typ: typeList, ref: refComponent, noun: "component",
			desc: "Components this person knows how to operate and recover (runbooks, manual failover)."},
		{key: "holds", typ: typeList, noun: "resource",
			desc: "Credentials, accounts and keys this person holds (free names, not components)."},
		{key: "source", typ: typeString, nonEmpty: true,
			desc: "Where spof import found this (file:line, relative to the model file); reports point there. Written by spof import; leave it out by hand."},
	},
}

var regionObject = &object{
	name: "region",
	desc: "Settings of a region that zones name.",
	fields: []field{
		{key: "description", typ: typeString,
			desc: "What the region is."},
		{key: "availability", typ: typeFraction,
			desc: "Fraction of the time the region is up, as 0.9999 or \"99.99%\" (default 99.99%, docs/model.md says why): the probability of the region:R event in spof availability."},
	},
}

var providerObject = &object{
	name: "provider",
	desc: "Settings of a provider that components name.",
	fields: []field{
		{key: "description", typ: typeString,
			desc: "What the provider is."},
		{key: "availability", typ: typeFraction,
			desc: "Fraction of the time the provider is up as a whole, as 0.9999 or \"99.99%\" (default 99.99%, docs/model.md says why): the probability of the provider:P event in spof availability."},
	},
}

var hazardObject = &object{
	name: "hazard",
	desc: "A common-cause event.",
	fields: []field{
		{key: "description", typ: typeString,
			desc: "What happens."},
		{key: "breaks", typ: typeList, ref: refComponent, noun: "component", required: true, nonEmpty: true, example: "breaks: [db]",
			desc: "The components that go down entirely when it happens."},
		{key: "fix", typ: typeString,
			desc: "The mitigation, if known."},
		{key: "probability", typ: typeFraction,
			desc: "Fraction of the time the hazard is in effect, as 0.014 or \"1.4%\" (20 minutes a day); default 0.1% (docs/model.md)."},
		{key: "source", typ: typeString, nonEmpty: true,
			desc: "Where spof import found this (file:line, relative to the model file); reports point there. Written by spof import; leave it out by hand."},
	},
}

// namePattern is what names of zones, regions, components, flows, people,
// hazards and providers must match: they appear in event names such as
// instance:app/0, so no ':', '/' or spaces.
const namePattern = `^[A-Za-z0-9][A-Za-z0-9._-]*$`

const nameHint = `a name starts with a letter or digit and has only letters, digits, ".", "_" and "-"`

// validName reports whether s matches namePattern.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// ValidName reports whether s may name a zone, component, flow, person or
// hazard: it starts with a letter or digit and has only letters, digits,
// ".", "_" and "-".
func ValidName(s string) bool { return validName(s) }
