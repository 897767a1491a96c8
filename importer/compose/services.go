package compose

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

// Kinds of notes of this importer, besides importer's own.
const (
	// NoteNoRestart: a stateful service with restart: "no" stays down
	// after a crash until someone starts it.
	NoteNoRestart importer.NoteKind = "no-restart"
	// NoteProfileOff: a service left out because its profiles are not
	// enabled.
	NoteProfileOff importer.NoteKind = "profile-disabled"
)

// importState is one import under way.
type importState struct {
	b       *importer.Builder
	pos     *positions
	project *types.Project
	first   string // the first compose file, as given

	names    map[string]string // service → component name
	kinds    map[string]model.Kind
	hosts    map[string]string // host name, container_name, alias → service
	ignored  map[string]bool
	pinned   []string  // components pinned to one container by container_name
	firstPin model.Pos // where the first of them sets it
}

// edge is an edge being gathered: the first fact that gives it sets its
// position; a running-time fact wins over a start-up one.
type edge struct {
	to      string // service, or a component name for a dangling reference
	running bool
	pos     model.Pos
}

type edgeSet struct {
	order []string
	byTo  map[string]*edge
}

func (s *edgeSet) add(to string, running bool, pos model.Pos) {
	if s.byTo == nil {
		s.byTo = map[string]*edge{}
	}
	if e := s.byTo[to]; e != nil {
		if running && !e.running {
			e.running, e.pos = true, pos
		}
		return
	}
	s.order = append(s.order, to)
	s.byTo[to] = &edge{to: to, running: running, pos: pos}
}

// build adds the project's services to the builder.
func (s *importState) build() error {
	s.names, s.kinds, s.hosts, s.ignored = map[string]string{}, map[string]model.Kind{}, map[string]string{}, map[string]bool{}
	services := s.ordered(s.project.Services)

	// Names, kinds and host names first, so that edges may point at any
	// service; components once it is known which ones nothing needs.
	for _, name := range services {
		svc := s.project.Services[name]
		ann := labels(svc)
		if importer.Ignored(ann) {
			s.ignored[name] = true
			continue
		}
		if svc.GetScale() == 0 {
			s.b.Note(importer.Note{Pos: s.pos.service(name), Kind: importer.NoteAssumption, Subject: importer.Name(name),
				Msg: "scaled to 0: left out, as docker compose starts no container of it"})
			s.ignored[name] = true
			continue
		}
		s.names[name] = importer.Name(name)
		s.kinds[name] = guessKind(name, svc.Image)
		// A kind set by a label rules what follows (stateful or not);
		// Annotate reports an invalid one.
		if k := model.Kind(ann[importer.AnnotKind]); slices.Contains(model.Kinds, k) {
			s.kinds[name] = k
		}
		for _, h := range hostNames(name, svc) {
			// Names on a network are DNS names: case does not count.
			h = strings.ToLower(h)
			if _, taken := s.hosts[h]; !taken {
				s.hosts[h] = name
			}
		}
	}

	edges := map[string]*edgeSet{}
	jobs := map[string]bool{} // services others wait to complete
	for _, name := range services {
		if !s.ignored[name] {
			edges[name] = s.edges(name, s.project.Services[name], jobs)
		}
	}
	referenced := map[string]bool{}
	for _, set := range edges {
		for _, to := range set.order {
			referenced[to] = true
		}
	}
	for _, name := range services {
		if !s.ignored[name] && !referenced[name] {
			s.leaveOut(name, s.project.Services[name])
		}
	}

	var errs model.ErrorList
	for _, name := range services {
		if s.ignored[name] {
			continue
		}
		svc := s.project.Services[name]
		cname := s.names[name]
		c := s.b.Component(cname, s.kinds[name], s.pos.service(name))
		s.replicas(c, name, svc)
		if ann := labels(svc); len(ann) > 0 {
			if err := s.b.Annotate(cname, ann, s.pos.entry(name, "labels", "")); err != nil {
				errs = append(errs, asModelError(err, s.first))
			}
		}
	}
	if n := len(s.pinned); n > 0 {
		names := strings.Join(s.pinned, ", ")
		if n > 8 {
			names = strings.Join(s.pinned[:8], ", ") + fmt.Sprintf(" and %d more", n-8)
		}
		subject := ""
		if n == 1 {
			subject = s.pinned[0]
		}
		s.b.Note(importer.Note{Pos: s.firstPin, Kind: importer.NoteCannotScale, Subject: subject,
			Msg:  fmt.Sprintf("container_name pins %s to one container each: they cannot be scaled out (%s)", countNoun(n, "service", "services"), names),
			Hint: "remove container_name where a service should run several replicas"})
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *model.Error) int { return strings.Compare(a.Pos.String(), b.Pos.String()) })
		return errs
	}
	for _, name := range s.ordered(s.project.DisabledServices) {
		svc := s.project.DisabledServices[name]
		s.b.Note(importer.Note{Pos: s.pos.service(name), Kind: NoteProfileOff, Subject: importer.Name(name),
			Msg:  fmt.Sprintf("left out: only in profile %s, which is not enabled", strings.Join(svc.Profiles, ", ")),
			Hint: "enable the profile (Options.Profiles) to import it"})
	}
	for _, name := range sortedKeys(s.project.Jobs) {
		s.b.Note(importer.Note{Pos: s.pos.locateJob(name), Kind: importer.NoteUnknownResource, Subject: importer.Name(name),
			Msg: "a compose job: not modelled (it is not a running service)"})
	}

	for _, name := range services {
		if s.ignored[name] {
			continue
		}
		svc := s.project.Services[name]
		s.addEdges(name, edges[name])
		published := s.ports(name, svc, edges[name])
		s.worker(name, svc, edges[name], published || referenced[name] || jobs[name])
		s.state(name, svc)
	}
	return nil
}

// leaveOut leaves out, with a note, a service that nothing needs and that
// no user needs either: a load generator its image names
// (weaveworksdemos/load-test in the Sock Shop), which would otherwise get
// a flow of its own, and an interactive tool (stdin_open and tty: an
// admin CLI such as temporal-admin-tools), which runs only for someone to
// exec into it.
func (s *importState) leaveOut(name string, svc types.ServiceConfig) {
	switch {
	case len(labels(svc)) > 0:
		// spof.dev/ labels say the user wants it.
	case importer.IsLoadGenerator(name):
		// Finish knows it by its name: no flow, and no need of it.
	case importer.IsLoadGenerator(imageBase(svc.Image)):
		s.ignored[name] = true
		s.b.Note(importer.Note{Pos: s.pos.service(name), Kind: importer.NoteLoadGenerator, Subject: importer.Name(name),
			Msg: fmt.Sprintf("a load generator (image %s): left out, as no user needs it", svc.Image)})
	case svc.StdinOpen && svc.Tty && len(svc.Ports) == 0:
		s.ignored[name] = true
		s.b.Note(importer.Note{Pos: s.pos.service(name), Kind: importer.NoteAssumption, Subject: importer.Name(name),
			Msg:  "an interactive tool (stdin_open and tty) that nothing calls: left out",
			Hint: "give it a spof.dev/ label (spof.dev/criticality: low) to keep it"})
	}
}

// ordered returns service names in the order the files first declare
// them.
func (s *importState) ordered(services types.Services) []string {
	names := sortedKeys(services)
	slices.SortStableFunc(names, func(a, b string) int {
		fa, la := s.pos.declared(a)
		fb, lb := s.pos.declared(b)
		if fa != fb {
			return fa - fb
		}
		return la - lb
	})
	return names
}

// replicas sets the replica count: deploy.replicas or scale, but one when
// container_name pins the service to a single container.
func (s *importState) replicas(c *model.Component, name string, svc types.ServiceConfig) {
	n := svc.GetScale()
	if svc.ContainerName != "" {
		at := s.pos.entry(name, "container_name", "")
		if n > 1 {
			s.b.Note(importer.Note{Pos: at, Kind: importer.NoteCannotScale, Subject: c.Name,
				Msg:  fmt.Sprintf("asks for %d replicas, but container_name %q pins it to one container (docker compose refuses to scale it): imported with 1", n, svc.ContainerName),
				Hint: "remove container_name to run several replicas"})
		} else {
			// One note for them all (build): most files set it on every
			// service, and one line per service would drown the rest.
			if len(s.pinned) == 0 {
				s.firstPin = at
			}
			s.pinned = append(s.pinned, c.Name)
		}
		n = 1
	}
	if n > 1 {
		c.Replicas = n
	}
}

// hostNames are the names other services reach a service by on the
// compose network.
func hostNames(name string, svc types.ServiceConfig) []string {
	out := []string{name}
	if svc.ContainerName != "" {
		out = append(out, svc.ContainerName)
	}
	if svc.Hostname != "" {
		out = append(out, svc.Hostname)
	}
	for _, n := range slices.Sorted(maps.Keys(svc.Networks)) {
		if cfg := svc.Networks[n]; cfg != nil {
			out = append(out, cfg.Aliases...)
		}
	}
	return out
}

// labels returns the spof.dev/ labels and annotations of a service.
func labels(svc types.ServiceConfig) map[string]string {
	out := map[string]string{}
	for _, m := range []map[string]string{svc.Annotations, svc.Labels} {
		for k, v := range m {
			if strings.HasPrefix(k, importer.AnnotationPrefix) {
				out[k] = v
			}
		}
	}
	return out
}

// kindHints are role words that make a service name say nothing of its
// kind: "kafka-ui" is no queue, "redis-exporter" no cache.
var kindHints = []string{"ui", "meta", "operator", "exporter", "commander", "admin", "insight", "consumer", "producer", "worker",
	"client", "proxy", "connect", "init", "setup", "migrate", "migrations", "seed", "backup", "cli", "web", "api"}

// guessKind gives a service's kind from its image, then from the tag of a
// monorepo image (ghcr.io/open-telemetry/demo:2.0.2-kafka), then from its
// name.
func guessKind(name, image string) model.Kind {
	if adminImage(image) {
		return model.KindMonitoring
	}
	if k, ok := importer.KindFromImage(image); ok && !hasRoleWord(imageBase(image)) {
		return k
	}
	var candidates []string
	if i := strings.LastIndexByte(image, ':'); i >= 0 && !strings.Contains(image[i:], "/") {
		tag := image[i+1:]
		if j := strings.IndexByte(tag, '-'); j > 0 && versionLike(tag[:j]) {
			candidates = append(candidates, tag[j+1:])
		}
	}
	candidates = append(candidates, name)
	for _, n := range candidates {
		if importer.IsTelemetryOrAdmin(n) {
			return model.KindMonitoring
		}
		if hasRoleWord(n) {
			continue
		}
		if k, ok := importer.KindFromImage(n); ok {
			return k
		}
		// catalogue-db, user-db (the Sock Shop's own database images).
		if slices.ContainsFunc(nameWords(n), func(w string) bool { return w == "db" || w == "database" }) {
			return model.KindDatabase
		}
	}
	return model.KindService
}

// adminImages are images of telemetry and admin UIs that
// importer.KindFromImage does not know, by their last path element or
// their whole repository: a call to them, or a route through them, is not
// what users need.
var adminImages = []string{"logflare", "studio", "mongo-express", "pgadmin4", "dozzle", "cadvisor", "netdata",
	"kafdrop", "temporalio/web", "temporalio/ui"}

func adminImage(image string) bool {
	base := strings.ToLower(imageBase(image))
	repo := strings.ToLower(image)
	if i := strings.IndexAny(repo, ":@"); i >= 0 && !strings.Contains(repo[i:], "/") {
		repo = repo[:i]
	}
	return slices.ContainsFunc(adminImages, func(a string) bool {
		return base == a || strings.HasSuffix(repo, "/"+a) || repo == a
	})
}

// hasRoleWord reports whether a name holds one of kindHints.
func hasRoleWord(name string) bool {
	return slices.ContainsFunc(nameWords(name), func(w string) bool { return slices.Contains(kindHints, w) })
}

func nameWords(name string) []string {
	return strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return r == '-' || r == '_' || r == '.' })
}

// imageBase is an image's last path element without tag or digest.
func imageBase(image string) string {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndexByte(image, '/'); i >= 0 {
		image = image[i+1:]
	}
	if i := strings.IndexByte(image, ':'); i >= 0 {
		image = image[:i]
	}
	return image
}

var versionRe = regexp.MustCompile(`^v?[0-9]+(\.[0-9]+)*$|^latest$|^main$|^dev$`)

func versionLike(s string) bool { return versionRe.MatchString(s) }

// edges gathers what a service needs: addresses in its environment and
// command, links, network_mode and depends_on.
func (s *importState) edges(name string, svc types.ServiceConfig, jobs map[string]bool) *edgeSet {
	set := &edgeSet{}
	linkAlias := map[string]string{}
	for _, l := range svc.Links {
		target, alias, _ := strings.Cut(l, ":")
		if alias != "" {
			linkAlias[strings.ToLower(alias)] = target
		}
	}
	resolve := func(host string) (string, bool) {
		host = strings.ToLower(host)
		if t, ok := linkAlias[host]; ok {
			return t, true
		}
		if t, ok := s.hosts[host]; ok {
			return t, true
		}
		// db.shop_default, cart.local: the first label may name a service
		// on a network with a domain.
		if h, _, ok := strings.Cut(host, "."); ok {
			if t, ok := s.hosts[h]; ok && !strings.Contains(host, "..") && !isPublicSuffix(host) {
				return t, true
			}
		}
		return "", false
	}
	for _, key := range sortedKeys(svc.Environment) {
		v := svc.Environment[key]
		if v == nil || *v == "" {
			continue
		}
		at := s.pos.entry(name, "environment", key)
		refs := importer.FindRefs(*v)
		addressVar := importer.IsAddressVar(key)
		if len(refs) == 0 && addressVar {
			for _, tok := range strings.FieldsFunc(*v, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
				if bareHostRe.MatchString(tok) && !versionLike(tok) {
					refs = append(refs, importer.Ref{Host: tok})
				}
			}
		}
		// Connection strings: Host=db;Port=5432, Server=tcp:db,1433.
		for _, m := range connStringRe.FindAllStringSubmatch(*v, -1) {
			refs = append(refs, importer.Ref{Host: m[1]})
		}
		for _, r := range refs {
			if t, ok := resolve(r.Host); ok {
				set.add(t, true, at)
			} else if addressVar && !strings.Contains(r.Host, ".") && !isLocalName(r.Host) {
				// A name the project does not deploy: Finish reports it.
				set.add(importer.Name(r.Host), true, at)
			}
		}
	}
	for _, attr := range []struct {
		key  string
		args []string
	}{{"entrypoint", svc.Entrypoint}, {"command", svc.Command}} {
		for _, r := range importer.FindRefs(strings.Join(attr.args, " ")) {
			if t, ok := resolve(r.Host); ok {
				set.add(t, true, s.pos.entry(name, attr.key, ""))
			}
		}
	}
	for _, l := range svc.Links {
		target, _, _ := strings.Cut(l, ":")
		set.add(target, true, s.pos.entry(name, "links", target))
	}
	if t, ok := strings.CutPrefix(svc.NetworkMode, "service:"); ok {
		set.add(t, true, s.pos.entry(name, "network_mode", ""))
	}
	for _, t := range sortedKeys(svc.DependsOn) {
		dep := svc.DependsOn[t]
		at := s.pos.entry(name, "depends_on", t)
		if t = s.dependsOnTarget(name, t, at); t == "" {
			continue
		}
		if off, ok := s.project.DisabledServices[t]; ok {
			s.b.Note(importer.Note{Pos: at, Kind: NoteProfileOff, Subject: importer.Name(name),
				Msg:  fmt.Sprintf("depends on %s, which is left out (profile %s is not enabled)", t, strings.Join(off.Profiles, ", ")),
				Hint: "enable the profile (Options.Profiles) to import it"})
			continue
		}
		switch {
		case dep.Condition == types.ServiceConditionCompletedSuccessfully:
			jobs[t] = true
			set.add(t, false, at)
		case !dep.Required:
			set.add(t, false, at)
		default:
			// Waiting for a stateful service is for using it: its
			// address is most often in the image, not the file. A
			// reverse proxy (nginx, traefik, envoy ...) waits for its
			// upstreams: their addresses are in its configuration
			// file, which compose does not show.
			set.add(t, s.kinds[t].Stateful() || s.kinds[name] == model.KindLoadBalancer, at)
		}
	}
	return set
}

// dependsOnTarget returns the service a depends_on entry names. An entry
// that names no service but one of another case ("backend" for
// "Backend", as in awesome-compose's react-express-mongodb) is taken for
// it, with a note: docker compose refuses it, but the intent is plain. ""
// when it names a service left out (ignored or scaled to 0) or nothing.
func (s *importState) dependsOnTarget(from, t string, at model.Pos) string {
	if _, ok := s.project.Services[t]; ok {
		return t
	}
	if _, ok := s.project.DisabledServices[t]; ok {
		return t
	}
	for _, n := range sortedKeys(s.project.Services) {
		if strings.EqualFold(n, t) {
			s.b.Note(importer.Note{Pos: at, Kind: importer.NoteAssumption, Subject: importer.Name(from),
				Msg:  fmt.Sprintf("depends_on names %s, which is no service (docker compose refuses it): taken as %s", t, n),
				Hint: "write the service name as it is declared"})
			return n
		}
	}
	return t
}

var connStringRe = regexp.MustCompile(`(?i)(?:^|;)\s*(?:host|server|data source|address)\s*=\s*(?:tcp:)?([a-zA-Z0-9][a-zA-Z0-9_.-]*)`)

var bareHostRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

func isLocalName(h string) bool {
	switch strings.ToLower(h) {
	case "localhost", "0.0.0.0", "host.docker.internal", "true", "false", "none", "null", "stdout", "stderr":
		return true
	}
	return false
}

// isPublicSuffix reports whether a dotted host looks like an internet name
// (api.stripe.com), not a service on a network with a domain.
func isPublicSuffix(host string) bool {
	i := strings.LastIndexByte(host, '.')
	switch host[i+1:] {
	case "com", "net", "org", "io", "dev", "app", "cloud", "co", "ai":
		return true
	}
	return false
}

// addEdges adds a service's edges to the builder, each running one to a
// telemetry, admin, load-generating or feature-flag service marked as
// degrading only.
func (s *importState) addEdges(name string, set *edgeSet) {
	from := s.names[name]
	// In the order the file gives them, whatever source each came from.
	slices.SortStableFunc(set.order, func(a, b string) int {
		pa, pb := set.byTo[a].pos, set.byTo[b].pos
		if pa.File != pb.File {
			return strings.Compare(pa.File, pb.File)
		}
		if pa.Line != pb.Line {
			return pa.Line - pb.Line
		}
		return pa.Col - pb.Col
	})
	for _, to := range set.order {
		e := set.byTo[to]
		if s.ignored[to] {
			continue
		}
		target, ok := s.names[to]
		if !ok {
			target = to // dangling: Finish reports it
		}
		me := &model.Edge{From: from, To: target, Pos: e.pos}
		if !e.running {
			me.When = model.WhenStartup
		} else if ok {
			me.Fallback = optionalCall(target, s.kinds[to], s.project.Services[to].Image)
		}
		s.b.Edge(me)
	}
}

// optionalCall says what a caller does without a service whose loss does
// not stop it, or "".
func optionalCall(name string, kind model.Kind, image string) string {
	switch {
	case importer.IsLoadGenerator(name) || importer.IsLoadGenerator(imageBase(image)):
		return "a load generator: only the route to it is lost"
	case kind == model.KindMonitoring || importer.IsTelemetryOrAdmin(name):
		return "telemetry or an admin UI: only its data or its route is lost"
	case kind == model.KindConfig && isFeatureFlags(name, image):
		return "feature flags evaluate to their default values"
	}
	return ""
}

func isFeatureFlags(name, image string) bool {
	for _, n := range []string{name, image} {
		n = strings.ToLower(n)
		for _, f := range []string{"flagd", "unleash", "flipt", "go-feature-flag", "growthbook"} {
			if strings.Contains(n, f) {
				return true
			}
		}
	}
	return false
}

// ports records what a service serves and its published ports as an
// entry point. A database, cache, queue or storage service's published
// port is for developers' tools, not users: it gives no entry. published
// reports whether the service publishes a port on the host.
func (s *importState) ports(name string, svc types.ServiceConfig, set *edgeSet) (published bool) {
	cname := s.names[name]
	// A database, cache, queue or storage image serves its port whether
	// or not the file lists it (the image EXPOSEs it): the voting app's db
	// lists none, and the result app reaches it all the same. A replica
	// of another store is left alone: nothing says anyone reads from it.
	serves := len(svc.Ports) > 0 || len(svc.Expose) > 0
	if s.kinds[name].Stateful() {
		serves = serves || !s.replica(name, set)
	} else {
		serves = serves || s.server(name, svc)
	}
	if serves {
		s.b.ServesPort(cname)
	}
	var pub []string
	for _, p := range svc.Ports {
		if p.Published != "" {
			pub = append(pub, fmt.Sprintf("%s→%d/%s", p.Published, p.Target, cmpOr(p.Protocol, "tcp")))
		}
	}
	if len(pub) == 0 {
		return false
	}
	if s.kinds[name].Stateful() {
		return true
	}
	crit := model.CriticalityNone
	if s.kinds[name] == model.KindMonitoring {
		crit = model.Low
	}
	s.b.Entry(importer.Entry{Component: cname, Pos: s.pos.publishedPort(name), Criticality: crit,
		Description: "published port " + strings.Join(pub, ", ")})
	return true
}

// jobWords in a service's name say it does not serve requests: it runs
// once, or works in the background, or is a tool.
var jobWords = []string{"init", "setup", "migrate", "migration", "migrations", "seed", "seeder", "backup", "cli",
	"tools", "exporter", "cron", "scheduler", "worker", "workers", "consumer", "producer", "beat", "bootstrap",
	"certbot", "watchtower", "agent", "sim", "simulator", "test", "tests"}

// server reports whether a stateless service is taken to serve requests on
// the compose network though the file lists no port: containers reach one
// another on any port, so compose files seldom list the ones they serve
// (none in the Sock Shop, whose front-end, carts and orders all serve).
// Telemetry and admin UIs, services that mount the Docker socket (agents
// and controllers), services that are not restarted (jobs), and names
// that say job, tool or worker are not.
func (s *importState) server(name string, svc types.ServiceConfig) bool {
	switch {
	case s.kinds[name] == model.KindMonitoring, importer.IsTelemetryOrAdmin(name),
		svc.Restart == types.RestartPolicyNo, mountsDockerSocket(svc):
		return false
	}
	for _, n := range []string{name, imageBase(svc.Image)} {
		if slices.ContainsFunc(nameWords(n), func(w string) bool { return slices.Contains(jobWords, w) }) {
			return false
		}
	}
	return !slices.Contains(toolImages, strings.ToLower(imageBase(svc.Image)))
}

// toolImages run a script or a command and stop, or sleep: a minio/mc
// createbuckets job, a busybox sidecar, a flyway migration.
var toolImages = []string{"mc", "curl", "busybox", "alpine", "aws-cli", "awscli", "kubectl", "flyway", "liquibase",
	"migrate", "psql", "mysql-client", "jq", "bash", "ubuntu", "debian"}

// mountsDockerSocket reports whether a service drives the Docker daemon
// (portainer, watchtower, the Sock Shop's queue-master).
func mountsDockerSocket(svc types.ServiceConfig) bool {
	return slices.ContainsFunc(svc.Volumes, func(v types.ServiceVolumeConfig) bool {
		return strings.HasSuffix(v.Source, "docker.sock") || strings.HasSuffix(v.Target, "docker.sock")
	})
}

// replicaWords in a store's name say it follows another one.
var replicaWords = []string{"replica", "slave", "secondary", "standby", "follower", "reader", "backup"}

// replica reports whether a stateful service follows another store: its
// name says so, or it needs a service of its own kind (POSTGRES_MASTER_HOST:
// db on a postgres replica).
func (s *importState) replica(name string, set *edgeSet) bool {
	if slices.ContainsFunc(nameWords(name), func(w string) bool { return slices.Contains(replicaWords, w) }) {
		return true
	}
	for _, to := range set.order {
		if set.byTo[to].running && s.kinds[to] == s.kinds[name] {
			return true
		}
	}
	return false
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// workerWords in a service's name say it works in the background.
var workerWords = []string{"worker", "workers", "consumer", "processor", "scheduler", "cron", "beat", "celery", "sidekiq", "jobs"}

// worker marks a background worker: a service that publishes no port and
// that nothing calls or waits for, and that consumes from a queue or says
// so in its name.
func (s *importState) worker(name string, svc types.ServiceConfig, set *edgeSet, reached bool) {
	if reached {
		return
	}
	var queues []string
	for _, to := range set.order {
		if e := set.byTo[to]; e.running && s.kinds[to] == model.KindQueue {
			queues = append(queues, s.names[to])
		}
	}
	if len(queues) > 0 {
		s.b.Worker(s.names[name], "consume from "+strings.Join(queues, ", "))
		return
	}
	if slices.ContainsFunc(nameWords(name), func(w string) bool { return slices.Contains(workerWords, w) }) {
		s.b.Worker(s.names[name], "background work of "+s.names[name])
		return
	}
	if mountsDockerSocket(svc) {
		s.b.Worker(s.names[name], "background work of "+s.names[name]+" (it drives Docker through its socket)")
	}
}

// state reports state that does not survive: a database, queue or storage
// service without a volume for its data, and a stateful service that is
// not restarted after a crash.
func (s *importState) state(name string, svc types.ServiceConfig) {
	kind, cname := s.kinds[name], s.names[name]
	if !kind.Stateful() {
		return
	}
	if kind != model.KindCache && !persistent(svc.Volumes) {
		s.b.Note(importer.Note{Pos: s.pos.service(name), Kind: importer.NoteDataLoss, Subject: cname,
			Msg:  fmt.Sprintf("a %s with no volume for its data: the data is lost when the container is removed", kind),
			Hint: "mount a named volume on its data directory"})
	}
	if svc.Restart == types.RestartPolicyNo {
		s.b.Note(importer.Note{Pos: s.pos.entry(name, "restart", ""), Kind: NoteNoRestart, Subject: cname,
			Msg:  `restart: "no": after a crash it stays down until someone starts it`,
			Hint: "use restart: unless-stopped"})
	}
}

// persistent reports whether one of a service's mounts keeps data: a
// volume, or a bind mount on a data directory (not a config file or an
// init script).
func persistent(vols []types.ServiceVolumeConfig) bool {
	for _, v := range vols {
		t := v.Target
		if strings.HasPrefix(t, "/etc/") || strings.HasPrefix(t, "/docker-entrypoint-initdb.d") || strings.HasPrefix(t, "/healthchecks") {
			continue
		}
		switch v.Type {
		case types.VolumeTypeVolume:
			return true
		case types.VolumeTypeBind:
			if strings.Contains(t, "data") || strings.HasPrefix(t, "/var/lib/") || strings.HasPrefix(t, "/bitnami") {
				return true
			}
		}
	}
	return false
}

func countNoun(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
