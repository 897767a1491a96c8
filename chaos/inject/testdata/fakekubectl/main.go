// Command fakekubectl is a stand-in for kubectl in the kubectl injector's
// tests: it keeps a cluster's pods, deployments and statefulsets in a JSON
// file ($FAKE_KUBECTL_STATE) and implements the subcommands the injector
// runs, with kubectl's flags, output and JSON shapes:
//
//	config current-context
//	get pods|deployments,statefulsets --selector=SEL --output=json
//	delete pods NAME... --ignore-not-found=true --wait=false
//	scale deployment/NAME|statefulset/NAME --replicas=N
//
// with the global flags --context and --namespace (-n). Unknown flags fail
// as kubectl's do. Each get is one step of the controllers: pods created
// at the last step become Ready, pods deleted two steps ago are gone,
// workloads get new pods (not Ready yet) up to their replicas, and extra
// pods start terminating. So a deleted pod still shows, terminating and
// Ready, on the next get, beside its replacement, which is Ready on the
// get after.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

type state struct {
	Context   string      `json:"context"`   // the current context; "" when none is set
	Namespace string      `json:"namespace"` // the current namespace
	Pods      []*pod      `json:"pods"`
	Workloads []*workload `json:"workloads"`
	// Forbid lists the verbs the user may not run, as RBAC refuses them.
	Forbid []string   `json:"forbid,omitempty"`
	Step   int        `json:"step"`
	Seq    int        `json:"seq"`   // for pod names
	Calls  [][]string `json:"calls"` // the arguments of every run
}

type pod struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Labels    map[string]string `json:"labels"`
	Owner     string            `json:"owner,omitempty"` // deployment/mail; "" for a bare pod
	Ready     bool              `json:"ready"`
	Stuck     bool              `json:"stuck,omitempty"`   // never Ready: crash-looping
	Created   int               `json:"created"`           // the step
	Deleted   int               `json:"deleted,omitempty"` // the first step that shows it terminating; 0 while alive
}

type workload struct {
	Kind      string            `json:"kind"` // Deployment or StatefulSet
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Labels    map[string]string `json:"labels"` // its own and its pods'
	Replicas  int               `json:"replicas"`
}

func (w *workload) ref() string { return strings.ToLower(w.Kind) + "/" + w.Name }

func main() {
	path := os.Getenv("FAKE_KUBECTL_STATE")
	data, err := os.ReadFile(path)
	if err != nil {
		fail("fakekubectl: FAKE_KUBECTL_STATE: %v", err)
	}
	var s state
	if err := json.Unmarshal(data, &s); err != nil {
		fail("fakekubectl: %s: %v", path, err)
	}
	s.Calls = append(s.Calls, os.Args[1:])
	code := s.run(os.Args[1:])
	out, _ := json.MarshalIndent(&s, "", "  ")
	tmp := filepath.Join(filepath.Dir(path), ".state.tmp")
	if err := os.WriteFile(tmp, out, 0o644); err != nil {
		fail("fakekubectl: %v", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		fail("fakekubectl: %v", err)
	}
	os.Exit(code)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

// flags are the flags of one command line, parsed as kubectl's pflag does
// for the ones the injector uses.
type flags struct {
	context, namespace, selector, output, replicas, wait, ignoreNotFound string
	args                                                                 []string
}

func parse(argv []string) (flags, error) {
	var f flags
	long := map[string]*string{"context": &f.context, "namespace": &f.namespace, "selector": &f.selector, "output": &f.output, "replicas": &f.replicas, "wait": &f.wait, "ignore-not-found": &f.ignoreNotFound}
	short := map[string]*string{"n": &f.namespace, "l": &f.selector, "o": &f.output}
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		switch {
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := strings.Cut(a[2:], "=")
			p, ok := long[name]
			if !ok {
				return f, fmt.Errorf("unknown flag: --%s", name)
			}
			switch {
			case hasValue:
			case name == "wait":
				value = "true" // a boolean
			case i+1 < len(argv):
				i++
				value = argv[i]
			default:
				return f, fmt.Errorf("flag needs an argument: --%s", name)
			}
			*p = value
		case strings.HasPrefix(a, "-") && len(a) > 1:
			p, ok := short[a[1:2]]
			if !ok {
				return f, fmt.Errorf("unknown shorthand flag: '%s' in %s", a[1:2], a)
			}
			switch {
			case len(a) > 2:
				*p = strings.TrimPrefix(a[2:], "=")
			case i+1 < len(argv):
				i++
				*p = argv[i]
			default:
				return f, fmt.Errorf("flag needs an argument: '%s' in %s", a[1:2], a)
			}
		default:
			f.args = append(f.args, a)
		}
	}
	return f, nil
}

func (s *state) run(argv []string) int {
	f, err := parse(argv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\nSee 'kubectl --help' for usage.\n", err)
		return 1
	}
	if f.context != "" && f.context != s.Context {
		fmt.Fprintf(os.Stderr, "Error in configuration: context was not found for specified context: %s\n", f.context)
		return 1
	}
	ns := f.namespace
	if ns == "" {
		ns = s.Namespace
	}
	if len(f.args) == 0 {
		fmt.Fprintln(os.Stderr, "kubectl controls the Kubernetes cluster manager.")
		return 1
	}
	verb := f.args[0]
	if slices.Contains(s.Forbid, verb) {
		fmt.Fprintf(os.Stderr, "Error from server (Forbidden): %s is forbidden: User \"ci\" cannot %s resource %q in API group \"\" in the namespace %q\n", resourceOf(f.args), verb, resourceOf(f.args), ns)
		return 1
	}
	switch {
	case verb == "config" && len(f.args) == 2 && f.args[1] == "current-context":
		if s.Context == "" {
			fmt.Fprintln(os.Stderr, "error: current-context is not set")
			return 1
		}
		fmt.Println(s.Context)
		return 0
	case verb == "get" && len(f.args) == 2:
		return s.get(f, ns)
	case verb == "delete" && len(f.args) > 2 && f.args[1] == "pods":
		return s.delete(f, ns)
	case verb == "scale" && len(f.args) == 2:
		return s.scale(f, ns)
	}
	fmt.Fprintf(os.Stderr, "fakekubectl: %q is not implemented\n", strings.Join(argv, " "))
	return 2
}

func resourceOf(args []string) string {
	if len(args) > 1 {
		return strings.Split(args[1], "/")[0]
	}
	return ""
}

// get prints a List of the pods, deployments and statefulsets the selector
// picks, after one step of the controllers.
func (s *state) get(f flags, ns string) int {
	if f.output != "json" {
		fmt.Fprintln(os.Stderr, "fakekubectl: get prints -o json only")
		return 2
	}
	sel, err := parseSelector(f.selector)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		return 1
	}
	s.reconcile()
	var items []any
	for _, r := range strings.Split(f.args[1], ",") {
		switch r {
		case "pods", "pod", "po":
			for _, p := range s.Pods {
				if p.Namespace == ns && sel(p.Labels) {
					items = append(items, podJSON(p))
				}
			}
		case "deployments", "deployment", "deploy", "statefulsets", "statefulset", "sts":
			kind := "Deployment"
			if strings.HasPrefix(r, "s") {
				kind = "StatefulSet"
			}
			for _, w := range s.Workloads {
				if w.Kind == kind && w.Namespace == ns && sel(w.Labels) {
					items = append(items, s.workloadJSON(w))
				}
			}
		default:
			fmt.Fprintf(os.Stderr, "error: the server doesn't have a resource type %q\n", r)
			return 1
		}
	}
	if len(items) == 0 {
		fmt.Fprintf(os.Stderr, "No resources found in %s namespace.\n", ns)
		items = []any{}
	}
	out, _ := json.MarshalIndent(map[string]any{"apiVersion": "v1", "items": items, "kind": "List", "metadata": map[string]string{"resourceVersion": ""}}, "", "    ")
	fmt.Println(string(out))
	return 0
}

// delete marks the pods the selector picks as terminating, as
// `kubectl delete --wait=false` leaves them.
func (s *state) delete(f flags, ns string) int {
	if f.wait != "false" || f.ignoreNotFound != "true" {
		fmt.Fprintln(os.Stderr, "fakekubectl: the injector must not wait (--wait=false) and must ignore pods gone already (--ignore-not-found=true)")
		return 2
	}
	for _, name := range f.args[2:] {
		for _, p := range s.Pods {
			if p.Namespace == ns && p.Name == name && p.Deleted == 0 {
				p.Deleted = s.Step + 1 // the next get shows it terminating
				fmt.Printf("pod %q deleted\n", p.Name)
			}
		}
	}
	return 0
}

func (s *state) scale(f flags, ns string) int {
	replicas, err := strconv.Atoi(f.replicas)
	if err != nil || replicas < 0 {
		fmt.Fprintln(os.Stderr, "error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0")
		return 1
	}
	kind, name, ok := strings.Cut(f.args[1], "/")
	switch kind {
	case "deployment", "deployments", "deploy":
		kind = "Deployment"
	case "statefulset", "statefulsets", "sts":
		kind = "StatefulSet"
	default:
		ok = false
	}
	if !ok {
		fmt.Fprintf(os.Stderr, "fakekubectl: scale %q is not implemented\n", f.args[1])
		return 2
	}
	for _, w := range s.Workloads {
		if w.Kind == kind && w.Name == name && w.Namespace == ns {
			w.Replicas = replicas
			fmt.Printf("%s.apps/%s scaled\n", strings.ToLower(kind), name)
			return 0
		}
	}
	fmt.Fprintf(os.Stderr, "Error from server (NotFound): %ss.apps %q not found\n", strings.ToLower(kind), name)
	return 1
}

// reconcile is one step of the kubelet and the controllers.
func (s *state) reconcile() {
	s.Step++
	var pods []*pod
	for _, p := range s.Pods {
		switch {
		case p.Deleted != 0 && p.Deleted < s.Step:
			continue // shown terminating once: gone
		case p.Deleted == 0 && p.Created < s.Step && !p.Stuck:
			p.Ready = true
		}
		pods = append(pods, p)
	}
	s.Pods = pods
	for _, w := range s.Workloads {
		var live []*pod
		for _, p := range s.Pods {
			if p.Owner == w.ref() && p.Deleted == 0 {
				live = append(live, p)
			}
		}
		for i := len(live); i < w.Replicas; i++ {
			s.Seq++
			s.Pods = append(s.Pods, &pod{Name: fmt.Sprintf("%s-%05d", w.Name, s.Seq), Namespace: w.Namespace, Labels: w.Labels, Owner: w.ref(), Created: s.Step})
		}
		for _, p := range live[min(len(live), w.Replicas):] {
			p.Deleted = s.Step
		}
	}
}

func podJSON(p *pod) map[string]any {
	ready, phase := "False", "Pending"
	if p.Ready {
		ready, phase = "True", "Running"
	}
	meta := map[string]any{
		"name": p.Name, "namespace": p.Namespace, "labels": p.Labels,
		"creationTimestamp": "2025-01-20T10:00:00Z", "uid": fmt.Sprintf("pod-%s", p.Name), "resourceVersion": "1000",
	}
	if kind, name, ok := strings.Cut(p.Owner, "/"); ok {
		ownerKind, ownerName := "ReplicaSet", name+"-7d9f5c8b4"
		if kind == "statefulset" {
			ownerKind, ownerName = "StatefulSet", name
		}
		meta["ownerReferences"] = []map[string]any{{"apiVersion": "apps/v1", "kind": ownerKind, "name": ownerName, "uid": "owner-" + name, "controller": true, "blockOwnerDeletion": true}}
	}
	if p.Deleted != 0 {
		meta["deletionTimestamp"] = "2025-01-20T10:05:00Z"
		meta["deletionGracePeriodSeconds"] = 30
	}
	cond := func(t, status string) map[string]string {
		return map[string]string{"type": t, "status": status, "lastProbeTime": "", "lastTransitionTime": "2025-01-20T10:00:00Z"}
	}
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod", "metadata": meta,
		"spec": map[string]any{"containers": []map[string]any{{"name": "app", "image": "registry.example/app:1"}}, "nodeName": "node-1"},
		"status": map[string]any{
			"phase":      phase,
			"conditions": []map[string]string{cond("Initialized", "True"), cond("Ready", ready), cond("ContainersReady", ready), cond("PodScheduled", "True")},
		},
	}
}

func (s *state) workloadJSON(w *workload) map[string]any {
	total, ready := 0, 0
	for _, p := range s.Pods {
		if p.Owner == w.ref() {
			total++
			if p.Ready && p.Deleted == 0 {
				ready++
			}
		}
	}
	status := map[string]any{"observedGeneration": 2, "replicas": total}
	if total == 0 {
		delete(status, "replicas") // omitted when zero, as the API server does
	}
	if ready > 0 {
		status["readyReplicas"] = ready
		status["availableReplicas"] = ready
	}
	return map[string]any{
		"apiVersion": "apps/v1", "kind": w.Kind,
		"metadata": map[string]any{"name": w.Name, "namespace": w.Namespace, "labels": w.Labels, "generation": 2, "uid": "owner-" + w.Name},
		"spec": map[string]any{
			"replicas": w.Replicas,
			"selector": map[string]any{"matchLabels": w.Labels},
			"template": map[string]any{"metadata": map[string]any{"labels": w.Labels}},
		},
		"status": status,
	}
}

// parseSelector parses kubectl's equality-based label selectors: k=v,
// k==v, k!=v, k and !k, joined by commas.
func parseSelector(sel string) (func(map[string]string) bool, error) {
	type req struct {
		key, op, value string
	}
	var reqs []req
	for _, part := range strings.Split(sel, ",") {
		part = strings.TrimSpace(part)
		var r req
		switch {
		case part == "":
			if sel != "" {
				return nil, fmt.Errorf("unable to parse requirement: found '', expected: identifier")
			}
			continue
		case strings.Contains(part, "!="):
			k, v, _ := strings.Cut(part, "!=")
			r = req{k, "!=", v}
		case strings.Contains(part, "=="):
			k, v, _ := strings.Cut(part, "==")
			r = req{k, "=", v}
		case strings.Contains(part, "="):
			k, v, _ := strings.Cut(part, "=")
			r = req{k, "=", v}
		case strings.HasPrefix(part, "!"):
			r = req{part[1:], "!", ""}
		default:
			r = req{part, "exists", ""}
		}
		if r.key == "" || strings.ContainsAny(r.key, " ()") {
			return nil, fmt.Errorf("unable to parse requirement: %q", part)
		}
		reqs = append(reqs, r)
	}
	return func(labels map[string]string) bool {
		for _, r := range reqs {
			v, ok := labels[r.key]
			switch r.op {
			case "=":
				if !ok || v != r.value {
					return false
				}
			case "!=":
				if ok && v == r.value {
					return false
				}
			case "!":
				if ok {
					return false
				}
			case "exists":
				if !ok {
					return false
				}
			}
		}
		return true
	}, nil
}
