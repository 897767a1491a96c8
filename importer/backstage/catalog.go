package backstage

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

// catalog is every entity read, indexed, with the component names given.
type catalog struct {
	r        *reader
	entities []*entity
	byKey    map[entityKey]*entity
	names    map[entityKey]string // components and resources → component name
	errs     model.ErrorList
}

func newCatalog(entities []*entity) *catalog {
	c := &catalog{r: &reader{}, entities: entities, byKey: map[entityKey]*entity{}, names: map[entityKey]string{}}
	for _, e := range entities {
		if _, dup := c.byKey[e.key()]; !dup {
			c.byKey[e.key()] = e
		}
	}
	// A component is named after the entity; when two share a name
	// (a Component and the Resource it owns, or two namespaces), the
	// later ones are qualified by namespace, else by kind.
	taken := map[string]bool{}
	for _, e := range entities {
		if !isRunning(e) || c.names[e.key()] != "" {
			continue
		}
		name := importer.Name(e.name)
		if taken[name] && e.namespace != "default" {
			name = importer.Name(e.namespace + "." + e.name)
		}
		if taken[name] {
			name = importer.Name(e.name + "-" + e.kind)
		}
		taken[name] = true
		c.names[e.key()] = name
	}
	return c
}

// isRunning reports whether an entity is something that runs or holds
// data: a Component (other than a library or documentation) or a
// Resource.
func isRunning(e *entity) bool {
	switch e.kind {
	case "resource":
		return true
	case "component":
		switch strings.ToLower(specStr(e, "type")) {
		case "library", "documentation", "docs", "template", "sdk":
			return false
		}
		return true
	}
	return false
}

func specStr(e *entity, key string) string {
	if n := get(e.spec, key); n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

// resourceKinds maps a Resource's spec.type to a kind.
var resourceKinds = map[string]model.Kind{
	"database": model.KindDatabase, "db": model.KindDatabase, "rds": model.KindDatabase, "rds-instance": model.KindDatabase,
	"aurora": model.KindDatabase, "cloudsql": model.KindDatabase, "dynamodb-table": model.KindDatabase,
	"cache": model.KindCache, "elasticache": model.KindCache, "memorystore": model.KindCache,
	"queue": model.KindQueue, "topic": model.KindQueue, "kafka-topic": model.KindQueue, "message-queue": model.KindQueue,
	"message-broker": model.KindQueue, "sqs-queue": model.KindQueue, "sns-topic": model.KindQueue, "pubsub-topic": model.KindQueue,
	"s3-bucket": model.KindStorage, "bucket": model.KindStorage, "storage": model.KindStorage, "gcs-bucket": model.KindStorage,
	"blob-storage": model.KindStorage, "filesystem": model.KindStorage,
	"load-balancer": model.KindLoadBalancer, "loadbalancer": model.KindLoadBalancer,
	"dns": model.KindDNS, "dns-zone": model.KindDNS, "cdn": model.KindCDN,
	"certificate": model.KindCertificate, "secret": model.KindSecrets, "secrets": model.KindSecrets, "vault": model.KindSecrets,
	"ci": model.KindCI, "pipeline": model.KindCI, "monitoring": model.KindMonitoring, "config": model.KindConfig,
	"external-api": model.KindExternal, "saas": model.KindExternal,
}

// managed are Resource types that are regional, replicated services of a
// cloud provider: no single instance to lose.
var managed = map[string]string{
	"s3-bucket": "AWS S3", "gcs-bucket": "Google Cloud Storage", "blob-storage": "Azure Blob Storage",
	"sqs-queue": "AWS SQS", "sns-topic": "AWS SNS", "pubsub-topic": "Google Pub/Sub", "dynamodb-table": "AWS DynamoDB",
}

// kindOf tells an entity's kind: a Resource's from its type (or its name:
// "orders-postgres"), a Component of type database likewise; other
// Components are services.
func kindOf(e *entity) (model.Kind, bool) {
	typ := strings.ToLower(specStr(e, "type"))
	if k, ok := resourceKinds[typ]; ok {
		return k, true
	}
	if k, ok := importer.KindFromImage(typ); ok {
		return k, true
	}
	if e.kind == "resource" {
		if k, ok := importer.KindFromImage(e.name); ok {
			return k, true
		}
		return model.KindOther, false
	}
	return model.KindService, true
}

// emit adds the catalog to b.
func (c *catalog) emit(b *importer.Builder) {
	unknownKinds := 0
	for _, e := range c.entities {
		name := c.names[e.key()]
		switch {
		case name != "":
		case e.kind == "component" && !isRunning(e):
			b.Note(importer.Note{Pos: e.pos, Kind: importer.NoteAssumption, Subject: e.name,
				Msg: fmt.Sprintf("a %s, not something that runs: left out", specStr(e, "type"))})
			continue
		case e.kind == "api" || e.kind == "system" || e.kind == "domain" || e.kind == "group" || e.kind == "user" || e.kind == "location":
			continue // read below, or only a grouping
		default:
			unknownKinds++
			b.Note(importer.Note{Pos: e.pos, Kind: importer.NoteUnknownResource, Subject: e.name,
				Msg: fmt.Sprintf("kind %s is not modelled", e.kind)})
			continue
		}
		if importer.Ignored(e.ann) {
			continue
		}
		kind, known := kindOf(e)
		comp := b.Component(name, kind, e.pos)
		if comp.Description == "" && e.title != "" {
			comp.Description = e.title
		}
		typ := strings.ToLower(specStr(e, "type"))
		if !known {
			b.Note(importer.Note{Pos: e.pos, Kind: importer.NoteAssumption, Subject: name,
				Msg:  fmt.Sprintf("resource type %q says nothing of what it is: kind other", specStr(e, "type")),
				Hint: "set " + importer.AnnotKind + " on it"})
		}
		if provider, ok := managed[typ]; ok && !comp.FailoverSet {
			comp.Replicas, comp.Failover, comp.FailoverSet = 3, model.FailoverAutomatic, true
			comp.Description = "managed and regionally redundant (" + provider + ")"
		}
		if typ == "website" {
			b.Entry(importer.Entry{Component: name, Pos: e.pos, Description: "website (Backstage Component " + e.name + ")"})
			b.ServesPort(name)
		} else if typ == "service" {
			b.ServesPort(name)
		}
		if err := b.Annotate(name, e.ann, e.pos); err != nil {
			if me, ok := err.(*model.Error); ok {
				c.errs = append(c.errs, me)
			}
		}
	}
	c.edges(b)
	c.people(b)
	if len(c.names) > 0 {
		b.Note(importer.Note{Kind: importer.NoteAssumption,
			Msg:  "the catalog says nothing of replicas or zones: each component is taken as one instance",
			Hint: "import the Kubernetes, compose or Terraform sources too (--from), or set them with --merge"})
	}
}

// ref parses an entity reference, [kind:][namespace/]name, with the kind
// the field implies when it gives none.
func ref(s, defaultKind, defaultNamespace string) entityKey {
	k := entityKey{kind: defaultKind, namespace: defaultNamespace}
	if kind, rest, ok := strings.Cut(s, ":"); ok {
		k.kind, s = strings.ToLower(kind), rest
	}
	if ns, rest, ok := strings.Cut(s, "/"); ok {
		k.namespace, s = strings.ToLower(ns), rest
	}
	k.name = strings.ToLower(s)
	return k
}

// target names the component a reference points at: the catalog's, or
// for an entity not in the catalog, its name (Finish reports it as
// dangling unless another importer deploys it).
func (c *catalog) target(k entityKey) string {
	if n := c.names[k]; n != "" {
		return n
	}
	if k.kind == "" {
		for _, kind := range []string{"component", "resource"} {
			if n := c.names[entityKey{kind, k.namespace, k.name}]; n != "" {
				return n
			}
		}
	}
	return importer.Name(k.name)
}

func (c *catalog) edges(b *importer.Builder) {
	providers := map[entityKey][]string{} // API → components providing it
	for _, e := range c.entities {
		from := c.names[e.key()]
		if from == "" || b.Lookup(from) == nil {
			continue
		}
		for _, n := range c.list(e, "providesApis") {
			k := ref(n.Value, "api", e.namespace)
			providers[k] = append(providers[k], from)
		}
	}
	for _, e := range c.entities {
		from := c.names[e.key()]
		if from == "" || b.Lookup(from) == nil {
			continue
		}
		for _, n := range c.list(e, "dependsOn") {
			b.Edge(&model.Edge{From: from, To: c.target(ref(n.Value, "", e.namespace)), Pos: pos(e.pos.File, n)})
		}
		for _, n := range c.list(e, "dependencyOf") {
			dependent := c.target(ref(n.Value, "", e.namespace))
			if b.Lookup(dependent) != nil {
				b.Edge(&model.Edge{From: dependent, To: from, Pos: pos(e.pos.File, n)})
			}
		}
		for _, n := range c.list(e, "consumesApis") {
			k := ref(n.Value, "api", e.namespace)
			ps := providers[k]
			if len(ps) == 0 {
				b.Note(importer.Note{Pos: pos(e.pos.File, n), Kind: importer.NoteDangling, Subject: from,
					Msg:  fmt.Sprintf("consumes API %s, which no component of the catalog provides", n.Value),
					Hint: "list it in the providing component's spec.providesApis"})
				continue
			}
			for _, p := range ps {
				b.Edge(&model.Edge{From: from, To: p, Pos: pos(e.pos.File, n)})
			}
		}
	}
}

// people makes the owners of components people who know them: a User
// owner, or each member of a Group owner. A group whose members the
// catalog does not list adds nobody: a team is not one person, and
// taking it for one would report a bus factor of one everywhere.
func (c *catalog) people(b *importer.Builder) {
	members := map[entityKey][]*entity{} // group → users
	for _, e := range c.entities {
		if e.kind != "user" {
			continue
		}
		for _, n := range c.list(e, "memberOf") {
			g := ref(n.Value, "group", e.namespace)
			members[g] = append(members[g], e)
		}
	}
	type owned struct {
		comps []string
		pos   model.Pos
	}
	groupsWithout := map[entityKey]*owned{}
	var order []entityKey
	people := map[string]*model.Person{}
	var names []string
	know := func(person string, at model.Pos, comp string, compPos model.Pos) {
		p := people[person]
		if p == nil {
			p = &model.Person{Name: person, Pos: at}
			people[person] = p
			names = append(names, person)
		}
		if !slices.Contains(p.Knows, comp) {
			p.Knows = append(p.Knows, comp)
			p.KnowsPos = append(p.KnowsPos, compPos)
		}
	}
	for _, e := range c.entities {
		name := c.names[e.key()]
		if name == "" || b.Lookup(name) == nil {
			continue
		}
		n := get(e.spec, "owner")
		if n == nil || n.Kind != yaml.ScalarNode || n.Value == "" {
			continue
		}
		owner := ref(n.Value, "group", e.namespace)
		at := pos(e.pos.File, n)
		switch {
		case owner.kind == "user":
			userPos := at
			if u := c.byKey[owner]; u != nil {
				userPos = u.pos
			}
			know(importer.Name(owner.name), userPos, name, at)
		case len(members[owner]) > 0:
			for _, u := range members[owner] {
				know(importer.Name(u.name), u.pos, name, at)
			}
		default:
			o := groupsWithout[owner]
			if o == nil {
				o = &owned{pos: at}
				groupsWithout[owner] = o
				order = append(order, owner)
			}
			o.comps = append(o.comps, name)
		}
	}
	for _, n := range names {
		b.Person(people[n])
	}
	for _, g := range order {
		o := groupsWithout[g]
		slices.Sort(o.comps)
		b.Note(importer.Note{Pos: o.pos, Kind: importer.NoteAssumption, Subject: g.name,
			Msg:  fmt.Sprintf("owns %s, but the catalog lists none of its members: nobody added as knowing them", strings.Join(o.comps, ", ")),
			Hint: "add the team's User entities with spec.memberOf"})
	}
}

func (c *catalog) list(e *entity, key string) []*yaml.Node {
	before := len(c.r.errs)
	out := c.r.list(e.pos.File, "spec."+key, get(e.spec, key))
	c.errs = append(c.errs, c.r.errs[before:]...)
	return out
}
