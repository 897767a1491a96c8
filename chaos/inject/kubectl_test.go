package inject

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeKubeState is the fake kubectl's cluster (testdata/fakekubectl).
type fakeKubeState struct {
	Context   string             `json:"context"`
	Namespace string             `json:"namespace"`
	Pods      []fakePod          `json:"pods"`
	Workloads []fakeKubeWorkload `json:"workloads"`
	Forbid    []string           `json:"forbid,omitempty"`
	Step      int                `json:"step"`
	Seq       int                `json:"seq"`
	Calls     [][]string         `json:"calls"`
}

type fakePod struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Labels    map[string]string `json:"labels"`
	Owner     string            `json:"owner,omitempty"`
	Ready     bool              `json:"ready"`
	Stuck     bool              `json:"stuck,omitempty"`
	Created   int               `json:"created"`
	Deleted   int               `json:"deleted,omitempty"`
}

type fakeKubeWorkload struct {
	Kind      string            `json:"kind"`
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Labels    map[string]string `json:"labels"`
	Replicas  int               `json:"replicas"`
}

// fakeCluster is a fake kubectl binary and the file that holds its cluster.
type fakeCluster struct {
	t     *testing.T
	bin   string
	state string
}

// newFakeCluster starts a cluster in context staging, whose current
// namespace is shop:
//
//	deployment mail        app=mail, 3 Ready pods
//	statefulset mail-queue app=mail,tier=queue, 1 Ready pod
//	deployment web         app=web, 2 Ready pods
//	deployment crashy      app=crashy, 1 pod that never gets Ready
//	pod debug              app=debug, with no controller
func newFakeCluster(t *testing.T, bin string) *fakeCluster {
	t.Helper()
	mail, queue := map[string]string{"app": "mail"}, map[string]string{"app": "mail", "tier": "queue"}
	web, crashy := map[string]string{"app": "web"}, map[string]string{"app": "crashy"}
	s := fakeKubeState{
		Context: "staging", Namespace: "shop",
		Workloads: []fakeKubeWorkload{
			{Kind: "Deployment", Name: "mail", Namespace: "shop", Labels: mail, Replicas: 3},
			{Kind: "StatefulSet", Name: "mail-queue", Namespace: "shop", Labels: queue, Replicas: 1},
			{Kind: "Deployment", Name: "web", Namespace: "shop", Labels: web, Replicas: 2},
			{Kind: "Deployment", Name: "crashy", Namespace: "shop", Labels: crashy, Replicas: 1},
		},
		Pods: []fakePod{
			{Name: "mail-7d9f5c8b4-aaaaa", Namespace: "shop", Labels: mail, Owner: "deployment/mail", Ready: true},
			{Name: "mail-7d9f5c8b4-bbbbb", Namespace: "shop", Labels: mail, Owner: "deployment/mail", Ready: true},
			{Name: "mail-7d9f5c8b4-ccccc", Namespace: "shop", Labels: mail, Owner: "deployment/mail", Ready: true},
			{Name: "mail-queue-0", Namespace: "shop", Labels: queue, Owner: "statefulset/mail-queue", Ready: true},
			{Name: "web-5f6d7c8b9-ddddd", Namespace: "shop", Labels: web, Owner: "deployment/web", Ready: true},
			{Name: "web-5f6d7c8b9-eeeee", Namespace: "shop", Labels: web, Owner: "deployment/web", Ready: true},
			{Name: "crashy-6b7c8d9e0-fffff", Namespace: "shop", Labels: crashy, Owner: "deployment/crashy", Stuck: true},
			{Name: "debug", Namespace: "shop", Labels: map[string]string{"app": "debug"}, Ready: true},
		},
	}
	c := &fakeCluster{t: t, bin: bin, state: filepath.Join(t.TempDir(), "cluster.json")}
	c.save(s)
	t.Setenv("FAKE_KUBECTL_STATE", c.state)
	return c
}

func (c *fakeCluster) load() fakeKubeState {
	c.t.Helper()
	data, err := os.ReadFile(c.state)
	if err != nil {
		c.t.Fatal(err)
	}
	var s fakeKubeState
	if err := json.Unmarshal(data, &s); err != nil {
		c.t.Fatal(err)
	}
	return s
}

func (c *fakeCluster) save(s fakeKubeState) {
	c.t.Helper()
	data, _ := json.Marshal(s)
	if err := os.WriteFile(c.state, data, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func (c *fakeCluster) change(f func(s *fakeKubeState)) {
	s := c.load()
	f(&s)
	c.save(s)
}

// calls returns the kubectl command lines run since the last call.
func (c *fakeCluster) calls() []string {
	s := c.load()
	var out []string
	for _, argv := range s.Calls {
		out = append(out, strings.Join(argv, " "))
	}
	s.Calls = nil
	c.save(s)
	return out
}

// readyPods lists the Ready, not terminating pods of owner.
func (s fakeKubeState) readyPods(owner string) []string {
	var names []string
	for _, p := range s.Pods {
		if p.Owner == owner && p.Ready && p.Deleted == 0 {
			names = append(names, p.Name)
		}
	}
	return names
}

func (s fakeKubeState) replicas(kind, name string) int {
	for _, w := range s.Workloads {
		if w.Kind == kind && w.Name == name {
			return w.Replicas
		}
	}
	return -1
}

// TestKubectl builds the fake kubectl once for its subtests.
func TestKubectl(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "kubectl")
	build := exec.Command("go", "build", "-o", bin, "./testdata/fakekubectl")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the fake kubectl: %v\n%s", err, out)
	}
	var argvs [][]string // every command line the injector ran
	t.Run("delete", func(t *testing.T) { argvs = append(argvs, testKubectlDelete(t, bin)...) })
	t.Run("scale", func(t *testing.T) { argvs = append(argvs, testKubectlScale(t, bin)...) })
	t.Run("errors", func(t *testing.T) { testKubectlErrors(t, bin) })
	t.Run("no-context", func(t *testing.T) { testKubectlNoContext(t, bin) })
	t.Run("restore-timeout", func(t *testing.T) { testKubectlRestoreTimeout(t, bin) })
	t.Run("real-kubectl-accepts-argv", func(t *testing.T) { testRealKubectlAcceptsArgv(t, argvs) })
}

func testKubectlDelete(t *testing.T, bin string) [][]string {
	ctx := context.Background()
	c := newFakeCluster(t, bin)
	// No namespace: kubectl's current one, which the record pins.
	u, err := Kubectl{Kubectl: bin, Selector: "app=mail"}.Prepare(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kubectl":"` + bin + `","context":"staging","namespace":"shop","selector":"app=mail","action":"delete",` +
		`"pods":["mail-7d9f5c8b4-aaaaa","mail-7d9f5c8b4-bbbbb","mail-7d9f5c8b4-ccccc","mail-queue-0"],"ready":4}`
	if u.Injector != "kubectl" || string(u.Data) != want {
		t.Errorf("undo record %s %s\nwant kubectl %s", u.Injector, u.Data, want)
	}
	u = journalled(t, u)
	if on, err := Active(ctx, u); err != nil || on {
		t.Errorf("before Kubectl.Inject, Active = %v, %v; want false", on, err)
	}
	if err := (Kubectl{}).Inject(ctx, u, Fault{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range c.load().Pods {
		if (p.Labels["app"] == "mail") != (p.Deleted != 0) {
			t.Errorf("after Kubectl.Inject, pod %s: deleted %v", p.Name, p.Deleted != 0)
		}
	}
	// The deleted pods still show, terminating and Ready, beside their
	// replacements: neither counts.
	if on, err := Active(ctx, u); err != nil || !on {
		t.Errorf("Active = %v, %v; want true", on, err)
	}
	if err := Restore(ctx, u); err != nil {
		t.Fatal(err)
	}
	s := c.load()
	if ready := s.readyPods("deployment/mail"); len(ready) != 3 || slices.Contains(ready, "mail-7d9f5c8b4-aaaaa") {
		t.Errorf("after Restore, the Ready pods of mail are %v; want 3 new ones", ready)
	}
	if on, err := Active(ctx, u); err != nil || on {
		t.Errorf("after Restore, Active = %v, %v; want false", on, err)
	}
	if err := Restore(ctx, u); err != nil {
		t.Errorf("second Restore: %v, want nil (idempotent)", err)
	}
	argvs := c.load().Calls
	calls := c.calls()
	wantCalls := []string{
		"config current-context",
		"--context=staging get pods --selector=app=mail --output=json",
		"--context=staging --namespace=shop get pods --selector=app=mail --output=json",
		"--context=staging --namespace=shop delete pods mail-7d9f5c8b4-aaaaa mail-7d9f5c8b4-bbbbb mail-7d9f5c8b4-ccccc mail-queue-0 --ignore-not-found=true --wait=false",
	}
	for _, w := range wantCalls {
		if !slices.Contains(calls, w) {
			t.Errorf("kubectl was not run as %q; it ran:\n%s", w, strings.Join(calls, "\n"))
		}
	}
	return argvs
}

func testKubectlScale(t *testing.T, bin string) [][]string {
	ctx := context.Background()
	c := newFakeCluster(t, bin)
	u, err := Kubectl{Kubectl: bin, Selector: "app=mail", Namespace: "shop", Action: "scale"}.Prepare(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kubectl":"` + bin + `","context":"staging","namespace":"shop","selector":"app=mail","action":"scale",` +
		`"workloads":[{"kind":"deployment","name":"mail","replicas":3},{"kind":"statefulset","name":"mail-queue","replicas":1}]}`
	if string(u.Data) != want {
		t.Errorf("undo record %s\nwant %s", u.Data, want)
	}
	u = journalled(t, u)
	if err := (Kubectl{}).Inject(ctx, u, Fault{}); err != nil {
		t.Fatal(err)
	}
	s := c.load()
	if s.replicas("Deployment", "mail") != 0 || s.replicas("StatefulSet", "mail-queue") != 0 || s.replicas("Deployment", "web") != 2 {
		t.Errorf("after Kubectl.Inject, workloads %+v", s.Workloads)
	}
	if on, err := Active(ctx, u); err != nil || !on {
		t.Errorf("Active = %v, %v; want true", on, err)
	}
	if err := Restore(ctx, u); err != nil {
		t.Fatal(err)
	}
	s = c.load()
	if s.replicas("Deployment", "mail") != 3 || s.replicas("StatefulSet", "mail-queue") != 1 {
		t.Errorf("after Restore, workloads %+v", s.Workloads)
	}
	if len(s.readyPods("deployment/mail")) != 3 || len(s.readyPods("statefulset/mail-queue")) != 1 {
		t.Errorf("Restore returned before the pods were Ready: %+v", s.Pods)
	}
	if on, err := Active(ctx, u); err != nil || on {
		t.Errorf("after Restore, Active = %v, %v; want false", on, err)
	}
	if err := Restore(ctx, u); err != nil {
		t.Errorf("second Restore: %v, want nil (idempotent)", err)
	}
	argvs := c.load().Calls
	calls := c.calls()
	for _, w := range []string{
		"--context=staging --namespace=shop get deployments,statefulsets --selector=app=mail --output=json",
		"--context=staging --namespace=shop scale deployment/mail --replicas=0",
		"--context=staging --namespace=shop scale statefulset/mail-queue --replicas=0",
		"--context=staging --namespace=shop scale deployment/mail --replicas=3",
		"--context=staging --namespace=shop scale statefulset/mail-queue --replicas=1",
	} {
		if !slices.Contains(calls, w) {
			t.Errorf("kubectl was not run as %q; it ran:\n%s", w, strings.Join(calls, "\n"))
		}
	}
	return argvs
}

func testKubectlErrors(t *testing.T, bin string) {
	ctx := context.Background()
	c := newFakeCluster(t, bin)
	for _, tc := range []struct {
		k    Kubectl
		want string
	}{
		{Kubectl{Kubectl: filepath.Join(t.TempDir(), "kubectl"), Selector: "app=mail"}, "kubectl: not found"},
		{Kubectl{Kubectl: bin, Selector: "app=nope"}, "no pods match -l app=nope in kubectl's current namespace"},
		{Kubectl{Kubectl: bin, Selector: "app=nope", Namespace: "shop"}, "no pods match -l app=nope in namespace shop"},
		{Kubectl{Kubectl: bin, Selector: "app=crashy", Namespace: "shop"}, "none of the 1 pods matching -l app=crashy in namespace shop is Ready"},
		{Kubectl{Kubectl: bin, Selector: "app=debug"}, "pod debug has no controller to recreate it"},
		{Kubectl{Kubectl: bin, Selector: "app=debug", Action: "scale"}, "no deployments or statefulsets with replicas match -l app=debug"},
		{Kubectl{Kubectl: bin}, "names no selector"},
		{Kubectl{Kubectl: bin, Selector: "app=mail", Action: "drain"}, `kubectl action "drain": want delete or scale`},
		{Kubectl{Kubectl: bin, Selector: "app=mail,", Namespace: "shop"}, "--selector=app=mail, --output=json: exit status 1: error: unable to parse requirement"},
	} {
		if _, err := tc.k.Prepare(ctx); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v\nwant %q", tc.k, err, tc.want)
		}
	}

	t.Run("not-on-PATH", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		if _, err := (Kubectl{Selector: "app=mail"}).Prepare(ctx); err == nil || !strings.Contains(err.Error(), `kubectl: not found: exec: "kubectl": executable file not found in $PATH`) {
			t.Errorf("no kubectl on PATH: %v", err)
		}
		t.Setenv("PATH", filepath.Dir(bin))
		if _, err := (Kubectl{Selector: "app=mail"}).Prepare(ctx); err != nil {
			t.Errorf("kubectl from PATH: %v", err)
		}
	})

	// RBAC refuses the delete: kubectl's stderr says so.
	u, err := Kubectl{Kubectl: bin, Selector: "app=web"}.Prepare(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.change(func(s *fakeKubeState) { s.Forbid = []string{"delete"} })
	err = (Kubectl{}).Inject(ctx, u, Fault{})
	if err == nil || !strings.Contains(err.Error(), `deleting the pods: kubectl --context=staging --namespace=shop delete pods web-5f6d7c8b9-ddddd web-5f6d7c8b9-eeeee --ignore-not-found=true --wait=false: exit status 1: Error from server (Forbidden): pods is forbidden: User "ci" cannot delete resource "pods"`) {
		t.Errorf("forbidden delete: %v", err)
	}

	// A recorded workload is deleted: nothing can tell whether it is back.
	u, err = Kubectl{Kubectl: bin, Selector: "app=web", Action: "scale"}.Prepare(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.change(func(s *fakeKubeState) { s.Workloads = s.Workloads[:2] })
	if _, err := Active(ctx, u); err == nil || !strings.Contains(err.Error(), "deployment/web no longer matches -l app=web in namespace shop") {
		t.Errorf("Active of a deleted workload: %v", err)
	}
	if err := Restore(ctx, u); err == nil || !strings.Contains(err.Error(), `scaling deployment/web back to 2: kubectl --context=staging --namespace=shop scale deployment/web --replicas=2: exit status 1: Error from server (NotFound): deployments.apps "web" not found`) {
		t.Errorf("Restore of a deleted workload: %v", err)
	}
	if err := (Kubectl{}).Inject(ctx, Undo{Injector: "docker"}, Fault{}); err == nil {
		t.Error("Kubectl.Inject of a docker record: no error")
	}
}

// testKubectlNoContext: in a pod, kubeconfig names no context; the record
// has none and kubectl is run without --context.
func testKubectlNoContext(t *testing.T, bin string) {
	ctx := context.Background()
	c := newFakeCluster(t, bin)
	c.change(func(s *fakeKubeState) { s.Context = "" })
	u, err := Kubectl{Kubectl: bin, Selector: "app=web", Namespace: "shop"}.Prepare(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := (Kubectl{}).Inject(ctx, u, Fault{}); err != nil {
		t.Fatal(err)
	}
	for _, call := range c.calls() {
		if strings.Contains(call, "--context") {
			t.Errorf("kubectl run as %q, with no context to name", call)
		}
	}
}

// testKubectlRestoreTimeout: the pods do not come back before ctx ends;
// Restore says how far they got.
func testKubectlRestoreTimeout(t *testing.T, bin string) {
	c := newFakeCluster(t, bin)
	u, err := Kubectl{Kubectl: bin, Selector: "app=web"}.Prepare(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := (Kubectl{}).Inject(context.Background(), u, Fault{}); err != nil {
		t.Fatal(err)
	}
	c.change(func(s *fakeKubeState) { s.Workloads[2].Replicas = 1 }) // web's controller brings one pod back
	for range 2 {
		Active(context.Background(), u) // two steps of the controller: the pod is Ready
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = Restore(ctx, u)
	if err == nil || !strings.Contains(err.Error(), "waiting for 2 Ready pods matching -l app=web in namespace shop (1 so far): context deadline exceeded") {
		t.Errorf("Restore with too few pods: %v", err)
	}
}

// testRealKubectlAcceptsArgv runs every command line the injector ran
// through the real kubectl, against a cluster that refuses connections:
// kubectl parses its flags before it connects, so an argv it does not
// accept fails before the connection does.
func testRealKubectlAcceptsArgv(t *testing.T, argvs [][]string) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("no kubectl")
	}
	if len(argvs) == 0 {
		t.Fatal("no command lines to check")
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "kubeconfig")
	os.WriteFile(config, []byte(`apiVersion: v1
kind: Config
clusters:
- name: nowhere
  cluster: {server: "http://127.0.0.1:1"}
contexts:
- name: staging
  context: {cluster: nowhere, namespace: shop}
current-context: staging
users: []
`), 0o600)
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for _, argv := range argvs {
		line := strings.Join(argv, " ")
		if seen[line] {
			continue
		}
		seen[line] = true
		wg.Go(func() {
			cmd := exec.Command(kubectl, argv...)
			cmd.Env = append(os.Environ(), "KUBECONFIG="+config, "HOME="+dir)
			out, err := cmd.CombinedOutput()
			switch {
			case line == "config current-context":
				if err != nil || strings.TrimSpace(string(out)) != "staging" {
					t.Errorf("kubectl %s: %v\n%s", line, err, out)
				}
			case !strings.Contains(string(out), "The connection to the server 127.0.0.1:1 was refused"):
				t.Errorf("kubectl %s: it did not get as far as connecting: %v\n%s", line, err, out)
			}
		})
	}
	wg.Wait()
}

func TestKubectlMessage(t *testing.T) {
	for _, tc := range []struct{ stderr, want string }{
		{"Error from server (NotFound): deployments.apps \"web\" not found\n", `Error from server (NotFound): deployments.apps "web" not found`},
		{`E1123 14:03:03.484166   20457 memcache.go:265] "Unhandled Error" err="couldn't get current server API group list"
E1123 14:03:03.486448   20457 memcache.go:265] "Unhandled Error" err="couldn't get current server API group list"
The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?
`, "The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?"},
		{"W1123 14:03:03.484166   20457 loader.go:223] Config not found: /nope\n", "W1123 14:03:03.484166   20457 loader.go:223] Config not found: /nope"},
		{"", ""},
	} {
		if got := kubectlMessage(tc.stderr); got != tc.want {
			t.Errorf("kubectlMessage(%q) = %q, want %q", tc.stderr, got, tc.want)
		}
	}
}
