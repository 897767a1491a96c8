package kubernetes

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/spofhq/spof/model"
	"go.yaml.in/yaml/v3"
)

// The structs below hold the few fields of each kind that say what can
// fail; decoding ignores every other field.

type objectMeta struct {
	Name            string            `yaml:"name"`
	Namespace       string            `yaml:"namespace"`
	Labels          map[string]string `yaml:"labels"`
	Annotations     map[string]string `yaml:"annotations"`
	OwnerReferences []ownerRef        `yaml:"ownerReferences"`
}

type ownerRef struct {
	Kind string `yaml:"kind"`
	Name string `yaml:"name"`
}

type podTemplate struct {
	Metadata objectMeta `yaml:"metadata"`
	Spec     podSpec    `yaml:"spec"`
}

type podSpec struct {
	Containers                []container         `yaml:"containers"`
	InitContainers            []container         `yaml:"initContainers"`
	Volumes                   []volume            `yaml:"volumes"`
	Affinity                  *affinity           `yaml:"affinity"`
	TopologySpreadConstraints []topologyKeyHolder `yaml:"topologySpreadConstraints"`
	NodeSelector              map[string]string   `yaml:"nodeSelector"`
}

type topologyKeyHolder struct {
	TopologyKey string `yaml:"topologyKey"`
}

type affinity struct {
	PodAntiAffinity *struct {
		Required  []topologyKeyHolder `yaml:"requiredDuringSchedulingIgnoredDuringExecution"`
		Preferred []struct {
			Term topologyKeyHolder `yaml:"podAffinityTerm"`
		} `yaml:"preferredDuringSchedulingIgnoredDuringExecution"`
	} `yaml:"podAntiAffinity"`
}

type container struct {
	Name    string      `yaml:"name"`
	Image   string      `yaml:"image"`
	Command []posString `yaml:"command"`
	Args    []posString `yaml:"args"`
	Env     []envVar    `yaml:"env"`
	EnvFrom []envFrom   `yaml:"envFrom"`
	Ports   []struct {
		ContainerPort int `yaml:"containerPort"`
	} `yaml:"ports"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

// posString is a scalar and where it is.
type posString struct {
	Value     string
	File      string // set for ConfigMap and Secret values only
	Line, Col int
}

func (s *posString) UnmarshalYAML(n *yaml.Node) error {
	s.Line, s.Col = n.Line, n.Column
	return n.Decode(&s.Value)
}

type envVar struct {
	Name      string `yaml:"name"`
	Value     string `yaml:"value"`
	ValueFrom *struct {
		ConfigMapKeyRef *keyRef `yaml:"configMapKeyRef"`
		SecretKeyRef    *keyRef `yaml:"secretKeyRef"`
	} `yaml:"valueFrom"`
	Line, Col int `yaml:"-"`
}

func (e *envVar) UnmarshalYAML(n *yaml.Node) error {
	type plain envVar
	if err := n.Decode((*plain)(e)); err != nil {
		return err
	}
	e.Line, e.Col = n.Line, n.Column
	return nil
}

type keyRef struct {
	Name string `yaml:"name"`
	Key  string `yaml:"key"`
}

type envFrom struct {
	Prefix       string `yaml:"prefix"`
	ConfigMapRef *struct {
		Name string `yaml:"name"`
	} `yaml:"configMapRef"`
	SecretRef *struct {
		Name string `yaml:"name"`
	} `yaml:"secretRef"`
}

type volume struct {
	Name                  string    `yaml:"name"`
	EmptyDir              *struct{} `yaml:"emptyDir"`
	PersistentVolumeClaim *struct{} `yaml:"persistentVolumeClaim"`
	HostPath              *struct{} `yaml:"hostPath"`
	ConfigMap             *struct {
		Name string `yaml:"name"`
	} `yaml:"configMap"`
}

// workloadSpec covers Deployment, StatefulSet, DaemonSet, ReplicaSet,
// Job and CronJob.
type workloadSpec struct {
	Replicas             *int        `yaml:"replicas"`
	Template             podTemplate `yaml:"template"`
	VolumeClaimTemplates []struct {
		Metadata objectMeta `yaml:"metadata"`
	} `yaml:"volumeClaimTemplates"`
	Schedule    string `yaml:"schedule"`
	JobTemplate *struct {
		Spec struct {
			Template podTemplate `yaml:"template"`
		} `yaml:"spec"`
	} `yaml:"jobTemplate"`
}

type serviceSpec struct {
	Type         string            `yaml:"type"`
	ClusterIP    string            `yaml:"clusterIP"`
	Selector     map[string]string `yaml:"selector"`
	ExternalName string            `yaml:"externalName"`
	Ports        []struct {
		Port     int    `yaml:"port"`
		NodePort int    `yaml:"nodePort"`
		Name     string `yaml:"name"`
	} `yaml:"ports"`
}

type ingressBackend struct {
	Service *struct {
		Name string `yaml:"name"`
	} `yaml:"service"`
	ServiceName string `yaml:"serviceName"` // extensions/v1beta1
	Line, Col   int    `yaml:"-"`
}

func (ib *ingressBackend) UnmarshalYAML(n *yaml.Node) error {
	type plain ingressBackend
	if err := n.Decode((*plain)(ib)); err != nil {
		return err
	}
	ib.Line, ib.Col = n.Line, n.Column
	return nil
}

func (ib *ingressBackend) service() string {
	if ib == nil {
		return ""
	}
	if ib.Service != nil {
		return ib.Service.Name
	}
	return ib.ServiceName
}

type ingressSpec struct {
	DefaultBackend *ingressBackend `yaml:"defaultBackend"`
	Backend        *ingressBackend `yaml:"backend"`
	Rules          []struct {
		Host string `yaml:"host"`
		HTTP *struct {
			Paths []struct {
				Path    string         `yaml:"path"`
				Backend ingressBackend `yaml:"backend"`
			} `yaml:"paths"`
		} `yaml:"http"`
	} `yaml:"rules"`
}

// routeSpec covers the routes of the Gateway API (HTTPRoute, GRPCRoute,
// TLSRoute, TCPRoute, UDPRoute) and Istio's VirtualService: the Services
// a gateway sends traffic to.
type routeSpec struct {
	ParentRefs []struct {
		Kind string `yaml:"kind"`
		Name string `yaml:"name"`
	} `yaml:"parentRefs"`
	Rules []struct {
		BackendRefs []routeBackend `yaml:"backendRefs"`
	} `yaml:"rules"`
	Gateways []string     `yaml:"gateways"`
	HTTP     []istioRoute `yaml:"http"`
	TCP      []istioRoute `yaml:"tcp"`
	TLS      []istioRoute `yaml:"tls"`
}

type istioRoute struct {
	Route []struct {
		Destination routeBackend `yaml:"destination"`
	} `yaml:"route"`
}

// routeBackend is a Gateway API backendRef (name, kind, namespace) or an
// Istio destination (host).
type routeBackend struct {
	Name      string `yaml:"name"`
	Kind      string `yaml:"kind"`
	Namespace string `yaml:"namespace"`
	Host      string `yaml:"host"`
	Line, Col int    `yaml:"-"`
}

func (rb *routeBackend) UnmarshalYAML(n *yaml.Node) error {
	type plain routeBackend
	if err := n.Decode((*plain)(rb)); err != nil {
		return err
	}
	rb.Line, rb.Col = n.Line, n.Column
	return nil
}

type labelSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

type pdbSpec struct {
	MinAvailable *string       `yaml:"minAvailable"`
	Selector     labelSelector `yaml:"selector"`
}

type hpaSpec struct {
	ScaleTargetRef ownerRef `yaml:"scaleTargetRef"`
	MinReplicas    *int     `yaml:"minReplicas"`
}

// An object is one manifest of the input.
type object struct {
	Kind       string
	APIVersion string
	Meta       objectMeta
	Pos        model.Pos  // the line of its kind: key
	node       *yaml.Node // nil once prepared
	prep       prepared
}

// prepared is what an object's spec decodes to, by kind: collect decodes
// each object as its document is read and drops its YAML tree, so that a
// big input does not hold the trees of every document at once.
type prepared struct {
	workload *workload
	service  *serviceSpec
	ingress  *ingressSpec
	pdb      *pdbSpec
	hpa      *hpaSpec
	data     map[string]posString
	route    *routeSpec // nil for a kind of that name another API has
	err      error
}

// prepare decodes what index reads of o, then lets the tree go.
func (o *object) prepare() {
	p := &o.prep
	switch o.Kind {
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod":
		p.workload, p.err = newWorkload(o)
	case "Service":
		p.service = &serviceSpec{}
		p.err = o.decodeSpec(p.service)
	case "Ingress":
		p.ingress = &ingressSpec{}
		p.err = o.decodeSpec(p.ingress)
	case "PodDisruptionBudget":
		p.pdb = &pdbSpec{}
		p.err = o.decodeSpec(p.pdb)
	case "HorizontalPodAutoscaler":
		p.hpa = &hpaSpec{}
		p.err = o.decodeSpec(p.hpa)
	case "ConfigMap", "Secret":
		p.data, p.err = o.data()
	case "HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute", "VirtualService":
		var spec routeSpec
		if isRoute(o) && o.decodeSpec(&spec) == nil {
			p.route = &spec
		}
	}
	o.node = nil
}

// header is what every object is first decoded into.
type header struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   objectMeta `yaml:"metadata"`
}

// decodeSpec decodes the object's spec into out, with positioned errors.
func (o *object) decodeSpec(out any) error {
	var holder struct {
		Spec yaml.Node `yaml:"spec"`
	}
	if err := o.node.Decode(&holder); err != nil {
		return o.wrap(err)
	}
	if holder.Spec.Kind == 0 {
		return nil
	}
	if err := holder.Spec.Decode(out); err != nil {
		return o.wrap(err)
	}
	return nil
}

// data returns the string values of a ConfigMap's data, or a Secret's
// data (base64) and stringData, with the position of each key.
func (o *object) data() (map[string]posString, error) {
	out := map[string]posString{}
	for i := 0; i+1 < len(o.node.Content); i += 2 {
		k, v := o.node.Content[i], o.node.Content[i+1]
		encoded := o.Kind == "Secret" && k.Value == "data"
		if k.Value != "data" && !(o.Kind == "Secret" && k.Value == "stringData") {
			continue
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			continue
		}
		if v.Kind != yaml.MappingNode {
			return nil, o.errorAt(v, k.Value+": want a mapping of keys to strings")
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			key, val := v.Content[j], v.Content[j+1]
			if val.Kind != yaml.ScalarNode {
				return nil, o.errorAt(val, fmt.Sprintf("%s.%s: want a string", k.Value, key.Value))
			}
			s := val.Value
			if encoded {
				b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
				if err != nil {
					return nil, o.errorAt(val, fmt.Sprintf("%s.%s: not base64: %v", k.Value, key.Value, err))
				}
				s = string(b)
			}
			out[key.Value] = posString{Value: s, File: o.Pos.File, Line: key.Line, Col: key.Column}
		}
	}
	return out, nil
}

func (o *object) subject() string {
	if o.Meta.Name == "" {
		return o.Kind
	}
	return o.Kind + " " + o.Meta.Name
}

func (o *object) errorAt(n *yaml.Node, msg string) error {
	return &model.Error{Pos: model.Pos{File: o.Pos.File, Line: n.Line, Col: n.Column}, Path: o.subject(), Msg: msg,
		Hint: "check the manifest against the Kubernetes API (kubectl apply --dry-run=client -f FILE)"}
}

var lineRe = regexp.MustCompile(`line (\d+): (.*)`)

// wrap turns a yaml decoding error into positioned errors.
func (o *object) wrap(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return &model.Error{Pos: o.Pos, Path: o.subject(), Msg: err.Error()}
	}
	var list model.ErrorList
	for _, e := range te.Errors {
		pos, msg := o.Pos, e
		if m := lineRe.FindStringSubmatch(e); m != nil {
			pos.Line, _ = strconv.Atoi(m[1])
			pos.Col = 1
			msg = friendly(m[2])
		}
		list = append(list, &model.Error{Pos: pos, Path: o.subject(), Msg: msg,
			Hint: "check the manifest against the Kubernetes API (kubectl apply --dry-run=client -f FILE)"})
	}
	return list
}

var unmarshalRe = regexp.MustCompile("^cannot unmarshal !!(\\w+) (`[^`]*` )?into (.*)$")

// friendly rewords "cannot unmarshal !!str `three` into int" without Go's
// type names: "got a string (three), want a number".
func friendly(msg string) string {
	m := unmarshalRe.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	got := map[string]string{"str": "a string", "int": "a number", "float": "a number", "bool": "a boolean",
		"map": "a mapping", "seq": "a list", "null": "null"}[m[1]]
	if got == "" {
		got = m[1]
	}
	if v := strings.Trim(m[2], "` "); v != "" {
		got += " (" + v + ")"
	}
	var want string
	switch t := m[3]; {
	case strings.HasPrefix(t, "[]"):
		want = "a list"
	case strings.HasPrefix(t, "map"), strings.Contains(t, "."):
		want = "a mapping"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"), strings.HasPrefix(t, "float"):
		want = "a number"
	case t == "string":
		want = "a string"
	case t == "bool":
		want = "a boolean"
	default:
		want = t
	}
	return "got " + got + ", want " + want
}

// maxDocuments bounds the documents of one file, so that a hostile stream
// of empty documents cannot make the import run for ever.
const maxDocuments = 1_000_000

// parseStream reads the objects of one YAML or JSON stream: several
// documents separated by ---, and the items of List objects.
func parseStream(file string, data []byte) ([]*object, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var objs []*object
	var errs model.ErrorList
	for i := 0; i < maxDocuments; i++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, syntaxError(file, data, err))
			break
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			continue // a document holding only comments, as Helm writes them
		}
		objs, errs = collect(file, root, objs, errs, 0)
	}
	if len(errs) > 0 {
		if bytes.Contains(data, []byte("{{")) {
			for _, e := range errs {
				e.Hint = helmHint
			}
		}
		return nil, errs
	}
	return objs, nil
}

const helmHint = "this looks like a Helm template: import its rendered output (helm template RELEASE CHART > manifests.yaml)"

// collect adds the object at n (or the items of a List) to objs.
func collect(file string, n *yaml.Node, objs []*object, errs model.ErrorList, depth int) ([]*object, model.ErrorList) {
	at := model.Pos{File: file, Line: n.Line, Col: n.Column}
	hint := "a manifest is an object with apiVersion, kind and metadata.name"
	if n.Kind != yaml.MappingNode {
		return objs, append(errs, &model.Error{Pos: at, Msg: "not a Kubernetes object: want a mapping", Hint: hint})
	}
	o := &object{node: n, Pos: at}
	var items *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i]; k.Value {
		case "kind":
			o.Pos = model.Pos{File: file, Line: k.Line, Col: k.Column}
		case "items":
			items = n.Content[i+1]
		}
	}
	var h header
	if err := n.Decode(&h); err != nil {
		return objs, append(errs, flatten(o.wrap(err))...)
	}
	o.Kind, o.APIVersion, o.Meta = h.Kind, h.APIVersion, h.Metadata
	switch {
	case o.Kind == "":
		return objs, append(errs, &model.Error{Pos: at, Msg: "no kind", Hint: hint})
	case strings.HasSuffix(o.Kind, "List") && items != nil:
		if depth > 8 {
			return objs, append(errs, &model.Error{Pos: o.Pos, Path: o.Kind, Msg: "Lists nested too deep"})
		}
		if items.Kind != yaml.SequenceNode {
			return objs, append(errs, &model.Error{Pos: model.Pos{File: file, Line: items.Line, Col: items.Column},
				Path: o.Kind, Msg: "items: want a list of objects"})
		}
		for _, it := range items.Content {
			objs, errs = collect(file, it, objs, errs, depth+1)
		}
		return objs, errs
	case o.Meta.Name == "" && o.Kind != "List":
		return objs, append(errs, &model.Error{Pos: o.Pos, Path: o.Kind, Msg: "no metadata.name", Hint: hint})
	}
	o.prepare()
	return append(objs, o), errs
}

func flatten(err error) model.ErrorList {
	var list model.ErrorList
	if errors.As(err, &list) {
		return list
	}
	var e *model.Error
	if errors.As(err, &e) {
		return model.ErrorList{e}
	}
	return model.ErrorList{{Msg: err.Error()}}
}

// syntaxError positions a YAML syntax error, with a hint for the usual
// cause: a Helm chart given instead of its rendered output.
func syntaxError(file string, data []byte, err error) *model.Error {
	e := model.YAMLSyntaxError(file, data, err)
	if e.Hint == "" {
		e.Hint = "the file must be YAML or JSON Kubernetes manifests"
	}
	e.Msg = "invalid YAML: " + strings.TrimPrefix(e.Msg, "syntax error: ")
	return e
}
