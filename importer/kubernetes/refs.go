package kubernetes

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

// edges adds the edges w's containers show: references to Services in env
// values, the ConfigMaps and Secrets they read, command and args.
func (ix *index) edges(b *importer.Builder, w *workload) {
	for i := range w.pod.Containers {
		ix.containerEdges(b, w, &w.pod.Containers[i], model.WhenRunning)
	}
	for i := range w.pod.InitContainers {
		ix.containerEdges(b, w, &w.pod.InitContainers[i], model.WhenStartup)
	}
	if pipeline(w) {
		ix.mountedConfigEdges(b, w)
	}
}

// pipelines are telemetry collectors: their configuration, mounted from a
// ConfigMap, names the backends they export to (the OpenTelemetry demo's
// collector sends to jaeger, prometheus and opensearch). Other
// workloads' mounted files are not read: a Prometheus configuration names
// every service it scrapes, which it does not need.
var pipelines = []string{"otel-collector", "otelcol", "opentelemetry-collector", "fluentd", "fluent-bit", "vector", "logstash", "promtail", "alloy"}

func pipeline(w *workload) bool {
	for _, p := range pipelines {
		if m := w.mainContainer(); m != nil && strings.HasPrefix(imageBase(m.Image), p) || strings.HasPrefix(w.name(), p) {
			return true
		}
	}
	return false
}

// mountedConfigEdges adds an edge to each address (URL, host:port) in the
// ConfigMaps w's main container mounts.
func (ix *index) mountedConfigEdges(b *importer.Builder, w *workload) {
	main := w.mainContainer()
	if main == nil {
		return
	}
	mounted := map[string]bool{}
	for _, m := range main.VolumeMounts {
		mounted[m.Name] = true
	}
	for _, v := range w.pod.Volumes {
		if v.ConfigMap == nil || !mounted[v.Name] {
			continue
		}
		data := ix.configMaps[nsName{w.ns(), v.ConfigMap.Name}]
		keys := slices.Sorted(maps.Keys(data))
		for _, k := range keys {
			val := data[k]
			for _, line := range strings.Split(val.Value, "\n") {
				for _, f := range strings.Fields(line) {
					ix.refEdges(b, w, "", strings.Trim(f, `'",`), model.Pos{File: val.File, Line: val.Line, Col: val.Col}, model.WhenRunning)
				}
			}
		}
	}
}

func (ix *index) containerEdges(b *importer.Builder, w *workload, c *container, when model.When) {
	file := w.obj.Pos.File
	vars := map[string]string{}
	// envFrom first: env overrides it, as in Kubernetes.
	for _, ef := range c.EnvFrom {
		var data map[string]posString
		switch {
		case ef.ConfigMapRef != nil:
			data = ix.configMaps[nsName{w.ns(), ef.ConfigMapRef.Name}]
		case ef.SecretRef != nil:
			data = ix.secrets[nsName{w.ns(), ef.SecretRef.Name}]
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v := data[k]
			vars[ef.Prefix+k] = v.Value
			ix.refEdges(b, w, ef.Prefix+k, v.Value, model.Pos{File: v.File, Line: v.Line, Col: v.Col}, when)
		}
	}
	for _, e := range c.Env {
		val := e.Value
		if vf := e.ValueFrom; vf != nil {
			switch {
			case vf.ConfigMapKeyRef != nil:
				val = ix.configMaps[nsName{w.ns(), vf.ConfigMapKeyRef.Name}][vf.ConfigMapKeyRef.Key].Value
			case vf.SecretKeyRef != nil:
				val = ix.secrets[nsName{w.ns(), vf.SecretKeyRef.Name}][vf.SecretKeyRef.Key].Value
			}
		}
		val = expand(val, vars)
		vars[e.Name] = val
		ix.refEdges(b, w, e.Name, val, model.Pos{File: file, Line: e.Line, Col: e.Col}, when)
	}
	args := append(slices.Clone(c.Command), c.Args...)
	for i, a := range args {
		v := expand(a.Value, vars)
		pos := model.Pos{File: file, Line: a.Line, Col: a.Col}
		name, value, ok := strings.Cut(v, "=")
		if ok && strings.HasPrefix(name, "-") {
			ix.refEdges(b, w, flagVar(name), value, pos, when)
			continue
		}
		if strings.HasPrefix(v, "-") && i+1 < len(args) && !strings.HasPrefix(args[i+1].Value, "-") && importer.IsAddressVar(flagVar(v)) {
			next := args[i+1]
			ix.refEdges(b, w, flagVar(v), expand(next.Value, vars), model.Pos{File: file, Line: next.Line, Col: next.Col}, when)
			continue
		}
		ix.refEdges(b, w, "", v, pos, when)
	}
}

// flagVar turns a flag's name into an environment variable's, so that
// --redis-host reads as REDIS_HOST.
func flagVar(flag string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimLeft(flag, "-"), "-", "_"))
}

var varRe = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)`)

// expand replaces $(VAR) with the value of a variable defined before, as
// the kubelet does; $$ is a literal $, and unknown variables stay.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	return varRe.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		if v, ok := vars[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// keywordHostRe finds the host of keyword connection strings:
// "Host=postgresql;Username=otelu" (.NET), "host=db port=5432" (libpq),
// "Server=sql;Database=shop".
var keywordHostRe = regexp.MustCompile(`(?i)(^|[;\s])(?:host|hostname|server|address|data source)\s*=\s*([^;\s,:]+)`)

var bareHostRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

// refEdges adds an edge from w to what each address in value names. name
// is the variable holding it ("" for an argument).
func (ix *index) refEdges(b *importer.Builder, w *workload, name, value string, pos model.Pos, when model.When) {
	if value == "" {
		return
	}
	var hosts []string
	for _, r := range importer.FindRefs(value) {
		hosts = append(hosts, r.Host)
	}
	for _, m := range keywordHostRe.FindAllStringSubmatch(value, -1) {
		hosts = append(hosts, m[2])
	}
	if len(hosts) == 0 && name != "" && importer.IsAddressVar(name) {
		hosts = strings.Split(value, ",")
	}
	for _, h := range hosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if !bareHostRe.MatchString(h) || h == "localhost" {
			continue // ${SHELL_VAR}, *, an IP address's neighbours ...
		}
		targets, cluster := ix.resolve(b, h, w.ns(), 0)
		if !cluster {
			continue
		}
		for _, t := range targets {
			if importer.IsLoadGenerator(t) {
				continue // a route to its UI: nobody needs a load generator
			}
			e := &model.Edge{From: w.comp, To: t, When: when, Pos: pos}
			if b.Lookup(t) != nil {
				e.Fallback = ix.fallback(b, name, b.Lookup(t))
			}
			b.Edge(e)
		}
	}
}

// fallback says what a caller does without target when the call is one
// whose loss the caller survives: telemetry export, a route to an admin
// UI or a load generator, feature flags.
func (ix *index) fallback(b *importer.Builder, varName string, target *model.Component) string {
	switch {
	case strings.HasPrefix(varName, "OTEL_") || target.Kind == model.KindMonitoring:
		return "telemetry: lost while " + target.Name + " is down, the caller works on"
	case importer.IsTelemetryOrAdmin(target.Name):
		return "only the route to this admin UI is lost"
	case ix.flagd[target.Name]:
		return "feature flags evaluate to their defaults"
	}
	return ""
}

// resolve returns the components a host name reaches, and whether it is a
// cluster name at all (an in-cluster name that reaches nothing is a
// dangling reference; an outside host is not ours to model).
func (ix *index) resolve(b *importer.Builder, host, fromNS string, depth int) (targets []string, cluster bool) {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	h, local := strings.CutSuffix(h, ".cluster.local")
	h, svc := strings.CutSuffix(h, ".svc")
	inCluster := local || svc
	parts := strings.Split(h, ".")
	var key nsName
	switch len(parts) {
	case 1:
		key = nsName{fromNS, parts[0]}
	case 2:
		// svc.ns, or pod.svc of a StatefulSet's headless Service
		switch {
		case inCluster || ix.namespaces[parts[1]]:
			key = nsName{parts[1], parts[0]}
		case ix.services[nsName{fromNS, parts[1]}] != nil:
			key = nsName{fromNS, parts[1]}
		default:
			return nil, false
		}
	case 3:
		// pod.svc.ns
		if !inCluster && !ix.namespaces[parts[2]] {
			return nil, false
		}
		key = nsName{parts[2], parts[1]}
	default:
		return nil, false
	}
	s := ix.services[key]
	if s == nil {
		// A name nothing deploys: Finish reports the dangling edge.
		return []string{importer.Name(key.name)}, true
	}
	if s.spec.Type == "ExternalName" && depth < 4 {
		if t, ok := ix.resolve(b, s.spec.ExternalName, s.obj.Meta.Namespace, depth+1); ok {
			return t, true
		}
	}
	if len(s.targets) > 0 {
		for _, t := range s.targets {
			targets = append(targets, t.comp)
		}
		return targets, true
	}
	if len(s.spec.Selector) > 0 {
		if ix.selectsIgnored(s) {
			return nil, true
		}
		return []string{importer.Name(key.name)}, true // selects nothing deployed
	}
	return []string{ix.external(b, s)}, true
}

// selectsIgnored reports whether s selects only workloads the
// annotations leave out.
func (ix *index) selectsIgnored(s *service) bool {
	for _, w := range ix.workloads {
		if w.ignored && w.ns() == s.obj.Meta.Namespace && selects(s.spec.Selector, w.template.Labels) {
			return true
		}
	}
	return false
}

// external returns the component of an ExternalName or selectorless
// Service, adding it on first use.
func (ix *index) external(b *importer.Builder, s *service) string {
	if s.external != "" {
		return s.external
	}
	s.external = ix.unique(importer.Name(s.obj.Meta.Name))
	c := b.Component(s.external, model.KindExternal, s.obj.Pos)
	if s.spec.ExternalName != "" {
		c.Description = "ExternalName Service: " + s.spec.ExternalName
	} else {
		c.Description = "Service without selector: its endpoints are managed outside the manifests"
	}
	return s.external
}
