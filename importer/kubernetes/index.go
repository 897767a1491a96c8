package kubernetes

import (
	"strings"

	"github.com/spofhq/spof/model"
)

// A workload is anything that runs pods: Deployment, StatefulSet,
// DaemonSet, ReplicaSet, Pod, Job, CronJob.
type workload struct {
	obj      *object
	replicas int  // from spec.replicas; 1 when missing
	zero     bool // spec.replicas: 0
	template objectMeta
	pod      podSpec
	claims   bool   // a StatefulSet's volumeClaimTemplates
	schedule string // a CronJob's
	comp     string // the component's name
	ignored  bool   // spof.dev/ignore
	served   bool   // some Service selects it
	group    *group // the workloads one Service balances over, when several
}

func (w *workload) name() string { return w.obj.Meta.Name }
func (w *workload) ns() string   { return w.obj.Meta.Namespace }

// annotations merges the spof.dev/ labels, the workload's annotations and
// its pod template's, later ones winning.
func (w *workload) annotations() map[string]string {
	out := map[string]string{}
	for _, m := range []map[string]string{w.obj.Meta.Labels, w.template.Labels, w.obj.Meta.Annotations, w.template.Annotations} {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// mainContainer is the first container: by convention the workload's own,
// sidecars coming after it.
func (w *workload) mainContainer() *container {
	if len(w.pod.Containers) == 0 {
		return nil
	}
	return &w.pod.Containers[0]
}

type service struct {
	obj      *object
	spec     serviceSpec
	targets  []*workload
	external string // the component of an ExternalName or selectorless Service, once referenced
}

type nsName struct{ ns, name string }

type unknownKind struct {
	kind  string
	count int
	pos   model.Pos
}

// index holds the decoded objects by kind.
type index struct {
	workloads  []*workload
	services   map[nsName]*service
	svcOrder   []*service
	ingresses  []*object
	ingress    map[*object]*ingressSpec
	pdbs       []*object
	pdb        map[*object]*pdbSpec
	hpas       []*object
	hpa        map[*object]*hpaSpec
	routes     []*object
	route      map[*object]*routeSpec
	configMaps map[nsName]map[string]posString
	secrets    map[nsName]map[string]posString
	namespaces map[string]bool
	unknown    []*unknownKind
	comps      map[string]bool        // component names taken
	flagd      map[string]bool        // components running flagd
	byLabel    map[string][]*workload // ns\x00key=value → live workloads with that pod label
	entries    int
}

func newIndex(objs []*object) (*index, error) {
	ix := &index{services: map[nsName]*service{}, ingress: map[*object]*ingressSpec{}, pdb: map[*object]*pdbSpec{},
		hpa: map[*object]*hpaSpec{}, route: map[*object]*routeSpec{}, configMaps: map[nsName]map[string]posString{}, secrets: map[nsName]map[string]posString{},
		namespaces: map[string]bool{}, comps: map[string]bool{}, flagd: map[string]bool{}}
	present := map[string]bool{} // Kind/ns/name
	for _, o := range objs {
		present[o.Kind+"/"+o.Meta.Namespace+"/"+o.Meta.Name] = true
		ix.namespaces[o.Meta.Namespace] = true
		if o.Kind == "Namespace" {
			ix.namespaces[o.Meta.Name] = true
		}
	}
	unknown := map[string]*unknownKind{}
	var errs model.ErrorList
	fail := func(err error) { errs = append(errs, flatten(err)...) }
	for _, o := range objs {
		key := nsName{o.Meta.Namespace, o.Meta.Name}
		switch o.Kind {
		case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod":
			if ownedInInput(o, present) {
				continue // its owner stands for it
			}
			if o.prep.err != nil {
				fail(o.prep.err)
				continue
			}
			ix.workloads = append(ix.workloads, o.prep.workload)
		case "Service":
			if o.prep.err != nil {
				fail(o.prep.err)
				continue
			}
			s := &service{obj: o, spec: *o.prep.service}
			if ix.services[key] == nil {
				ix.svcOrder = append(ix.svcOrder, s)
			}
			ix.services[key] = s
		case "Ingress":
			if o.prep.err != nil {
				fail(o.prep.err)
				continue
			}
			ix.ingresses = append(ix.ingresses, o)
			ix.ingress[o] = o.prep.ingress
		case "PodDisruptionBudget":
			if o.prep.err != nil {
				fail(o.prep.err)
				continue
			}
			ix.pdbs = append(ix.pdbs, o)
			ix.pdb[o] = o.prep.pdb
		case "HorizontalPodAutoscaler":
			if o.prep.err != nil {
				fail(o.prep.err)
				continue
			}
			ix.hpas = append(ix.hpas, o)
			ix.hpa[o] = o.prep.hpa
		case "ConfigMap", "Secret":
			if o.prep.err != nil {
				fail(o.prep.err)
				continue
			}
			if o.Kind == "ConfigMap" {
				ix.configMaps[key] = o.prep.data
			} else {
				ix.secrets[key] = o.prep.data
			}
		case "List":
			// an empty List
		case "HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute", "VirtualService":
			if o.prep.route != nil {
				ix.routes = append(ix.routes, o)
				ix.route[o] = o.prep.route
				continue
			}
			fallthrough // another API's kind of that name, or one it cannot read
		default:
			u := unknown[o.Kind]
			if u == nil {
				u = &unknownKind{kind: o.Kind, pos: o.Pos}
				unknown[o.Kind] = u
				ix.unknown = append(ix.unknown, u)
			}
			u.count++
		}
	}
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return ix, nil
}

// isRoute reports whether o is a route of the Gateway API or Istio.
func isRoute(o *object) bool {
	if o.Kind == "VirtualService" {
		return strings.HasPrefix(o.APIVersion, "networking.istio.io/")
	}
	return strings.HasPrefix(o.APIVersion, "gateway.networking.k8s.io/")
}

// ownedInInput reports whether an owner of o (a Deployment of a
// ReplicaSet, a ReplicaSet of a Pod, a CronJob of a Job) is in the input.
func ownedInInput(o *object, present map[string]bool) bool {
	for _, r := range o.Meta.OwnerReferences {
		if present[r.Kind+"/"+o.Meta.Namespace+"/"+r.Name] {
			return true
		}
	}
	return false
}

func newWorkload(o *object) (*workload, error) {
	w := &workload{obj: o, replicas: 1}
	if o.Kind == "Pod" {
		var holder struct {
			Metadata objectMeta `yaml:"metadata"`
		}
		if err := o.node.Decode(&holder); err != nil {
			return nil, o.wrap(err)
		}
		w.template = holder.Metadata
		return w, o.decodeSpec(&w.pod)
	}
	var spec workloadSpec
	if err := o.decodeSpec(&spec); err != nil {
		return nil, err
	}
	w.template, w.pod = spec.Template.Metadata, spec.Template.Spec
	if spec.JobTemplate != nil {
		w.template, w.pod = spec.JobTemplate.Spec.Template.Metadata, spec.JobTemplate.Spec.Template.Spec
	}
	w.schedule = spec.Schedule
	w.claims = len(spec.VolumeClaimTemplates) > 0
	switch o.Kind {
	case "Deployment", "StatefulSet", "ReplicaSet":
		if spec.Replicas != nil {
			w.replicas = *spec.Replicas
		}
		if w.replicas < 0 {
			return nil, &model.Error{Pos: o.Pos, Path: o.subject(), Msg: "spec.replicas is negative"}
		}
		if w.replicas == 0 {
			w.replicas, w.zero = 1, true
		}
	}
	return w, nil
}

// selects reports whether a label selector selects a pod with labels.
// An empty selector selects nothing here: a Service without a selector
// has its endpoints managed elsewhere.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if lv, ok := labels[k]; !ok || lv != v {
			return false
		}
	}
	return true
}
