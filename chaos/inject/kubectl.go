package inject

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Kubectl injects a fault into the Kubernetes pods a label selector picks,
// with the kubectl binary: it deletes them (their controller recreates
// them; the fault is the gap until the new ones are Ready), or scales the
// deployments and statefulsets the selector picks to zero replicas (they
// are gone until scaled back).
type Kubectl struct {
	Kubectl   string // the binary; "" means kubectl, from PATH
	Selector  string // a label selector, as kubectl -l takes it: app=mail
	Namespace string // "" means kubectl's current namespace
	Action    string // "delete" (the default) or "scale"
}

// The actions of a kubectl binding.
const (
	kubectlDelete = "delete"
	kubectlScale  = "scale"
)

// kubectlPollInterval is how often a restore asks whether the pods are
// back.
const kubectlPollInterval = time.Second

// kubectlUndo pins what Prepare resolved, so that a restore from another
// shell or after a crash reaches the same cluster and namespace: kubectl's
// path, its current context and namespace.
type kubectlUndo struct {
	Kubectl   string `json:"kubectl"`
	Context   string `json:"context,omitempty"` // "" when kubeconfig names none (in a pod)
	Namespace string `json:"namespace"`
	Selector  string `json:"selector"`
	Action    string `json:"action"`
	// Delete: the pods the selector picked, and how many were Ready. A
	// restore waits until as many are Ready again.
	Pods  []string `json:"pods,omitempty"`
	Ready int      `json:"ready,omitempty"`
	// Scale: the workloads and their replicas, to scale back to.
	Workloads []kubeWorkload `json:"workloads,omitempty"`
}

type kubeWorkload struct {
	Kind     string `json:"kind"` // deployment or statefulset, as kubectl scale names them
	Name     string `json:"name"`
	Replicas int    `json:"replicas"`
}

func (w kubeWorkload) String() string { return w.Kind + "/" + w.Name }

// Prepare finds the pods (delete) or the deployments and statefulsets
// (scale) that the selector picks, and returns the undo record of their
// fault; nothing is changed yet. There must be at least one Ready pod, or
// one workload with replicas: a fault on what is down already tests
// nothing. Every pod to delete must have a controller (ownerReferences),
// or nothing would bring it back.
func (k Kubectl) Prepare(ctx context.Context) (Undo, error) {
	action := cmp.Or(k.Action, kubectlDelete)
	if action != kubectlDelete && action != kubectlScale {
		return Undo{}, fmt.Errorf("kubectl action %q: want delete or scale", k.Action)
	}
	if k.Selector == "" {
		return Undo{}, errors.New("kubectl binding names no selector: it would pick every pod of the namespace")
	}
	path, err := exec.LookPath(cmp.Or(k.Kubectl, "kubectl"))
	if err != nil {
		return Undo{}, fmt.Errorf("kubectl: not found: %w (install kubectl, or put it on PATH)", err)
	}
	if path, err = filepath.Abs(path); err != nil {
		return Undo{}, err
	}
	u := kubectlUndo{Kubectl: path, Namespace: k.Namespace, Selector: k.Selector, Action: action}
	u.Context = u.currentContext(ctx)
	switch action {
	case kubectlDelete:
		pods, err := u.list(ctx, "pods")
		if err != nil {
			return Undo{}, err
		}
		if len(pods) == 0 {
			return Undo{}, fmt.Errorf("no pods match -l %s in %s", u.Selector, u.namespaceName())
		}
		for _, p := range pods {
			if len(p.Metadata.OwnerReferences) == 0 {
				return Undo{}, fmt.Errorf("pod %s has no controller to recreate it: deleting it would be for good", p.Metadata.Name)
			}
			u.Pods = append(u.Pods, p.Metadata.Name)
			if p.ready() {
				u.Ready++
			}
		}
		u.Namespace = cmp.Or(u.Namespace, pods[0].Metadata.Namespace)
		if u.Ready == 0 {
			return Undo{}, fmt.Errorf("none of the %d pods matching -l %s in %s is Ready: it is failing already", len(pods), u.Selector, u.namespaceName())
		}
	case kubectlScale:
		objs, err := u.list(ctx, "deployments,statefulsets")
		if err != nil {
			return Undo{}, err
		}
		for _, o := range objs {
			if r := o.replicas(); r > 0 {
				u.Workloads = append(u.Workloads, kubeWorkload{Kind: strings.ToLower(o.Kind), Name: o.Metadata.Name, Replicas: r})
				u.Namespace = cmp.Or(u.Namespace, o.Metadata.Namespace)
			}
		}
		if len(u.Workloads) == 0 {
			return Undo{}, fmt.Errorf("no deployments or statefulsets with replicas match -l %s in %s (%d at zero)", u.Selector, u.namespaceName(), len(objs))
		}
	}
	return marshalUndo("kubectl", u), nil
}

// Inject puts in the fault that u, from Prepare,
// describes: it deletes the pods the selector picks, without waiting for
// them to end, or scales the workloads Prepare found to zero. The
// binding's action is the fault, whatever fault the experiment names.
func (Kubectl) Inject(ctx context.Context, u Undo, _ Fault) error {
	if u.Injector != "kubectl" {
		return fmt.Errorf("undo record of a %s fault, not kubectl", u.Injector)
	}
	d, err := decodeUndo(u)
	if err != nil {
		return err
	}
	k := d.(*kubectlUndo)
	switch k.Action {
	case kubectlDelete:
		// The pods Prepare checked, by name: a pod the selector picks up
		// later may have no controller to bring it back.
		args := append([]string{"delete", "pods"}, k.Pods...)
		if _, err := k.run(ctx, append(args, "--ignore-not-found=true", "--wait=false")...); err != nil {
			return fmt.Errorf("deleting the pods: %w", err)
		}
	case kubectlScale:
		for _, w := range k.Workloads {
			if _, err := k.run(ctx, "scale", w.String(), "--replicas=0"); err != nil {
				return fmt.Errorf("scaling %s to 0: %w", w, err)
			}
		}
	default:
		return fmt.Errorf("%w: kubectl: unknown action %q", ErrBadUndo, k.Action)
	}
	return nil
}

// restore brings the pods back and waits, until ctx ends, for them to be
// Ready. Deleted pods need nothing done: their controller recreates them.
// Scaled workloads are scaled back to their recorded replicas, which is
// harmless when they are there already.
func (u kubectlUndo) restore(ctx context.Context) error {
	switch u.Action {
	case kubectlDelete:
		ready := 0
		err := kubectlPoll(ctx, func() (bool, error) {
			n, err := u.readyPods(ctx)
			if err != nil {
				return false, err
			}
			ready = n
			return ready >= u.Ready, nil
		})
		if err != nil {
			return fmt.Errorf("waiting for %d Ready pods matching -l %s in %s (%d so far): %w", u.Ready, u.Selector, u.namespaceName(), ready, err)
		}
	case kubectlScale:
		for _, w := range u.Workloads {
			if _, err := u.run(ctx, "scale", w.String(), "--replicas="+strconv.Itoa(w.Replicas)); err != nil {
				return fmt.Errorf("scaling %s back to %d: %w", w, w.Replicas, err)
			}
		}
		var waiting string
		err := kubectlPoll(ctx, func() (bool, error) {
			objs, err := u.workloads(ctx)
			if err != nil {
				return false, err
			}
			waiting = ""
			for _, w := range u.Workloads {
				if o := objs[w.String()]; o.Status.ReadyReplicas < w.Replicas {
					waiting = fmt.Sprintf("%s has %d of %d replicas Ready", w, o.Status.ReadyReplicas, w.Replicas)
					return false, nil
				}
			}
			return true, nil
		})
		if err != nil {
			return fmt.Errorf("waiting for the workloads matching -l %s in %s to be Ready (%s): %w", u.Selector, u.namespaceName(), waiting, err)
		}
	default:
		return fmt.Errorf("%w: kubectl: unknown action %q", ErrBadUndo, u.Action)
	}
	return nil
}

// active reports whether fewer pods are Ready than before the fault
// (delete), or whether a workload is still scaled to zero (scale).
// heals: the controller of deleted pods replaces them; scaled-down
// workloads stay at zero.
func (u kubectlUndo) heals() bool { return u.Action == kubectlDelete }

func (u kubectlUndo) active(ctx context.Context) (bool, error) {
	switch u.Action {
	case kubectlDelete:
		ready, err := u.readyPods(ctx)
		return ready < u.Ready, err
	case kubectlScale:
		objs, err := u.workloads(ctx)
		if err != nil {
			return false, err
		}
		for _, w := range u.Workloads {
			if objs[w.String()].replicas() == 0 {
				return true, nil
			}
		}
		return false, nil
	}
	return false, fmt.Errorf("%w: kubectl: unknown action %q", ErrBadUndo, u.Action)
}

func (u kubectlUndo) readyPods(ctx context.Context) (int, error) {
	pods, err := u.list(ctx, "pods")
	if err != nil {
		return 0, err
	}
	ready := 0
	for _, p := range pods {
		if p.ready() {
			ready++
		}
	}
	return ready, nil
}

// workloads lists the workloads the selector picks, by kind/name. One
// that Prepare recorded and the selector no longer picks is an error:
// nothing can tell whether it is back.
func (u kubectlUndo) workloads(ctx context.Context) (map[string]kubeObject, error) {
	objs, err := u.list(ctx, "deployments,statefulsets")
	if err != nil {
		return nil, err
	}
	byName := map[string]kubeObject{}
	for _, o := range objs {
		byName[strings.ToLower(o.Kind)+"/"+o.Metadata.Name] = o
	}
	for _, w := range u.Workloads {
		if _, ok := byName[w.String()]; !ok {
			return nil, fmt.Errorf("%s no longer matches -l %s in %s", w, u.Selector, u.namespaceName())
		}
	}
	return byName, nil
}

// list runs kubectl get for the selector, as JSON.
func (u kubectlUndo) list(ctx context.Context, resources string) ([]kubeObject, error) {
	out, err := u.run(ctx, "get", resources, "--selector="+u.Selector, "--output=json")
	if err != nil {
		return nil, err
	}
	var l struct {
		Items []kubeObject `json:"items"`
	}
	if err := json.Unmarshal(out, &l); err != nil {
		return nil, fmt.Errorf("kubectl get %s: decoding its JSON: %w", resources, err)
	}
	return l.Items, nil
}

// currentContext returns kubectl's current context, or "" when there is
// none: in a pod, kubectl uses its service account.
func (u kubectlUndo) currentContext(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, u.Kubectl, "config", "current-context").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// run runs kubectl with args, in the recorded context and namespace, and
// returns its standard output; an error carries its standard error.
func (u kubectlUndo) run(ctx context.Context, args ...string) ([]byte, error) {
	var argv []string
	if u.Context != "" {
		argv = append(argv, "--context="+u.Context)
	}
	if u.Namespace != "" {
		argv = append(argv, "--namespace="+u.Namespace)
	}
	argv = append(argv, args...)
	cmd := exec.CommandContext(ctx, u.Kubectl, argv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	line := "kubectl " + strings.Join(argv, " ")
	switch {
	case err == nil:
		return stdout.Bytes(), nil
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%s: %w", line, ctx.Err())
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, exec.ErrDot):
		return nil, fmt.Errorf("kubectl: not found: %w", err)
	}
	if msg := kubectlMessage(stderr.String()); msg != "" {
		return nil, fmt.Errorf("%s: %w: %s", line, err, msg)
	}
	return nil, fmt.Errorf("%s: %w", line, err)
}

// klogLine matches the log lines kubectl's client libraries write before
// its own message (E1123 14:03:03.484166   20457 memcache.go:265] ...).
var klogLine = regexp.MustCompile(`^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+ +\d+ [^ ]+:\d+\] `)

// kubectlMessage is kubectl's standard error without the log lines, which
// repeat what its last line says; a log line is kept only when there is
// nothing else.
func kubectlMessage(stderr string) string {
	var msg, lastLog []string
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if klogLine.MatchString(l) {
			lastLog = []string{l}
			continue
		}
		msg = append(msg, l)
	}
	if len(msg) == 0 {
		msg = lastLog
	}
	return strings.TrimSpace(strings.Join(msg, "\n"))
}

func (u kubectlUndo) namespaceName() string {
	if u.Namespace == "" {
		return "kubectl's current namespace"
	}
	return "namespace " + u.Namespace
}

// kubectlPoll calls check now and then every kubectlPollInterval until it
// reports done, fails, or ctx ends.
func kubectlPoll(ctx context.Context, check func() (bool, error)) error {
	tick := time.NewTicker(kubectlPollInterval)
	defer tick.Stop()
	for {
		done, err := check()
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// kubeObject is the part of a pod, deployment or statefulset, as kubectl
// get -o json shows it, that the injector reads.
type kubeObject struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name              string `json:"name"`
		Namespace         string `json:"namespace"`
		DeletionTimestamp string `json:"deletionTimestamp"`
		OwnerReferences   []struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"ownerReferences"` // pods: their controller
	} `json:"metadata"`
	Spec struct {
		Replicas *int `json:"replicas"` // workloads; the API server defaults it to 1
	} `json:"spec"`
	Status struct {
		Conditions []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"conditions"` // pods
		ReadyReplicas int `json:"readyReplicas"` // workloads; absent when 0
	} `json:"status"`
}

// ready reports whether a pod is Ready and not on its way out: a pod
// being deleted may still show Ready=True until its containers end.
func (o kubeObject) ready() bool {
	if o.Metadata.DeletionTimestamp != "" {
		return false
	}
	for _, c := range o.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

func (o kubeObject) replicas() int {
	if o.Spec.Replicas == nil {
		return 1
	}
	return *o.Spec.Replicas
}
