package inject

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// fakeDocker is a Docker Engine API server on a unix socket: the endpoints
// the docker injector and the docker CLI's pause, unpause, stop, start and
// inspect use, with the daemon's status codes and JSON shapes (moby's
// api/swagger.yaml; 409 and 403 answers as the daemon's errdefs map them).
// Containers live in memory.
type fakeDocker struct {
	sock             string
	minAPI, maxAPI   string // the versions it accepts, as GET /version tells
	mu               sync.Mutex
	containers       []*fakeContainer
	networks         []*fakeNetwork
	requests         []string // "POST /v1.47/containers/…/pause"
	nextIP, nextEPID int
}

type fakeContainer struct {
	ID, Name   string
	Running    bool
	Paused     bool
	AutoRemove bool
	Networks   map[string]*fakeEndpoint // by network name
}

// String shows the container in failure messages, endpoints included.
func (c *fakeContainer) String() string {
	data, _ := json.Marshal(c)
	return string(data)
}

type fakeNetwork struct{ ID, Name string }

// fakeEndpoint is Docker's EndpointSettings: configuration, then what the
// daemon fills in.
type fakeEndpoint struct {
	IPAMConfig *fakeIPAM
	Links      []string
	Aliases    []string
	DriverOpts map[string]string
	MacAddress string
	NetworkID  string
	EndpointID string
	Gateway    string
	IPAddress  string
	DNSNames   []string
}

type fakeIPAM struct {
	IPv4Address  string   `json:",omitempty"`
	IPv6Address  string   `json:",omitempty"`
	LinkLocalIPs []string `json:",omitempty"`
}

// startFakeDocker serves a fake daemon at API 1.47 (minimum 1.24), with
// network shop-net and containers:
//
//	shop-search  running, on shop-net with alias "search" and a static IPv4
//	shop-cache   running, on shop-net with no configuration
//	shop-old     exited
//	shop-tmp     running, started with --rm
func startFakeDocker(t *testing.T) *fakeDocker {
	t.Helper()
	// A short directory: a socket's path must fit in 108 bytes.
	dir, err := os.MkdirTemp("", "docker")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f := &fakeDocker{sock: filepath.Join(dir, "docker.sock"), minAPI: "1.24", maxAPI: "1.47"}
	net1 := &fakeNetwork{ID: "9d5ba2f3c1e04b7a8f6d2c3e1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b", Name: "shop-net"}
	f.networks = []*fakeNetwork{net1, {ID: "0123456789ab0123456789ab0123456789ab0123456789ab0123456789abcdef", Name: "other-net"}}
	f.containers = []*fakeContainer{
		{ID: "3f2a9c1d4e5b" + strings.Repeat("a", 52), Name: "shop-search", Running: true, Networks: map[string]*fakeEndpoint{
			"shop-net": {IPAMConfig: &fakeIPAM{IPv4Address: "172.18.0.10"}, Aliases: []string{"search"}, DriverOpts: map[string]string{"com.example.opt": "1"}},
		}},
		{ID: "7c1e0b2d3a4f" + strings.Repeat("b", 52), Name: "shop-cache", Running: true, Networks: map[string]*fakeEndpoint{"shop-net": {}}},
		{ID: "5e6f7a8b9c0d" + strings.Repeat("c", 52), Name: "shop-old"},
		{ID: "1a2b3c4d5e6f" + strings.Repeat("d", 52), Name: "shop-tmp", Running: true, AutoRemove: true},
	}
	for _, c := range f.containers {
		for name, ep := range c.Networks {
			f.attach(ep, f.network(name))
		}
	}
	l, err := net.Listen("unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return f
}

// log returns the requests the fake has answered.
func (f *fakeDocker) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// host is the fake's address, as a binding's Host names it.
func (f *fakeDocker) host() string { return "unix://" + f.sock }

var apiPrefix = regexp.MustCompile(`^/v(\d+\.\d+)(/.*)$`)

func (f *fakeDocker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	path := r.URL.Path
	if m := apiPrefix.FindStringSubmatch(path); m != nil {
		switch v := m[1]; {
		case apiVersionLess(f.maxAPI, v):
			dockerFail(w, http.StatusBadRequest, "client version %s is too new. Maximum supported API version is %s", v, f.maxAPI)
			return
		case apiVersionLess(v, f.minAPI):
			dockerFail(w, http.StatusBadRequest, "client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", v, f.minAPI)
			return
		}
		path = m[2]
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case path == "/_ping" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		h := w.Header()
		h.Set("API-Version", f.maxAPI)
		h.Set("Builder-Version", "2")
		h.Set("Docker-Experimental", "false")
		h.Set("OSType", "linux")
		h.Set("Swarm", "inactive")
		h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
		h.Set("Pragma", "no-cache")
		h.Set("Content-Type", "text/plain; charset=utf-8")
		if r.Method == http.MethodGet {
			w.Write([]byte("OK"))
		}
	case path == "/version" && r.Method == http.MethodGet:
		dockerJSON(w, http.StatusOK, map[string]any{
			"Platform":   map[string]string{"Name": "Docker Engine - Community"},
			"Components": []map[string]any{{"Name": "Engine", "Version": "27.5.1", "Details": map[string]string{"ApiVersion": f.maxAPI, "MinAPIVersion": f.minAPI, "Os": "linux", "Arch": "amd64"}}},
			"Version":    "27.5.1", "ApiVersion": f.maxAPI, "MinAPIVersion": f.minAPI,
			"GitCommit": "4c9b3b0", "GoVersion": "go1.22.11", "Os": "linux", "Arch": "amd64", "KernelVersion": "6.8.0",
		})
	case len(parts) == 3 && parts[0] == "containers" && parts[2] == "json" && r.Method == http.MethodGet:
		if c := f.find(w, parts[1]); c != nil {
			dockerJSON(w, http.StatusOK, f.inspect(c))
		}
	case len(parts) == 3 && parts[0] == "containers" && r.Method == http.MethodPost:
		if c := f.find(w, parts[1]); c != nil {
			f.lifecycle(w, c, parts[2])
		}
	case len(parts) == 3 && parts[0] == "networks" && r.Method == http.MethodPost && (parts[2] == "connect" || parts[2] == "disconnect"):
		f.connect(w, r, parts[1], parts[2] == "connect")
	default:
		dockerFail(w, http.StatusNotFound, "page not found")
	}
}

// lifecycle answers POST /containers/{id}/pause, unpause, stop and start.
func (f *fakeDocker) lifecycle(w http.ResponseWriter, c *fakeContainer, verb string) {
	switch verb {
	case "pause":
		switch {
		case !c.Running:
			dockerFail(w, http.StatusConflict, "Container %s is not running", c.ID)
			return
		case c.Paused:
			dockerFail(w, http.StatusConflict, "Container %s is already paused", c.ID)
			return
		}
		c.Paused = true
	case "unpause":
		if !c.Paused {
			dockerFail(w, http.StatusConflict, "Container %s is not paused", c.ID)
			return
		}
		c.Paused = false
	case "stop":
		if !c.Running {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		c.Running, c.Paused = false, false
		if c.AutoRemove {
			f.containers = deleteFunc(f.containers, c)
		}
	case "start":
		switch {
		case c.Paused:
			dockerFail(w, http.StatusConflict, "cannot start a paused container, try unpause instead")
			return
		case c.Running:
			w.WriteHeader(http.StatusNotModified)
			return
		}
		c.Running = true
	default:
		dockerFail(w, http.StatusNotFound, "page not found")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// connect answers POST /networks/{id}/connect and disconnect.
func (f *fakeDocker) connect(w http.ResponseWriter, r *http.Request, ref string, connect bool) {
	var req struct {
		Container      string
		EndpointConfig *fakeEndpoint
		Force          bool
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		dockerFail(w, http.StatusBadRequest, "invalid JSON: %v", err)
		return
	}
	n := f.network(ref)
	if n == nil {
		dockerFail(w, http.StatusNotFound, "network %s not found", ref)
		return
	}
	c := f.find(w, req.Container)
	if c == nil {
		return
	}
	_, on := c.Networks[n.Name]
	switch {
	case connect && on:
		dockerFail(w, http.StatusForbidden, "endpoint with name %s already exists in network %s", c.Name, n.Name)
		return
	case connect:
		ep := &fakeEndpoint{}
		if req.EndpointConfig != nil {
			cfg := req.EndpointConfig
			ep = &fakeEndpoint{IPAMConfig: cfg.IPAMConfig, Links: cfg.Links, Aliases: cfg.Aliases, DriverOpts: cfg.DriverOpts}
		}
		f.attach(ep, n)
		c.Networks[n.Name] = ep
	case !on:
		dockerFail(w, http.StatusInternalServerError, "container %s is not connected to network %s", c.ID, n.Name)
		return
	default:
		delete(c.Networks, n.Name)
	}
	w.WriteHeader(http.StatusOK)
}

// attach fills in what the daemon decides about an endpoint.
func (f *fakeDocker) attach(ep *fakeEndpoint, n *fakeNetwork) {
	f.nextIP++
	f.nextEPID++
	ep.NetworkID = n.ID
	ep.EndpointID = fmt.Sprintf("%064x", f.nextEPID)
	ep.Gateway = "172.18.0.1"
	ep.IPAddress = fmt.Sprintf("172.18.0.%d", 100+f.nextIP)
	if ep.IPAMConfig != nil && ep.IPAMConfig.IPv4Address != "" {
		ep.IPAddress = ep.IPAMConfig.IPv4Address
	}
	ep.MacAddress = fmt.Sprintf("02:42:ac:12:00:%02x", f.nextIP)
	ep.DNSNames = []string{}
}

// find resolves a container reference as the daemon does: full ID, name
// (with or without its leading slash), or a unique ID prefix. It answers
// 404 itself when there is none.
func (f *fakeDocker) find(w http.ResponseWriter, ref string) *fakeContainer {
	var prefixed []*fakeContainer
	for _, c := range f.containers {
		if c.ID == ref || c.Name == strings.TrimPrefix(ref, "/") {
			return c
		}
		if strings.HasPrefix(c.ID, ref) {
			prefixed = append(prefixed, c)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	dockerFail(w, http.StatusNotFound, "No such container: %s", ref)
	return nil
}

func (f *fakeDocker) network(ref string) *fakeNetwork {
	for _, n := range f.networks {
		if n.ID == ref || n.Name == ref || len(ref) >= 12 && strings.HasPrefix(n.ID, ref) {
			return n
		}
	}
	return nil
}

// inspect is the ContainerInspect answer, in the daemon's shape.
func (f *fakeDocker) inspect(c *fakeContainer) map[string]any {
	status := "exited"
	switch {
	case c.Paused:
		status = "paused"
	case c.Running:
		status = "running"
	}
	pid := 0
	if c.Running {
		pid = 4242
	}
	return map[string]any{
		"Id": c.ID, "Name": "/" + c.Name, "Created": "2025-01-20T10:00:00.000000000Z",
		"Image": "sha256:" + strings.Repeat("e", 64), "Driver": "overlay2", "Platform": "linux", "RestartCount": 0,
		"State": map[string]any{
			"Status": status, "Running": c.Running, "Paused": c.Paused, "Restarting": false, "OOMKilled": false,
			"Dead": false, "Pid": pid, "ExitCode": 0, "Error": "",
			"StartedAt": "2025-01-20T10:00:01.000000000Z", "FinishedAt": "0001-01-01T00:00:00Z",
		},
		"Config":          map[string]any{"Hostname": c.ID[:12], "Image": "redis:7", "Labels": map[string]string{}},
		"HostConfig":      map[string]any{"AutoRemove": c.AutoRemove, "NetworkMode": "bridge", "RestartPolicy": map[string]any{"Name": "no", "MaximumRetryCount": 0}},
		"NetworkSettings": map[string]any{"Networks": c.Networks, "Ports": map[string]any{}, "SandboxKey": "/var/run/docker/netns/" + c.ID[:12]},
		"Mounts":          []any{},
	}
}

func dockerJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func dockerFail(w http.ResponseWriter, status int, format string, args ...any) {
	dockerJSON(w, status, map[string]string{"message": fmt.Sprintf(format, args...)})
}

func deleteFunc(cs []*fakeContainer, c *fakeContainer) []*fakeContainer {
	var out []*fakeContainer
	for _, x := range cs {
		if x != c {
			out = append(out, x)
		}
	}
	return out
}

// container returns a copy of the named container's state, nil if gone.
func (f *fakeDocker) container(name string) *fakeContainer {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.containers {
		if c.Name == name {
			cp := *c
			cp.Networks = map[string]*fakeEndpoint{}
			for k, ep := range c.Networks {
				e := *ep
				cp.Networks[k] = &e
			}
			return &cp
		}
	}
	return nil
}

func (f *fakeDocker) set(name string, change func(c *fakeContainer)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.containers {
		if c.Name == name {
			change(c)
		}
	}
}

func TestDockerActions(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		d Docker
		// faulty and healthy check the fake's state with the fault in and
		// after its restore.
		faulty, healthy func(c *fakeContainer) bool
	}{
		{
			d:       Docker{Container: "shop-cache"}, // pause by default
			faulty:  func(c *fakeContainer) bool { return c.Running && c.Paused },
			healthy: func(c *fakeContainer) bool { return c.Running && !c.Paused },
		},
		{
			d:       Docker{Container: "shop-cache", Action: "stop"},
			faulty:  func(c *fakeContainer) bool { return !c.Running },
			healthy: func(c *fakeContainer) bool { return c.Running && !c.Paused },
		},
		{
			d:      Docker{Container: "shop-search", Action: "disconnect", Network: "shop-net"},
			faulty: func(c *fakeContainer) bool { return c.Networks["shop-net"] == nil },
			healthy: func(c *fakeContainer) bool {
				ep := c.Networks["shop-net"]
				return ep != nil && reflect.DeepEqual(ep.Aliases, []string{"search"}) &&
					ep.IPAMConfig != nil && ep.IPAMConfig.IPv4Address == "172.18.0.10" && ep.IPAddress == "172.18.0.10" &&
					ep.DriverOpts["com.example.opt"] == "1"
			},
		},
		{
			d:      Docker{Container: "shop-cache", Action: "disconnect", Network: "shop-net"},
			faulty: func(c *fakeContainer) bool { return c.Networks["shop-net"] == nil },
			healthy: func(c *fakeContainer) bool {
				ep := c.Networks["shop-net"]
				return ep != nil && ep.IPAMConfig == nil && ep.Aliases == nil
			},
		},
	} {
		t.Run(tc.d.Container+"-"+cmp.Or(tc.d.Action, "pause"), func(t *testing.T) {
			f := startFakeDocker(t)
			tc.d.Host = f.host()
			u, err := tc.d.Prepare(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if c := f.container(tc.d.Container); !tc.healthy(c) {
				t.Fatalf("Prepare changed the container: %+v", c)
			}
			u = journalled(t, u)
			if on, err := Active(ctx, u); err != nil || on {
				t.Errorf("before Docker.Inject, Active = %v, %v; want false", on, err)
			}
			if err := (Docker{}).Inject(ctx, u, Fault{}); err != nil {
				t.Fatal(err)
			}
			if c := f.container(tc.d.Container); !tc.faulty(c) {
				t.Errorf("after Docker.Inject, the container is %+v", c)
			}
			if on, err := Active(ctx, u); err != nil || !on {
				t.Errorf("Active = %v, %v; want true", on, err)
			}
			if err := Restore(ctx, u); err != nil {
				t.Fatal(err)
			}
			if c := f.container(tc.d.Container); !tc.healthy(c) {
				t.Errorf("after Restore, the container is %+v", c)
			}
			if on, err := Active(ctx, u); err != nil || on {
				t.Errorf("after Restore, Active = %v, %v; want false", on, err)
			}
			if err := Restore(ctx, u); err != nil {
				t.Errorf("second Restore: %v, want nil (idempotent)", err)
			}
			for _, req := range f.log() {
				if !strings.HasPrefix(req, "GET /_ping") && !strings.Contains(req, " /v1.47/") {
					t.Errorf("request %q: want the negotiated version prefix /v1.47", req)
				}
			}
		})
	}
}

// TestDockerUndoRecord pins the journalled record of a disconnect: the
// container by ID and the endpoint configuration to connect it back with.
func TestDockerUndoRecord(t *testing.T) {
	f := startFakeDocker(t)
	u, err := Docker{Host: f.host(), Container: "shop-search", Action: "disconnect", Network: "shop-net"}.Prepare(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"host":"unix://` + f.sock + `","id":"3f2a9c1d4e5b` + strings.Repeat("a", 52) + `","container":"shop-search","action":"disconnect",` +
		`"network":"shop-net","network_id":"9d5ba2f3c1e04b7a8f6d2c3e1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b",` +
		`"endpoint":{"IPAMConfig":{"IPv4Address":"172.18.0.10"},"Aliases":["search"],"DriverOpts":{"com.example.opt":"1"}}}`
	if u.Injector != "docker" || string(u.Data) != want {
		t.Errorf("undo record %s %s\nwant docker %s", u.Injector, u.Data, want)
	}
}

func TestDockerRestoreWhenAlreadyRestored(t *testing.T) {
	ctx := context.Background()
	f := startFakeDocker(t)
	for _, action := range []string{"pause", "stop", "disconnect"} {
		u, err := Docker{Host: f.host(), Container: "shop-search", Action: action, Network: "shop-net"}.Prepare(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Never injected, or restored by someone else: Docker answers 409,
		// 304 or nothing to do, and Restore succeeds.
		if err := Restore(ctx, u); err != nil {
			t.Errorf("%s: Restore of a fault not in place: %v", action, err)
		}
	}
	if c := f.container("shop-search"); !c.Running || c.Paused || len(c.Networks) != 1 {
		t.Errorf("the container changed: %+v", c)
	}
}

func TestDockerErrors(t *testing.T) {
	ctx := context.Background()
	f := startFakeDocker(t)
	missing := filepath.Join(t.TempDir(), "nodocker.sock")
	for _, tc := range []struct {
		d    Docker
		want string
	}{
		{Docker{Container: "shop-nope"}, "No such container: shop-nope (Docker answered 404)"},
		{Docker{Container: "shop-old"}, "docker container shop-old is not running (exited)"},
		{Docker{Container: "shop-tmp", Action: "stop"}, "started with --rm"},
		{Docker{Container: "shop-cache", Action: "disconnect", Network: "other-net"}, "docker container shop-cache is not on network other-net (it is on shop-net)"},
		{Docker{Container: "shop-cache", Action: "disconnect"}, "action disconnect needs a network"},
		{Docker{Container: "shop-cache", Action: "kill"}, `docker action "kill": want pause, stop or disconnect`},
		{Docker{Host: "unix://" + missing, Container: "shop-cache"}, "cannot reach the Docker daemon at unix://" + missing},
		{Docker{Host: "unix://" + missing, Container: "shop-cache"}, "is the Docker daemon running? DOCKER_HOST="},
		{Docker{Host: "ssh://me@box", Container: "shop-cache"}, `docker host "ssh://me@box": want unix:///path or tcp://host:port`},
	} {
		if tc.d.Host == "" {
			tc.d.Host = f.host()
		}
		if _, err := tc.d.Prepare(ctx); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v\nwant %q", tc.d, err, tc.want)
		}
	}

	f.set("shop-cache", func(c *fakeContainer) { c.Paused = true })
	if _, err := (Docker{Host: f.host(), Container: "shop-cache"}).Prepare(ctx); err == nil || !strings.Contains(err.Error(), "is paused: it is failing already") {
		t.Errorf("paused container: %v", err)
	}
	f.set("shop-cache", func(c *fakeContainer) { c.Paused = false })

	// The container goes away between Prepare and the restore: nothing
	// can bring it back, and Restore says so.
	u, err := Docker{Host: f.host(), Container: "shop-cache", Action: "stop"}.Prepare(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.containers = f.containers[:1]
	f.mu.Unlock()
	if err := (Docker{}).Inject(ctx, u, Fault{}); err == nil || !strings.Contains(err.Error(), "stopping docker container shop-cache (7c1e0b2d3a4f): No such container") {
		t.Errorf("inject on a removed container: %v", err)
	}
	if err := Restore(ctx, u); err == nil || !strings.Contains(err.Error(), "No such container") {
		t.Errorf("restore of a removed container: %v", err)
	}
	if err := (Docker{}).Inject(ctx, Undo{Injector: "proxy"}, Fault{}); err == nil {
		t.Error("Docker.Inject of a proxy record: no error")
	}
}

func TestDockerPermissionHint(t *testing.T) {
	api := &dockerAPI{host: "unix:///var/run/docker.sock"}
	err := api.unreachable(context.Background(), &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.EACCES)})
	if !strings.Contains(err.Error(), "permission denied (add the user to the docker group, or run as root)") {
		t.Errorf("EACCES: %v", err)
	}
	if !errors.Is(err, syscall.EACCES) {
		t.Errorf("%v does not wrap EACCES", err)
	}
}

func TestDockerVersionNegotiation(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		daemonMin, daemonMax string
		speak, err           string
	}{
		{"1.24", "1.47", "1.47", ""},
		{"1.44", "1.52", "1.52", ""}, // Docker 29: refuses anything older than 1.44
		{"1.44", "1.60", "1.52", ""}, // newer than the injector knows: speak its newest
		{"1.12", "1.23", "", "speaks API 1.23; the docker injector needs 1.24 or later"},
	} {
		f := startFakeDocker(t)
		f.mu.Lock()
		f.minAPI, f.maxAPI = tc.daemonMin, tc.daemonMax
		f.mu.Unlock()
		api, err := dialDocker(ctx, f.host())
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("daemon %s-%s: %v, want %q", tc.daemonMin, tc.daemonMax, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if api.version != tc.speak {
			t.Errorf("daemon %s-%s: speaks %s, want %s", tc.daemonMin, tc.daemonMax, api.version, tc.speak)
		}
		if _, err := api.inspect(ctx, "shop-cache"); err != nil {
			t.Errorf("daemon %s-%s: %v", tc.daemonMin, tc.daemonMax, err)
		}
	}
}

func TestDockerHost(t *testing.T) {
	for _, tc := range []struct {
		host, env, tls string
		want, err      string
	}{
		{"", "", "", "unix:///var/run/docker.sock", ""},
		{"", "unix:///run/user/1000/docker.sock", "", "unix:///run/user/1000/docker.sock", ""},
		{"", "tcp://10.0.0.5:2375", "", "tcp://10.0.0.5:2375", ""},
		{"", "tcp://10.0.0.5:2376", "1", "", "needs TLS"},
		{"", "ssh://me@box", "", "", "DOCKER_HOST=ssh://me@box: the docker injector speaks unix:// and tcp:// only"},
		{"unix:///tmp/d.sock", "tcp://10.0.0.5:2375", "", "unix:///tmp/d.sock", ""},
		{"/var/run/docker.sock", "", "", "", "want unix:///path"},
	} {
		t.Setenv("DOCKER_HOST", tc.env)
		t.Setenv("DOCKER_TLS_VERIFY", tc.tls)
		t.Setenv("DOCKER_CERT_PATH", "")
		got, err := dockerHost(tc.host)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("host %q, DOCKER_HOST=%q: %v, want %q", tc.host, tc.env, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("host %q, DOCKER_HOST=%q: %q, %v; want %q", tc.host, tc.env, got, err, tc.want)
		}
	}
}

// TestFakeDockerWithTheCLI drives the fake daemon with the real docker
// CLI, which negotiates its API version and decodes the answers with the
// Docker SDK's types: the fake answers as a daemon does, or this fails.
func TestFakeDockerWithTheCLI(t *testing.T) {
	cli, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("no docker CLI")
	}
	f := startFakeDocker(t)
	config := t.TempDir()
	docker := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(cli, append([]string{"-H", f.host()}, args...)...)
		cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+config, "DOCKER_CONTEXT=", "DOCKER_HOST=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if out := docker("pause", "shop-cache"); out != "shop-cache" {
		t.Errorf("docker pause: %q", out)
	}
	if c := f.container("shop-cache"); !c.Paused {
		t.Error("docker pause did not pause the fake's container")
	}
	if out := docker("inspect", "-f", "{{.State.Paused}} {{.State.Status}} {{.Id}}", "shop-cache"); out != "true paused "+f.container("shop-cache").ID {
		t.Errorf("docker inspect: %q", out)
	}
	docker("unpause", "shop-cache")
	docker("stop", "shop-cache")
	if out := docker("inspect", "-f", "{{.State.Running}}", "shop-cache"); out != "false" {
		t.Errorf("after docker stop, Running = %q", out)
	}
	docker("start", "shop-cache")
	if c := f.container("shop-cache"); !c.Running || c.Paused {
		t.Errorf("after the CLI's pause, unpause, stop and start, the container is %+v", c)
	}
	if out := docker("version", "--format", "{{.Server.APIVersion}} {{.Server.MinAPIVersion}}"); out != "1.47 1.24" {
		t.Errorf("docker version: %q", out)
	}
	// The network endpoints, with the CLI's request bodies.
	docker("network", "disconnect", "shop-net", "shop-search")
	if c := f.container("shop-search"); c.Networks["shop-net"] != nil {
		t.Error("docker network disconnect did not disconnect")
	}
	docker("network", "connect", "--alias", "search", "--ip", "172.18.0.10", "shop-net", "shop-search")
	endpoint := `{{json (index .NetworkSettings.Networks "shop-net").Aliases}} {{(index .NetworkSettings.Networks "shop-net").IPAMConfig.IPv4Address}}`
	if out := docker("inspect", "-f", endpoint, "shop-search"); out != `["search"] 172.18.0.10` {
		t.Errorf("docker inspect of the endpoint docker network connect made: %q", out)
	}
	for _, req := range f.log() {
		if strings.Contains(req, "/v1.") && !strings.Contains(req, "/v1.47/") {
			t.Errorf("the CLI sent %q: it did not negotiate down to the fake's 1.47", req)
		}
	}
}
