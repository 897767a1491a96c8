package kubernetes

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

// maxSpreadZones is how many zones spread replicas are placed in: three,
// as most regions offer.
const maxSpreadZones = 3

// zoneLabels are the node labels of a zone (the second one deprecated).
var zoneLabels = []string{"topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone"}

const hostnameLabel = "kubernetes.io/hostname"

// build adds the indexed objects to b.
func (ix *index) build(b *importer.Builder) error {
	ix.name()
	var errs model.ErrorList
	for _, w := range ix.workloads {
		w.ignored = importer.Ignored(w.annotations())
	}
	ix.autoscale()
	ix.groups()
	for _, w := range ix.live() {
		if w.leader() {
			ix.component(b, w)
		}
	}
	ix.disruptionBudgets(b)
	for _, w := range ix.live() {
		if w.leader() {
			ix.noteSpread(b, w)
			ix.noteData(b, w)
		}
	}
	ix.serve(b)
	ix.ingressEntries(b)
	ix.routeEntries(b)
	for _, w := range ix.live() {
		if err := b.Annotate(w.comp, w.annotations(), w.obj.Pos); err != nil {
			errs = append(errs, flatten(err)...)
		}
		if _, ok := w.annotations()[importer.AnnotEntry]; ok {
			ix.entries++
		}
	}
	for _, w := range ix.live() {
		ix.edges(b, w)
	}
	ix.workers(b)
	ix.loadGeneratorEntries(b)
	ix.noteUnknown(b)
	if len(ix.live()) == 0 && len(ix.routes)+len(ix.svcOrder)+len(ix.ingresses) > 0 {
		var pos model.Pos
		switch {
		case len(ix.svcOrder) > 0:
			pos = ix.svcOrder[0].obj.Pos
		case len(ix.ingresses) > 0:
			pos = ix.ingresses[0].Pos
		default:
			pos = ix.routes[0].Pos
		}
		b.Note(importer.Note{Pos: pos, Kind: importer.NoteAssumption,
			Msg:  "no workload (Deployment, StatefulSet, DaemonSet, Pod, Job) in the input: the Services and routes lead to nothing deployed",
			Hint: "import the manifests that deploy them too"})
	}
	if len(errs) > 0 {
		errs.Sort()
		return errs
	}
	return nil
}

// selected returns the live workloads of namespace ns a label selector
// selects, in input order. Candidates come from an index on one label,
// so that matching every Service is not quadratic.
func (ix *index) selected(ns string, selector map[string]string) []*workload {
	if len(selector) == 0 {
		return nil
	}
	if ix.byLabel == nil {
		ix.byLabel = map[string][]*workload{}
		for _, w := range ix.live() {
			for k, v := range w.template.Labels {
				key := w.ns() + "\x00" + k + "=" + v
				ix.byLabel[key] = append(ix.byLabel[key], w)
			}
		}
	}
	var k0 string
	for k := range selector {
		k0 = k
		break
	}
	var out []*workload
	for _, w := range ix.byLabel[ns+"\x00"+k0+"="+selector[k0]] {
		if selects(selector, w.template.Labels) {
			out = append(out, w)
		}
	}
	return out
}

// live returns the workloads not ignored.
func (ix *index) live() []*workload {
	out := make([]*workload, 0, len(ix.workloads))
	for _, w := range ix.workloads {
		if !w.ignored {
			out = append(out, w)
		}
	}
	return out
}

// name gives each workload its component's name: the workload's name,
// qualified by namespace (name.ns) when several namespaces hold it, and
// by kind when one namespace holds several kinds of that name.
func (ix *index) name() {
	namespaces := map[string]map[string]bool{}
	kinds := map[nsName]int{}
	for _, w := range ix.workloads {
		if namespaces[w.name()] == nil {
			namespaces[w.name()] = map[string]bool{}
		}
		namespaces[w.name()][w.ns()] = true
		kinds[nsName{w.ns(), w.name()}]++
	}
	for _, w := range ix.workloads {
		n := w.name()
		if len(namespaces[n]) > 1 {
			n += "." + w.ns()
		}
		if kinds[nsName{w.ns(), w.name()}] > 1 {
			n += "-" + strings.ToLower(w.obj.Kind)
		}
		w.comp = ix.unique(importer.Name(n))
	}
}

// unique returns name, or name-2, name-3 ... when it is taken, and takes
// it.
func (ix *index) unique(name string) string {
	out := name
	for i := 2; ix.comps[out]; i++ {
		out = fmt.Sprintf("%s-%d", name, i)
	}
	ix.comps[out] = true
	return out
}

// component adds w's component.
func (ix *index) component(b *importer.Builder, w *workload) {
	kind := ix.kind(w)
	c := b.Component(w.comp, kind, w.obj.Pos)
	c.Replicas, c.MinHealthy = w.replicas, 1
	if w.group != nil {
		groupComponent(c, w.group)
		return
	}
	if w.zero {
		b.Note(importer.Note{Pos: w.obj.Pos, Kind: importer.NoteAssumption, Subject: w.comp,
			Msg: "spec.replicas is 0 (scaled down): modelled as 1 replica"})
	}
	switch w.obj.Kind {
	case "DaemonSet":
		c.Replicas = maxSpreadZones
		c.Zones = spreadZones(maxSpreadZones)
		c.Description = "DaemonSet: a pod on every node, modelled as 3 replicas in 3 zones"
	case "CronJob":
		c.Description = "CronJob, schedule " + strconv.Quote(w.schedule)
	}
	if m := w.mainContainer(); m != nil && imageBase(m.Image) == "flagd" {
		ix.flagd[w.comp] = true
	}
	if z := pinnedZone(w.pod.NodeSelector); z != "" {
		c.Zones = []string{z}
	}
}

// kind guesses the component's kind: from the main container's image,
// the image's tag when it names a store (demo:1.2-kafka, not
// wordpress:4.8-apache), the workload's name (catalogue-db), the
// container's name, and last the well-known port it listens on (3306,
// 27017 ...). Role words (exporter, ui, backup ...) stop a guess:
// redis_exporter is no cache.
func (ix *index) kind(w *workload) model.Kind {
	c := w.mainContainer()
	var guesses []string
	if c != nil {
		if k, ok := importer.KindFromImage(c.Image); ok && !hasRoleWord(imageBase(c.Image)) {
			return k
		}
		if _, tag, ok := strings.Cut(lastElem(c.Image), ":"); ok {
			if _, rest, ok := strings.Cut(tag, "-"); ok {
				if k, ok := importer.KindFromImage(rest); ok && k.Stateful() {
					return k
				}
			}
		}
		if hasRoleWord(imageBase(c.Image)) {
			return model.KindService
		}
	}
	guesses = append(guesses, w.name())
	if c != nil {
		guesses = append(guesses, c.Name)
	}
	for _, g := range guesses {
		if hasRoleWord(g) {
			continue
		}
		if k, ok := importer.KindFromImage(g); ok {
			return k
		}
		if k, ok := kindFromWords(g); ok && g == w.name() {
			return k
		}
	}
	if c != nil && !hasRoleWord(w.name()) {
		for _, p := range c.Ports {
			if k, ok := portKinds[p.ContainerPort]; ok {
				return k
			}
		}
	}
	return model.KindService
}

// roleWords make a name say nothing of its kind: "kafka-ui" is no queue,
// "redis-exporter" no cache, "postgres-backup" no database.
var roleWords = []string{"ui", "exporter", "commander", "admin", "insight", "consumer", "producer", "worker",
	"client", "proxy", "connect", "init", "setup", "migrate", "migrations", "seed", "backup", "cli", "web", "api",
	"operator", "controller", "dashboard", "metrics", "sentinel"}

func hasRoleWord(name string) bool {
	return slices.ContainsFunc(nameWords(name), func(w string) bool { return slices.Contains(roleWords, w) })
}

func nameWords(name string) []string {
	return strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return r == '-' || r == '_' || r == '.' })
}

// kindFromWords finds a store's name, or "db", among the words of a
// workload's name after the first: carts-db and user-db are databases,
// session-redis a cache.
func kindFromWords(name string) (model.Kind, bool) {
	words := nameWords(name)
	for i := len(words) - 1; i >= 1; i-- {
		switch words[i] {
		case "db", "database", "rdb":
			return model.KindDatabase, true
		}
		if k, ok := importer.KindFromImage(words[i]); ok && k.Stateful() {
			return k, true
		}
	}
	return "", false
}

// portKinds are the well-known ports of stores, for images that are
// named after the application (weaveworksdemos/user-db listens on 27017).
var portKinds = map[int]model.Kind{
	3306: model.KindDatabase, 5432: model.KindDatabase, 27017: model.KindDatabase, 9042: model.KindDatabase,
	26257: model.KindDatabase, 1433: model.KindDatabase, 1521: model.KindDatabase,
	6379: model.KindCache, 11211: model.KindCache,
	5672: model.KindQueue, 9092: model.KindQueue, 4222: model.KindQueue, 6650: model.KindQueue,
}

func lastElem(image string) string {
	if i := strings.LastIndexByte(image, '/'); i >= 0 {
		return image[i+1:]
	}
	return image
}

// imageBase is an image's name without registry, path, tag or digest.
func imageBase(image string) string {
	base := strings.ToLower(lastElem(image))
	if i := strings.IndexAny(base, ":@"); i >= 0 {
		base = base[:i]
	}
	return base
}

func spreadZones(n int) []string {
	n = min(n, maxSpreadZones)
	zones := make([]string, n)
	for i := range zones {
		zones[i] = "zone-" + strconv.Itoa(i+1)
	}
	return zones
}

func pinnedZone(nodeSelector map[string]string) string {
	for _, l := range zoneLabels {
		if z := nodeSelector[l]; z != "" && model.ValidName(z) {
			return z
		}
	}
	return ""
}

// spread returns the topology keys the pod's replicas are spread over.
func spread(p *podSpec) (zone, node bool) {
	var keys []string
	for _, t := range p.TopologySpreadConstraints {
		keys = append(keys, t.TopologyKey)
	}
	if a := p.Affinity; a != nil && a.PodAntiAffinity != nil {
		for _, t := range a.PodAntiAffinity.Required {
			keys = append(keys, t.TopologyKey)
		}
		for _, t := range a.PodAntiAffinity.Preferred {
			keys = append(keys, t.Term.TopologyKey)
		}
	}
	for _, k := range keys {
		for _, l := range zoneLabels {
			zone = zone || k == l
		}
		node = node || k == hostnameLabel
	}
	return zone, node
}

// autoscale raises the replicas of HPA targets to their minReplicas.
func (ix *index) autoscale() {
	for _, o := range ix.hpas {
		spec := ix.hpa[o]
		w := ix.workload(spec.ScaleTargetRef.Kind, o.Meta.Namespace, spec.ScaleTargetRef.Name)
		if w == nil || spec.MinReplicas == nil || w.obj.Kind == "DaemonSet" {
			continue
		}
		if *spec.MinReplicas > w.replicas || w.zero && *spec.MinReplicas > 0 {
			w.replicas = max(*spec.MinReplicas, 1)
			w.zero = false
		}
	}
}

func (ix *index) workload(kind, ns, name string) *workload {
	for _, w := range ix.workloads {
		if w.obj.Kind == kind && w.ns() == ns && w.name() == name && !w.ignored {
			return w
		}
	}
	return nil
}

// disruptionBudgets turns a PDB's minAvailable into min_healthy, when it
// leaves a replica to lose.
func (ix *index) disruptionBudgets(b *importer.Builder) {
	for _, o := range ix.pdbs {
		spec := ix.pdb[o]
		if spec.MinAvailable == nil {
			continue
		}
		for _, w := range ix.selected(o.Meta.Namespace, spec.Selector.MatchLabels) {
			c := b.Lookup(w.comp)
			n, ok := minAvailable(*spec.MinAvailable, c.Replicas)
			switch {
			case !ok:
				b.Note(importer.Note{Pos: o.Pos, Kind: importer.NoteAssumption, Subject: w.comp,
					Msg: fmt.Sprintf("PodDisruptionBudget %s: minAvailable %q is not a number or a percentage: ignored", o.Meta.Name, *spec.MinAvailable)})
			case n >= c.Replicas && c.Replicas > 1:
				b.Note(importer.Note{Pos: o.Pos, Kind: importer.NoteAssumption, Subject: w.comp,
					Msg:  fmt.Sprintf("PodDisruptionBudget %s: minAvailable %d of %d replicas blocks every voluntary eviction; not taken as the replicas it needs", o.Meta.Name, n, c.Replicas),
					Hint: "node drains will hang: lower minAvailable or add a replica"})
			case n > 1 && n < c.Replicas:
				c.MinHealthy = n
			}
		}
	}
}

// minAvailable reads "2" or "50%" of replicas (rounded up, as Kubernetes
// does).
func minAvailable(v string, replicas int) (int, bool) {
	v = strings.TrimSpace(v)
	if p, ok := strings.CutSuffix(v, "%"); ok {
		pct, err := strconv.Atoi(p)
		if err != nil || pct < 0 || pct > 100 {
			return 0, false
		}
		return int(math.Ceil(float64(pct) * float64(replicas) / 100)), true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0
}

// noteSpread says when replicas may share a zone; and decides failover.
func (ix *index) noteSpread(b *importer.Builder, w *workload) {
	c := b.Lookup(w.comp)
	if c.Replicas > 1 && w.obj.Kind != "DaemonSet" {
		zone, node := spread(&w.pod)
		switch {
		case len(c.Zones) == 1:
			b.Note(importer.Note{Pos: w.obj.Pos, Kind: importer.NoteZoneSpread, Subject: w.comp,
				Msg:  fmt.Sprintf("%d replicas, all pinned to zone %s by a nodeSelector", c.Replicas, c.Zones[0]),
				Hint: "select nodes of several zones and spread the replicas (topologySpreadConstraints on topology.kubernetes.io/zone)"})
		case zone:
			c.Zones = spreadZones(c.Replicas)
		case node:
			b.Note(importer.Note{Pos: w.obj.Pos, Kind: importer.NoteZoneSpread, Subject: w.comp,
				Msg:  fmt.Sprintf("%d replicas spread over nodes, but they may share a zone", c.Replicas),
				Hint: "spread them over zones too (topologySpreadConstraints on topology.kubernetes.io/zone)"})
		default:
			b.Note(importer.Note{Pos: w.obj.Pos, Kind: importer.NoteZoneSpread, Subject: w.comp,
				Msg:  fmt.Sprintf("%d replicas, but nothing spreads them: replicas may share a zone or a node", c.Replicas),
				Hint: "add topologySpreadConstraints or a podAntiAffinity on topology.kubernetes.io/zone"})
		}
	}
	if !c.Kind.Stateful() || c.FailoverSet {
		return
	}
	if why := failoverEvidence(w, c.Replicas); why != "" {
		c.Failover, c.FailoverSet = model.FailoverAutomatic, true // written, as the default is none
		c.Description = strings.TrimSpace(c.Description + " failover: " + why)
		return
	}
	if c.Replicas > 1 && readReplicas(w) {
		// Read replicas (guestbook's redis-replica): each serves reads,
		// none is a primary the others need.
		c.Failover, c.FailoverSet = model.FailoverAutomatic, true // written, as the default is none
		c.Description = strings.TrimSpace(c.Description + " read replicas: any one serves")
		return
	}
	if c.Replicas > 1 {
		b.Note(importer.Note{Pos: w.obj.Pos, Kind: importer.NoteAssumption, Subject: w.comp,
			Msg:  fmt.Sprintf("%s with %d replicas, but nothing shows replication with automatic failover: its primary (replica 0) is needed", c.Kind, c.Replicas),
			Hint: "if an operator, Sentinel or Patroni fails it over, annotate " + importer.AnnotFailover + ": automatic"})
	}
}

// replicaWords in a workload's name or role label say its pods are read
// replicas of a primary deployed apart (redis-replica, redis-slave).
var replicaWords = []string{"replica", "replicas", "slave", "slaves", "follower", "followers", "reader", "readers", "read"}

// readReplicas reports whether w's pods are read replicas.
func readReplicas(w *workload) bool {
	words := nameWords(w.name())
	for _, k := range []string{"role", "component", "app.kubernetes.io/component", "tier"} {
		words = append(words, nameWords(w.template.Labels[k])...)
	}
	return slices.ContainsFunc(words, func(s string) bool { return slices.Contains(replicaWords, s) })
}

// failoverMarkers in a container's image or name show a replicated setup
// that fails over by itself.
var failoverMarkers = []string{"sentinel", "patroni", "spilo", "repmgr", "galera", "stolon", "orchestrator"}

// clustered are stores that replicate and elect a leader by themselves
// when they run several replicas.
var clustered = []string{"kafka", "cp-kafka", "redpanda", "cassandra", "scylla", "elasticsearch", "opensearch", "etcd",
	"zookeeper", "cp-zookeeper", "cockroach", "cockroachdb", "yugabyte", "nats", "consul"}

// failoverEvidence says why w fails over by itself, or "".
func failoverEvidence(w *workload, replicas int) string {
	for _, c := range append(w.pod.Containers, w.pod.InitContainers...) {
		for _, m := range failoverMarkers {
			if strings.Contains(strings.ToLower(c.Image), m) || strings.Contains(strings.ToLower(c.Name), m) {
				return m
			}
		}
	}
	if replicas < 2 {
		return ""
	}
	main := w.mainContainer()
	if main == nil {
		return ""
	}
	base := imageBase(main.Image)
	for _, s := range clustered {
		if base == s || strings.HasPrefix(base, s+"-") || strings.HasPrefix(w.name(), s) {
			return "a cluster of " + strconv.Itoa(replicas) + " " + s + " nodes"
		}
	}
	for _, a := range append(main.Command, main.Args...) {
		if strings.Contains(a.Value, "--replSet") {
			return "a MongoDB replica set"
		}
	}
	for _, e := range main.Env {
		if strings.Contains(e.Name, "REPLICA_SET") {
			return "a replica set (" + e.Name + ")"
		}
	}
	return ""
}

// noteData says when a stateful single pod keeps its data where it does
// not survive the pod.
func (ix *index) noteData(b *importer.Builder, w *workload) {
	c := b.Lookup(w.comp)
	main := w.mainContainer()
	if !c.Kind.Stateful() || c.Replicas > 1 || main == nil || w.claims {
		return
	}
	volumes := map[string]volume{}
	for _, v := range w.pod.Volumes {
		volumes[v.Name] = v
	}
	var ephemeral []string
	for _, m := range main.VolumeMounts {
		v, ok := volumes[m.Name]
		switch {
		case !ok, scratchPath(m.MountPath):
		case v.PersistentVolumeClaim != nil || v.HostPath != nil:
			return
		case v.EmptyDir != nil:
			ephemeral = append(ephemeral, m.Name)
		}
	}
	msg := "a single pod with no persistent volume: its data is lost when the container restarts"
	if len(ephemeral) > 0 {
		msg = fmt.Sprintf("a single pod keeping its data in emptyDir volume %s: lost when the pod is deleted, evicted or rescheduled",
			strings.Join(ephemeral, ", "))
	}
	b.Note(importer.Note{Pos: w.obj.Pos, Kind: importer.NoteDataLoss, Subject: w.comp, Msg: msg,
		Hint: "use a StatefulSet with a volumeClaimTemplate, or a managed store"})
}

// scratchPath reports whether a mount path holds scratch files, not a
// store's data: an emptyDir on /tmp keeps no database.
func scratchPath(p string) bool {
	p = strings.TrimSuffix(p, "/")
	for _, s := range []string{"/tmp", "/var/tmp", "/run", "/var/run", "/var/log", "/dev/shm", "/etc", "/config", "/conf"} {
		if p == s || strings.HasPrefix(p, s+"/") {
			return true
		}
	}
	return false
}

// serve links each Service to the workloads it selects: they serve a
// port, and LoadBalancer and NodePort Services are entry points.
func (ix *index) serve(b *importer.Builder) {
	for _, s := range ix.svcOrder {
		for _, w := range ix.selected(s.obj.Meta.Namespace, s.spec.Selector) {
			s.targets = append(s.targets, w)
			w.served = true
			b.ServesPort(w.comp)
		}
		if s.spec.Type != "LoadBalancer" && s.spec.Type != "NodePort" {
			continue
		}
		port := ""
		if len(s.spec.Ports) > 0 {
			port = " on port " + strconv.Itoa(s.spec.Ports[0].Port)
		}
		for _, w := range s.targets {
			b.Entry(importer.Entry{Component: w.comp, Pos: s.obj.Pos,
				Description: fmt.Sprintf("reached%s (Service %s, %s)", port, s.obj.Meta.Name, s.spec.Type)})
			ix.entries++
		}
	}
}

// ingressEntries makes the workloads behind Ingress backends entry points.
func (ix *index) ingressEntries(b *importer.Builder) {
	for _, o := range ix.ingresses {
		spec := ix.ingress[o]
		type backend struct {
			be   *ingressBackend
			host string
			path string
		}
		backends := []backend{{be: spec.DefaultBackend}, {be: spec.Backend}}
		for _, r := range spec.Rules {
			if r.HTTP == nil {
				continue
			}
			for i := range r.HTTP.Paths {
				p := &r.HTTP.Paths[i]
				backends = append(backends, backend{&p.Backend, r.Host, p.Path})
			}
		}
		for _, be := range backends {
			name := be.be.service()
			if name == "" {
				continue
			}
			s := ix.services[nsName{o.Meta.Namespace, name}]
			if s == nil {
				continue
			}
			pos := model.Pos{File: o.Pos.File, Line: be.be.Line, Col: be.be.Col}
			for _, w := range s.targets {
				b.Entry(importer.Entry{Component: w.comp, Pos: pos,
					Description: fmt.Sprintf("reached at %s%s (Ingress %s, Service %s)", be.host, be.path, o.Meta.Name, name)})
				ix.entries++
			}
		}
	}
}

// workers records Jobs, CronJobs and the workloads no Service selects
// that call a queue (its consumers) as background workers.
func (ix *index) workers(b *importer.Builder) {
	for _, w := range ix.live() {
		switch w.obj.Kind {
		case "CronJob":
			b.Worker(w.comp, fmt.Sprintf("run cron job %s (%s)", w.name(), w.schedule))
			continue
		case "Job":
			b.Worker(w.comp, "run job "+w.name())
			continue
		}
		if w.served {
			continue
		}
		for _, e := range b.Lookup(w.comp).DependsOn {
			if t := b.Lookup(e.To); t != nil && t.Kind == model.KindQueue && e.Running() {
				b.Worker(w.comp, "process messages from "+t.Name)
				break
			}
		}
	}
}

// loadGeneratorEntries: without any LoadBalancer, NodePort or Ingress
// (a chart reached by port-forward), what a load generator calls is what
// users reach.
func (ix *index) loadGeneratorEntries(b *importer.Builder) {
	if ix.entries > 0 {
		return
	}
	for _, w := range ix.live() {
		if !importer.IsLoadGenerator(w.comp) {
			continue
		}
		for _, e := range b.Lookup(w.comp).DependsOn {
			if b.Lookup(e.To) == nil || e.Degrades() || !e.Running() {
				continue
			}
			b.Entry(importer.Entry{Component: e.To, Pos: e.Pos,
				Description: "called by the load generator " + w.comp + " (no LoadBalancer, NodePort or Ingress in the sources)"})
			b.Note(importer.Note{Pos: e.Pos, Kind: importer.NoteAssumption, Subject: e.To,
				Msg:  "no LoadBalancer, NodePort or Ingress: taken as an entry point because the load generator " + w.comp + " calls it",
				Hint: "annotate the workload users reach with " + importer.AnnotEntry + `: "true"`})
		}
	}
}
