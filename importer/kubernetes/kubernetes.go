// Package kubernetes imports a spof model from Kubernetes manifests: YAML
// or JSON streams, files and directories, and the rendered output of Helm
// (helm template) or kustomize (kustomize build). It reads the manifests
// with its own structs for the kinds that say what can fail, and no
// cluster.
//
// What it reads, and how it models it:
//
//   - Deployment, StatefulSet, DaemonSet, ReplicaSet (unless a Deployment of
//     the input owns it), bare Pods, Jobs and CronJobs are components named
//     after the workload (qualified as name.namespace only when two
//     namespaces hold the same name). spec.replicas defaults to 1; a
//     HorizontalPodAutoscaler's minReplicas raises it; a
//     PodDisruptionBudget's minAvailable, when below the replicas, becomes
//     min_healthy. A DaemonSet runs a pod per node: it is modelled as 3
//     replicas over 3 zones.
//   - The kind comes from the first container's image
//     (importer.KindFromImage), the image's tag when it names a store
//     (demo:1.2-kafka), the workload's name (catalogue-db), else the
//     store port it listens on (27017); role words (exporter, ui, backup)
//     stop a guess.
//   - A Service (not headless) that balances over several stateless
//     workloads of one application (Bookinfo's reviews-v1, -v2, -v3; a
//     canary) makes them one component named after the Service, with the
//     sum of their replicas.
//   - Zones: a topologySpreadConstraint or a podAntiAffinity term on
//     topology.kubernetes.io/zone spreads the replicas over zones named
//     zone-1, zone-2, zone-3 (one per replica, at most 3), which every
//     spread workload shares, so that the loss of a zone takes one replica
//     of each. A nodeSelector on the zone label pins the workload there.
//     Without either, a workload with several replicas gets a
//     zone-spread-unknown note.
//   - Failover: a stateful kind (database, cache, queue, storage) keeps the
//     model's default (none: its primary is needed) unless a replicated
//     setup is evident: a sentinel or patroni-like container or image, a
//     natively clustered store (kafka, cassandra, etcd ...) with several
//     replicas, a MongoDB started with --replSet; read replicas
//     (redis-replica, role: slave) serve from any one. spof.dev/failover
//     says otherwise.
//   - Services select workloads by label: a reference to a Service (X,
//     X.ns, X.ns.svc, X.ns.svc.cluster.local, pod-0.X) is an edge to each
//     workload it selects. References are env values (and $(VAR)
//     expansions), ConfigMap and Secret values read through envFrom or
//     configMapKeyRef/secretKeyRef, command and args: URLs and host:port,
//     and bare host names in *_HOST/*_ADDR/*_URL variables or
//     --x-host=... flags; for telemetry pipelines (an OpenTelemetry
//     collector, fluentd ...), the ConfigMaps they mount. References from init containers are start-up
//     needs (when: startup). A call to a telemetry or admin component has
//     a fallback (its loss loses telemetry or a route, not the caller); so
//     has a call to flagd (flags evaluate to their defaults). Calls to a
//     load generator (a proxy's route to its UI) are left out. An edge
//     that closes a cycle is left out with a note. An ExternalName
//     Service, or one without a selector, is an external component.
//   - Entry points: LoadBalancer and NodePort Services, Ingress
//     backends, the backends of Gateway API routes attached to a Gateway
//     and of Istio VirtualServices bound to a gateway. Without any, what a load generator calls is taken as what
//     users reach. Every workload a Service selects serves a port.
//   - Workers: Jobs, CronJobs, and workloads no Service selects that call a
//     queue (consumers).
//   - spof.dev/* annotations (and labels) of the workload or its pod
//     template apply (importer.Builder.Annotate); spof.dev/ignore: "true"
//     leaves the workload out.
//   - Notes: emptyDir (or no volume at all) holding the data of a stateful
//     single pod is a data-loss note (an emptyDir on /tmp is scratch);
//     every other kind is listed in one unknown-resource note per kind,
//     with its count, but the kinds that only configure (ServiceAccount,
//     Role, StorageClass ...) share one note.
package kubernetes

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

// Options steer Import.
type Options struct {
	// Namespace of the objects that name none, as kubectl apply -n would
	// place them; "" means "default".
	Namespace string
	// Stdin is read for the path "-" (helm template ... | spof import
	// kubernetes -); nil means os.Stdin.
	Stdin io.Reader
}

// Import reads the manifests at paths (files, or directories searched
// recursively for *.yaml, *.yml and *.json; "-" for Stdin) and adds what
// they deploy to b. Malformed input is a model.ErrorList, every error with
// file:line:col and a hint, and then nothing is added to b.
func Import(b *importer.Builder, paths []string, opts Options) error {
	var inputs []input
	var errs model.ErrorList
	for _, p := range paths {
		in, err := readPath(b, p, opts)
		if err != nil {
			errs = append(errs, flatten(err)...)
			continue
		}
		inputs = append(inputs, in...)
	}
	if len(errs) > 0 {
		errs.Sort()
		return errs
	}
	return importInputs(b, inputs, opts)
}

// An input is one file's content and the name positions give it.
type input struct {
	file string
	data []byte
}

func readPath(b *importer.Builder, p string, opts Options) ([]input, error) {
	if p == "-" {
		r := opts.Stdin
		if r == nil {
			r = os.Stdin
		}
		data, err := b.ReadAll(r)
		if err != nil {
			return nil, &model.Error{Pos: model.Pos{File: "-"}, Msg: "reading standard input: " + err.Error()}
		}
		return []input{{file: "-", data: data}}, nil
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, &model.Error{Pos: model.Pos{File: p}, Msg: unwrapPathError(err), Hint: "give manifest files or directories holding them"}
	}
	if !st.IsDir() {
		data, err := b.ReadFile(p)
		if err != nil {
			return nil, &model.Error{Pos: model.Pos{File: p}, Msg: unwrapPathError(err)}
		}
		return []input{{file: p, data: data}}, nil
	}
	var out []input
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != p && strings.HasPrefix(name, ".") {
				return filepath.SkipDir // .git, .github
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(name)) {
		case ".yaml", ".yml", ".json":
		default:
			return nil
		}
		if name == "kustomization.yaml" || name == "kustomization.yml" || name == "Chart.yaml" ||
			strings.HasPrefix(name, "values") && filepath.Base(filepath.Dir(path)) != "templates" {
			return nil // not manifests: the inputs of kustomize and Helm
		}
		data, err := b.ReadFile(path)
		if err != nil {
			return err
		}
		out = append(out, input{file: path, data: data})
		return nil
	})
	if err != nil {
		// Name the file that failed (WalkDir's errors carry it), not the
		// directory.
		file := p
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path != "" {
			file = pe.Path
		}
		return nil, &model.Error{Pos: model.Pos{File: file}, Msg: unwrapPathError(err)}
	}
	if len(out) == 0 {
		return nil, &model.Error{Pos: model.Pos{File: p}, Msg: "no *.yaml, *.yml or *.json file in this directory",
			Hint: "render Helm charts (helm template) or kustomizations (kustomize build) into a file first"}
	}
	return out, nil
}

func unwrapPathError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// importInputs parses every input first, so that malformed input adds
// nothing to b, then builds the model.
func importInputs(b *importer.Builder, inputs []input, opts Options) error {
	var objs []*object
	var errs model.ErrorList
	for _, in := range inputs {
		o, err := parseStream(in.file, in.data)
		if err != nil {
			errs = append(errs, flatten(err)...)
			continue
		}
		objs = append(objs, o...)
	}
	if len(errs) > 0 {
		errs.Sort()
		return errs
	}
	ns := cmp.Or(opts.Namespace, "default")
	for _, o := range objs {
		if o.Meta.Namespace == "" {
			o.Meta.Namespace = ns
		}
	}
	ix, err := newIndex(objs)
	if err != nil {
		return err
	}
	if err := ix.checkAnnotations(); err != nil {
		return err
	}
	for _, in := range inputs {
		b.Source(in.file)
	}
	return ix.build(b)
}

// noteUnknown lists, once per kind, the objects Import does not model, in
// the order their kinds first appear. Kinds that only configure what
// runs (ServiceAccount, Role, StorageClass ...) share one note: they
// cannot fail by themselves, and a line each would bury the rest.
func (ix *index) noteUnknown(b *importer.Builder) {
	var inert []string
	var first model.Pos
	for _, u := range ix.unknown {
		if configOnly[u.kind] {
			if len(inert) == 0 {
				first = u.pos
			}
			inert = append(inert, fmt.Sprintf("%s ×%d", u.kind, u.count))
			continue
		}
		b.Note(importer.Note{Pos: u.pos, Kind: importer.NoteUnknownResource,
			Msg:  fmt.Sprintf("%s ×%d not modelled", u.kind, u.count),
			Hint: "if it can fail, add what it stands for to the model by hand (--merge)"})
	}
	if len(inert) > 0 {
		b.Note(importer.Note{Pos: first, Kind: importer.NoteUnknownResource,
			Msg: "configuration only, not modelled: " + strings.Join(inert, ", ")})
	}
}

// configOnly are the kinds that configure what runs and cannot fail by
// themselves. Webhooks, API services, certificates and gateways can, and
// are listed one by one.
var configOnly = map[string]bool{
	"ServiceAccount": true, "Role": true, "ClusterRole": true, "RoleBinding": true, "ClusterRoleBinding": true,
	"Namespace": true, "StorageClass": true, "PersistentVolumeClaim": true, "PersistentVolume": true,
	"PriorityClass": true, "LimitRange": true, "ResourceQuota": true, "NetworkPolicy": true,
	"PodSecurityPolicy": true, "Endpoints": true, "EndpointSlice": true, "CustomResourceDefinition": true,
	"ServiceMonitor": true, "PodMonitor": true, "PrometheusRule": true,
	"DestinationRule": true, "PeerAuthentication": true, "AuthorizationPolicy": true, "RequestAuthentication": true,
	"Sidecar": true, "Telemetry": true, "ReferenceGrant": true,
}

// checkAnnotations applies every workload's spof.dev/ annotations to a
// scratch builder first, so that a bad one fails the import before
// anything is added.
func (ix *index) checkAnnotations() error {
	scratch := importer.NewBuilder("check")
	var errs model.ErrorList
	for i, w := range ix.workloads {
		ann := w.annotations()
		if importer.Ignored(ann) {
			continue
		}
		name := fmt.Sprintf("w%d", i)
		scratch.Component(name, model.KindService, w.obj.Pos)
		if err := scratch.Annotate(name, ann, w.obj.Pos); err != nil {
			errs = append(errs, flatten(err)...)
		}
	}
	if len(errs) > 0 {
		errs.Sort()
		return errs
	}
	return nil
}
