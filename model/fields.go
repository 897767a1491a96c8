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
	nonEmpty bool     // lists and maps that need at least one entry
	nullable bool     // typeObject, typeMap: null values stand for an empty mapping
	object   *object  // typeObject, typeMap, typeDependsOn
}

// object describes a mapping with a fixed set of keys.
type object struct {
	name   string // its name under $defs in the schema
	desc   string
	fields []field
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

func (o *object) keys() []string {
	keys := make([]string, len(o.fields))
	for i, f := range o.fields {
		keys[i] = f.key
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
		{key: "components", typ: typeMap, object: componentObject, required: true, nonEmpty: true,
			name: true, noun: "component", example: "components: {app: {kind: service}}",
			desc: "Everything that can fail, by name: services, datastores, external APIs, DNS, CI, certificates."},
		{key: "flows", typ: typeMap, object: flowObject, name: true, noun: "flow",
			desc: "What users do that must keep working (checkout, login), by name."},
		{key: "people", typ: typeMap, object: personObject, name: true, noun: "person",
			desc: "The people who operate the system, by name: what they know how to run and what they hold."},
		{key: "hazards", typ: typeMap, object: hazardObject, name: true, noun: "hazard",
			desc: "Common-cause events, by name: one thing that takes several components down at once."},
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
		{key: "failover", typ: typeEnum, enum: failoverNames(),
			desc: "How a failed primary is replaced. Default: automatic for stateless kinds, none for stateful kinds."},
		{key: "depends_on", typ: typeDependsOn, object: edgeObject, noun: "dependency",
			desc: "What the component needs. Each entry is a component name (a hard dependency) or a mapping with one key, the component name, whose value holds options."},
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
	},
}

var probeObject = &object{
	name: "probe",
	desc: "A live check of a flow.",
	fields: []field{
		{key: "http", typ: typeURL, required: true, example: `http: "http://127.0.0.1:8080/health"`,
			desc: "The http or https URL to request."},
		{key: "expect_status", typ: typeInt, min: 100, max: 599,
			desc: "The HTTP status code of a healthy answer."},
		{key: "degraded_when", typ: typeObject, object: degradedWhenObject,
			desc: "How a degraded (but successful) answer looks."},
	},
}

var degradedWhenObject = &object{
	name: "degraded_when",
	desc: "How a probe recognises a degraded answer.",
	fields: []field{
		{key: "header", typ: typeString,
			desc: "A response header present only when the answer is degraded."},
		{key: "body_contains", typ: typeString,
			desc: "A substring of the body present only when the answer is degraded."},
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
