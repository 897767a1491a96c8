package inject

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Docker injects a fault into a Docker container through the Docker
// Engine API: it pauses the container (its processes freeze; connections
// to it hang), stops it (it is gone), or disconnects it from a network
// (its peers there can no longer resolve or reach it). It speaks HTTP to
// the daemon's socket itself, with no Docker SDK.
type Docker struct {
	// Host is the daemon: unix:///path/to/docker.sock or tcp://host:port
	// (plain HTTP). "" means $DOCKER_HOST, else unix:///var/run/docker.sock;
	// docker contexts are not read.
	Host      string
	Container string // name or ID
	Action    string // "pause" (the default), "stop" or "disconnect"
	Network   string // the network to disconnect from: disconnect only
}

// The actions of a docker binding.
const (
	dockerPause      = "pause"
	dockerStop       = "stop"
	dockerDisconnect = "disconnect"
)

// dockerStopTimeout is how long, in seconds, Docker lets the container's
// process end after SIGTERM before it sends SIGKILL: docker stop's default.
const dockerStopTimeout = 10

// dockerUndo records the container by ID, not by name, so that a restore
// never touches another container that took the name since.
type dockerUndo struct {
	Host      string          `json:"host"`
	ID        string          `json:"id"`
	Container string          `json:"container"` // as the binding names it, for messages
	Action    string          `json:"action"`
	Network   string          `json:"network,omitempty"`
	NetworkID string          `json:"network_id,omitempty"`
	Endpoint  *dockerEndpoint `json:"endpoint,omitempty"` // how the container was attached to Network
}

// dockerEndpoint is the configured part of Docker's EndpointSettings: what
// network connect takes back to attach the container as it was. The
// addresses Docker picked by itself are not in it (pinning them fails on
// networks without a user-configured subnet), so a container without a
// static address may come back with another one, as after `docker
// network disconnect` and `connect`.
type dockerEndpoint struct {
	IPAMConfig json.RawMessage   `json:"IPAMConfig,omitempty"` // passed back untouched
	Links      []string          `json:"Links,omitempty"`
	Aliases    []string          `json:"Aliases,omitempty"`
	DriverOpts map[string]string `json:"DriverOpts,omitempty"`
	GwPriority int               `json:"GwPriority,omitempty"` // API 1.48
}

// Prepare finds the container, which must be running (and not paused) and,
// to be disconnected, on the network, and returns the undo record of its
// fault; nothing is changed yet. The record holds everything Inject
// needs: the container's ID and how it is attached to the network.
func (d Docker) Prepare(ctx context.Context) (Undo, error) {
	action := cmp.Or(d.Action, dockerPause)
	switch action {
	case dockerPause, dockerStop:
	case dockerDisconnect:
		if d.Network == "" {
			return Undo{}, fmt.Errorf("docker container %s: action disconnect needs a network", d.Container)
		}
	default:
		return Undo{}, fmt.Errorf("docker action %q: want pause, stop or disconnect", d.Action)
	}
	if d.Container == "" {
		return Undo{}, errors.New("docker binding names no container")
	}
	host, err := dockerHost(d.Host)
	if err != nil {
		return Undo{}, err
	}
	api, err := dialDocker(ctx, host)
	if err != nil {
		return Undo{}, err
	}
	c, err := api.inspect(ctx, d.Container)
	if err != nil {
		return Undo{}, fmt.Errorf("docker container %s: %w", d.Container, err)
	}
	switch {
	case c.State.Paused:
		return Undo{}, fmt.Errorf("docker container %s is paused: it is failing already", d.Container)
	case !c.State.Running:
		return Undo{}, fmt.Errorf("docker container %s is not running (%s)", d.Container, c.State.Status)
	case action == dockerStop && c.HostConfig.AutoRemove:
		return Undo{}, fmt.Errorf("docker container %s was started with --rm: stopping it would remove it, and nothing could start it again", d.Container)
	}
	u := dockerUndo{Host: host, ID: c.ID, Container: d.Container, Action: action}
	if action == dockerDisconnect {
		name, ep, ok := c.network(d.Network)
		if !ok {
			return Undo{}, fmt.Errorf("docker container %s is not on network %s (it is on %s)", d.Container, d.Network, c.networkNames())
		}
		u.Network, u.NetworkID = name, ep.NetworkID
		u.Endpoint = &dockerEndpoint{IPAMConfig: ep.IPAMConfig, Links: ep.Links, Aliases: ep.Aliases, DriverOpts: ep.DriverOpts, GwPriority: ep.GwPriority}
		if string(u.Endpoint.IPAMConfig) == "null" {
			u.Endpoint.IPAMConfig = nil
		}
	}
	return marshalUndo("docker", u), nil
}

// Inject puts in the fault that u, from Prepare, describes:
// it pauses, stops or disconnects the container Prepare found. The
// binding's action is the fault, whatever fault the experiment names.
func (Docker) Inject(ctx context.Context, u Undo, _ Fault) error {
	d, err := decodeDockerUndo(u)
	if err != nil {
		return err
	}
	api, err := dialDocker(ctx, d.Host)
	if err != nil {
		return err
	}
	switch d.Action {
	case dockerPause:
		if err := api.call(ctx, http.MethodPost, d.containerPath("pause"), nil, nil); err != nil {
			return fmt.Errorf("pausing docker container %s: %w", d, err)
		}
	case dockerStop:
		err := api.call(ctx, http.MethodPost, d.containerPath("stop")+"?t="+strconv.Itoa(dockerStopTimeout), nil, nil)
		if dockerStatus(err) == http.StatusNotModified {
			return fmt.Errorf("stopping docker container %s: it was stopped already, not by this experiment", d)
		}
		if err != nil {
			return fmt.Errorf("stopping docker container %s: %w", d, err)
		}
	case dockerDisconnect:
		body := map[string]any{"Container": d.ID, "Force": true}
		if err := api.call(ctx, http.MethodPost, d.networkPath("disconnect"), body, nil); err != nil {
			return fmt.Errorf("disconnecting docker container %s from network %s: %w", d, d.Network, err)
		}
	default:
		return fmt.Errorf("%w: docker: unknown action %q", ErrBadUndo, d.Action)
	}
	return nil
}

func decodeDockerUndo(u Undo) (*dockerUndo, error) {
	if u.Injector != "docker" {
		return nil, fmt.Errorf("undo record of a %s fault, not docker", u.Injector)
	}
	d, err := decodeUndo(u)
	if err != nil {
		return nil, err
	}
	return d.(*dockerUndo), nil
}

// String names the container for messages: as the binding names it, with
// its short ID.
func (u dockerUndo) String() string {
	return fmt.Sprintf("%s (%.12s)", u.Container, u.ID)
}

func (u dockerUndo) containerPath(verb string) string {
	return "/containers/" + url.PathEscape(u.ID) + "/" + verb
}

func (u dockerUndo) networkPath(verb string) string {
	return "/networks/" + url.PathEscape(cmp.Or(u.NetworkID, u.Network)) + "/" + verb
}

// restore unpauses, starts or reconnects the container. Docker's answers
// that mean "it is so already" (304 Not Modified from start, 409 from
// unpause, 403 from connect) count as success once an inspect confirms
// the container is back. A container that no longer exists cannot be
// restored: that is an error, for a human to look at.
func (u dockerUndo) restore(ctx context.Context) error {
	api, err := dialDocker(ctx, u.Host)
	if err != nil {
		return err
	}
	switch u.Action {
	case dockerPause:
		err := api.call(ctx, http.MethodPost, u.containerPath("unpause"), nil, nil)
		if dockerStatus(err) == http.StatusConflict { // "is not paused", or it cannot be
			if on, aerr := u.activeOn(ctx, api); aerr == nil && !on {
				return nil
			}
		}
		if err != nil {
			return fmt.Errorf("unpausing docker container %s: %w", u, err)
		}
	case dockerStop:
		err := api.call(ctx, http.MethodPost, u.containerPath("start"), nil, nil)
		if err != nil && dockerStatus(err) != http.StatusNotModified { // 304: running already
			return fmt.Errorf("starting docker container %s: %w", u, err)
		}
	case dockerDisconnect:
		on, err := u.activeOn(ctx, api)
		if err != nil {
			return err
		}
		if !on {
			return nil
		}
		body := map[string]any{"Container": u.ID, "EndpointConfig": u.Endpoint}
		err = api.call(ctx, http.MethodPost, u.networkPath("connect"), body, nil)
		if err != nil && dockerStatus(err) == http.StatusForbidden { // connected meanwhile?
			if on, aerr := u.activeOn(ctx, api); aerr == nil && !on {
				return nil
			}
		}
		if err != nil {
			return fmt.Errorf("reconnecting docker container %s to network %s: %w", u, u.Network, err)
		}
	default:
		return fmt.Errorf("%w: docker: unknown action %q", ErrBadUndo, u.Action)
	}
	return nil
}

func (u dockerUndo) active(ctx context.Context) (bool, error) {
	api, err := dialDocker(ctx, u.Host)
	if err != nil {
		return false, err
	}
	return u.activeOn(ctx, api)
}

// activeOn inspects the container: paused, not running, or not on the
// network, as the action goes.
func (u dockerUndo) activeOn(ctx context.Context, api *dockerAPI) (bool, error) {
	c, err := api.inspect(ctx, u.ID)
	if err != nil {
		return false, fmt.Errorf("docker container %s: %w", u, err)
	}
	switch u.Action {
	case dockerPause:
		return c.State.Paused, nil
	case dockerStop:
		return !c.State.Running, nil
	case dockerDisconnect:
		_, _, on := c.network(cmp.Or(u.NetworkID, u.Network))
		if !on && u.NetworkID != "" {
			_, _, on = c.network(u.Network)
		}
		return !on, nil
	}
	return false, fmt.Errorf("%w: docker: unknown action %q", ErrBadUndo, u.Action)
}

// dockerContainer is the part of Docker's ContainerInspect answer that the
// injector reads.
type dockerContainer struct {
	ID    string `json:"Id"`
	State struct {
		Status  string // running, paused, exited…
		Running bool   // true while paused, too
		Paused  bool
	}
	HostConfig struct {
		AutoRemove bool
	}
	NetworkSettings struct {
		Networks map[string]dockerEndpointSettings // by network name
	}
}

// dockerEndpointSettings is Docker's EndpointSettings, as inspect shows it.
type dockerEndpointSettings struct {
	IPAMConfig json.RawMessage
	Links      []string
	Aliases    []string
	DriverOpts map[string]string
	GwPriority int
	NetworkID  string
}

// network finds the container's endpoint on the network named nameOrID:
// by name, by ID, or by an ID prefix of at least 12 characters.
func (c dockerContainer) network(nameOrID string) (string, dockerEndpointSettings, bool) {
	if ep, ok := c.NetworkSettings.Networks[nameOrID]; ok {
		return nameOrID, ep, true
	}
	for name, ep := range c.NetworkSettings.Networks {
		if ep.NetworkID == nameOrID || len(nameOrID) >= 12 && strings.HasPrefix(ep.NetworkID, nameOrID) {
			return name, ep, true
		}
	}
	return "", dockerEndpointSettings{}, false
}

func (c dockerContainer) networkNames() string {
	var names []string
	for name := range c.NetworkSettings.Networks {
		names = append(names, name)
	}
	if len(names) == 0 {
		return "no network"
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// The Engine API versions the injector speaks. Everything it uses (pause,
// stop, start, inspect, network connect with an EndpointConfig and
// disconnect with Force) is in API 1.22, but Docker 25 refuses versions
// below 1.24 and Docker 29 below 1.44, so no single pinned version works
// with every daemon. Like the docker CLI, the injector asks the daemon
// (GET /_ping, header API-Version) and speaks its newest version, capped
// at the newest one checked against the fields read and sent here.
const (
	dockerMinAPI = "1.24"
	dockerMaxAPI = "1.52" // Docker 29
)

// dockerAPI is a client of one Docker daemon, at one API version.
type dockerAPI struct {
	host    string // as the undo record names it: unix:///var/run/docker.sock
	base    string // http://docker/v1.47
	version string
	http    *http.Client
}

// dockerHost resolves a binding's host: "" means $DOCKER_HOST, else the
// default socket. Only unix:// and tcp:// (plain HTTP) are spoken: a
// DOCKER_HOST that needs TLS or ssh is an error rather than a silent
// fallback to another daemon, which would fault the wrong container.
func dockerHost(host string) (string, error) {
	fromEnv := false
	if host == "" {
		host, fromEnv = os.Getenv("DOCKER_HOST"), true
	}
	if host == "" {
		return "unix:///var/run/docker.sock", nil
	}
	scheme, rest, ok := strings.Cut(host, "://")
	switch {
	case !ok || rest == "":
	case scheme == "unix":
		return host, nil
	case scheme == "tcp":
		if fromEnv && (os.Getenv("DOCKER_TLS_VERIFY") != "" || os.Getenv("DOCKER_CERT_PATH") != "") {
			return "", fmt.Errorf("DOCKER_HOST=%s needs TLS, which the docker injector does not speak: use a unix socket", host)
		}
		return host, nil
	}
	if fromEnv {
		return "", fmt.Errorf("DOCKER_HOST=%s: the docker injector speaks unix:// and tcp:// only", host)
	}
	return "", fmt.Errorf("docker host %q: want unix:///path or tcp://host:port", host)
}

// dialDocker returns a client of the daemon at host, at the API version
// it negotiated.
func dialDocker(ctx context.Context, host string) (*dockerAPI, error) {
	network, addr, ok := strings.Cut(host, "://")
	if !ok || network != "unix" && network != "tcp" {
		return nil, fmt.Errorf("docker host %q: want unix:///path or tcp://host:port", host)
	}
	base := "http://docker" // any name: the socket is the address
	if network == "tcp" {
		addr = strings.TrimSuffix(addr, "/")
		base = "http://" + addr
	}
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	// No keep-alive: a client lives for a call or two, and leaves no idle
	// connection (nor goroutine) behind.
	tr := &http.Transport{DialContext: dial, DisableKeepAlives: true}
	api := &dockerAPI{host: host, base: base, http: &http.Client{Transport: tr}}
	if err := api.negotiate(ctx); err != nil {
		return nil, err
	}
	return api, nil
}

// negotiate picks the API version: the daemon's newest, capped at
// dockerMaxAPI, as the docker CLI does. A daemon too old to say (API
// before 1.25) is spoken to at dockerMinAPI.
func (a *dockerAPI) negotiate(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/_ping", nil)
	if err != nil {
		return err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return a.unreachable(ctx, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	v := resp.Header.Get("API-Version")
	switch {
	case v == "" && resp.StatusCode != http.StatusOK:
		return fmt.Errorf("asking the Docker daemon at %s for its API version: %s", a.host, dockerErrorOf(resp.StatusCode, body))
	case v == "":
		v = dockerMinAPI
	case apiVersionLess(v, dockerMinAPI):
		return fmt.Errorf("the Docker daemon at %s speaks API %s; the docker injector needs %s or later", a.host, v, dockerMinAPI)
	case apiVersionLess(dockerMaxAPI, v):
		v = dockerMaxAPI
	}
	a.version = v
	a.base += "/v" + v
	return nil
}

// call sends method path (below the version prefix) with in, if not nil,
// as its JSON body, and decodes a 2xx answer into out, if not nil. Any
// other answer is returned as a *dockerError.
func (a *dockerAPI) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return a.unreachable(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return dockerErrorOf(resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

func (a *dockerAPI) inspect(ctx context.Context, nameOrID string) (dockerContainer, error) {
	var c dockerContainer
	err := a.call(ctx, http.MethodGet, "/containers/"+url.PathEscape(nameOrID)+"/json", nil, &c)
	return c, err
}

// unreachable explains a failure to reach the daemon, with a hint at the
// usual causes.
func (a *dockerAPI) unreachable(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("reaching the Docker daemon at %s: %w", a.host, ctx.Err())
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the dial error, without the request's made-up URL
	}
	hint := fmt.Sprintf("is the Docker daemon running? DOCKER_HOST=%s", os.Getenv("DOCKER_HOST"))
	if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
		hint = "add the user to the docker group, or run as root"
	}
	return fmt.Errorf("cannot reach the Docker daemon at %s: %w (%s)", a.host, err, hint)
}

// dockerError is an answer of the Docker daemon other than 2xx, with the
// message of its JSON body {"message": "..."}.
type dockerError struct {
	Status  int
	Message string
}

func (e *dockerError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("Docker answered %d %s", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("%s (Docker answered %d)", e.Message, e.Status)
}

func dockerErrorOf(status int, body []byte) *dockerError {
	var m struct{ Message string }
	if json.Unmarshal(body, &m) != nil || m.Message == "" {
		m.Message = strings.TrimSpace(string(body))
	}
	return &dockerError{Status: status, Message: m.Message}
}

// dockerStatus returns the HTTP status of Docker's answer in err, or 0.
func dockerStatus(err error) int {
	var de *dockerError
	if errors.As(err, &de) {
		return de.Status
	}
	return 0
}

// apiVersionLess compares Engine API versions, "1.9" < "1.24".
func apiVersionLess(a, b string) bool {
	am, an := splitAPIVersion(a)
	bm, bn := splitAPIVersion(b)
	return am < bm || am == bm && an < bn
}

func splitAPIVersion(v string) (major, minor int) {
	ma, mi, _ := strings.Cut(v, ".")
	major, _ = strconv.Atoi(ma)
	minor, _ = strconv.Atoi(mi)
	return major, minor
}
