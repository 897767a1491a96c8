package model

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the # want: lines of testdata/invalid/*.yaml")

const wantPrefix = "# want: "

// splitWant splits a test file into its leading "# want: " lines and the
// rest.
func splitWant(data []byte) (want []string, body []byte) {
	for {
		line, rest, _ := bytes.Cut(data, []byte("\n"))
		s, ok := strings.CutPrefix(string(line), wantPrefix)
		if !ok {
			return want, data
		}
		want = append(want, s)
		data = rest
	}
}

// errorLines parses data and returns one line per error.
func errorLines(t *testing.T, file string, data []byte) []string {
	t.Helper()
	m, err := Parse(file, data)
	if err == nil {
		t.Fatalf("Parse(%s) succeeded, want errors", file)
	}
	if m != nil {
		t.Errorf("Parse(%s) returned a model and an error", file)
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Parse(%s) error is %T, want ErrorList", file, err)
	}
	if !IsInvalid(err) {
		t.Errorf("IsInvalid(%v) = false", err)
	}
	return strings.Split(err.Error(), "\n")
}

func TestInvalid(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("found %d invalid models, want at least 30", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want, body := splitWant(data)
			if *update {
				// The want lines shift the body's line numbers: rewrite
				// until the header describes the file it heads.
				for range 5 {
					got := errorLines(t, file, data)
					var b bytes.Buffer
					for _, line := range got {
						b.WriteString(wantPrefix + line + "\n")
					}
					b.Write(body)
					if bytes.Equal(b.Bytes(), data) {
						break
					}
					data = b.Bytes()
				}
				if err := os.WriteFile(file, data, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if len(want) == 0 {
				t.Fatalf("%s has no %q lines", file, wantPrefix)
			}
			got := errorLines(t, file, data)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("errors differ (-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrorListSortedAndUnique(t *testing.T) {
	data, err := os.ReadFile("testdata/invalid/many-errors.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse("many.yaml", data)
	var list ErrorList
	if !errors.As(err, &list) || len(list) < 5 {
		t.Fatalf("want at least 5 errors, got %v", err)
	}
	seen := map[string]bool{}
	for i, e := range list {
		if seen[e.Error()] {
			t.Errorf("duplicate error %q", e)
		}
		seen[e.Error()] = true
		if i > 0 {
			a, b := list[i-1].Pos, e.Pos
			if a.Line > b.Line || a.Line == b.Line && a.Col > b.Col {
				t.Errorf("errors out of order: %v before %v", list[i-1], e)
			}
		}
		if e.Pos.File != "many.yaml" || e.Pos.Line == 0 || e.Pos.Col == 0 {
			t.Errorf("error without a full position: %v", e)
		}
	}
}

func validFiles(t testing.TB) []string {
	files, err := filepath.Glob("testdata/valid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no valid models")
	}
	return files
}

func mustParse(t testing.TB, file string, data []byte) *Model {
	t.Helper()
	m, err := Parse(file, data)
	if err != nil {
		t.Fatalf("Parse(%s):\n%v", file, err)
	}
	return m
}

func parseFile(t testing.TB, file string) *Model {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return mustParse(t, file, data)
}

func TestValid(t *testing.T) {
	for _, file := range validFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			m := parseFile(t, file)
			checkResolved(t, m)
		})
	}
}

func TestStarter(t *testing.T) {
	m := mustParse(t, "spof.yaml", Starter)
	checkResolved(t, m)
	if len(m.Components) < 10 || len(m.Flows) != 2 || len(m.People) != 1 || len(m.Hazards) != 1 {
		t.Errorf("starter has %d components, %d flows, %d people, %d hazards",
			len(m.Components), len(m.Flows), len(m.People), len(m.Hazards))
	}
	if !bytes.Contains(Starter, []byte("#")) {
		t.Error("starter has no comments")
	}
}

// checkResolved checks what every parsed model must satisfy.
func checkResolved(t *testing.T, m *Model) {
	t.Helper()
	if m.Version != 1 || m.System == "" || m.File == "" || m.Pos.Line != 1 {
		t.Errorf("model header: version %d, system %q, file %q, pos %v", m.Version, m.System, m.File, m.Pos)
	}
	for i, c := range m.Components {
		if m.index.components[c.Name] != i || m.Component(c.Name) != c {
			t.Errorf("index of %s is %d, want %d", c.Name, m.index.components[c.Name], i)
		}
		if c.Replicas < 1 || c.MinHealthy < 1 || c.MinHealthy > c.Replicas || c.Failover == "" {
			t.Errorf("%s not resolved: %+v", c.Name, c)
		}
		if c.Pos.File != m.File || c.Pos.Line == 0 || c.Pos.Col == 0 {
			t.Errorf("%s has position %v", c.Name, c.Pos)
		}
		for _, e := range c.DependsOn {
			if e.From != c.Name || m.Component(e.To) == nil || e.Pos.Line == 0 {
				t.Errorf("edge %s → %s not resolved: %+v", c.Name, e.To, e)
			}
		}
	}
	for _, f := range m.Flows {
		if len(f.StepsPos) != len(f.Steps) || f.Criticality == CriticalityNone {
			t.Errorf("flow %s not resolved: %+v", f.Name, f)
		}
	}
	for _, p := range m.People {
		if len(p.KnowsPos) != len(p.Knows) || len(p.HoldsPos) != len(p.Holds) {
			t.Errorf("person %s not resolved: %+v", p.Name, p)
		}
	}
}

func TestDesignExample(t *testing.T) {
	const file = "testdata/valid/design.yaml"
	m := parseFile(t, file)
	var names []string
	for _, c := range m.Components {
		names = append(names, c.Name)
	}
	wantNames := []string{"dns", "lb", "app", "session-redis", "postgres", "jobs", "payments", "email", "config", "ci"}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("components (-want +got):\n%s", diff)
	}
	if got := m.Regions(); !cmp.Equal(got, []string{"us-east-1"}) {
		t.Errorf("Regions() = %v", got)
	}
	if got := m.Providers(); !cmp.Equal(got, []string{"route53", "aws", "stripe", "sendgrid"}) {
		t.Errorf("Providers() = %v", got)
	}

	app := m.Component("app")
	wantEdges := []*Edge{
		{From: "app", To: "session-redis", FallbackTo: "postgres", Fallback: "sessions read from postgres, slower",
			Pos: Pos{file, 15, 9}},
		{From: "app", To: "postgres", Pos: Pos{file, 16, 9}},
		{From: "app", To: "payments", Flows: []string{"checkout"}, Fallback: "order accepted, charged later",
			Breaker: &Breaker{Timeout: 3 * time.Second, ErrorThreshold: 50, Reset: 30 * time.Second},
			Pos:     Pos{file, 17, 9}},
		{From: "app", To: "email", AsyncVia: "jobs", Pos: Pos{file, 19, 9}},
		{From: "app", To: "config", When: WhenStartup, Pos: Pos{file, 20, 9}},
		{From: "app", To: "ci", When: WhenDeploy, Pos: Pos{file, 21, 9}},
	}
	if diff := cmp.Diff(wantEdges, app.DependsOn); diff != "" {
		t.Errorf("app edges (-want +got):\n%s", diff)
	}

	checkout := m.Flow("checkout")
	wantFlow := &Flow{
		Name:        "checkout",
		Criticality: Critical,
		Steps:       []string{"dns", "lb", "app"},
		Probe:       &Probe{HTTP: "http://127.0.0.1:8080/checkout", ExpectStatus: 200, Pos: Pos{file, 31, 14}},
		Pos:         Pos{file, 30, 3},
		StepsPos:    []Pos{{file, 30, 45}, {file, 30, 50}, {file, 30, 54}},
	}
	if diff := cmp.Diff(wantFlow, checkout); diff != "" {
		t.Errorf("checkout (-want +got):\n%s", diff)
	}
	wantPerson := &Person{
		Name: "alice", Knows: []string{"postgres"}, Holds: []string{"dns-registrar-account"},
		Pos: Pos{file, 34, 3}, KnowsPos: []Pos{{file, 34, 19}}, HoldsPos: []Pos{{file, 34, 38}},
	}
	if diff := cmp.Diff(wantPerson, m.Person("alice")); diff != "" {
		t.Errorf("alice (-want +got):\n%s", diff)
	}
	wantHazard := &Hazard{Name: "nightly-batch", Description: "batch job locks the orders table for 20 min",
		Breaks: []string{"postgres"}, Pos: Pos{file, 36, 3}}
	if diff := cmp.Diff(wantHazard, m.Hazard("nightly-batch")); diff != "" {
		t.Errorf("nightly-batch (-want +got):\n%s", diff)
	}
	if z := m.Zone("us-east-1b"); z == nil || z.Region != "us-east-1" || z.Pos != (Pos{file, 5, 3}) {
		t.Errorf("zone us-east-1b = %+v", z)
	}
}

func TestDefaults(t *testing.T) {
	const src = `
version: 1
system: defaults
zones: {a: , b: , c: }
components:
  svc: {kind: service}
  svc3: {kind: service, replicas: 3, zones: [a, b]}
  db: {kind: database}
  db-auto: {kind: database, replicas: 2, min_healthy: 2, failover: automatic}
  cache-none: {kind: cache, failover: none}
  queue: {kind: queue, replicas: 5, zones: [a, b, c]}
  storage: {kind: storage}
  ext: {kind: external}
  ci-manual: {kind: ci, failover: manual}
`
	m := mustParse(t, "defaults.yaml", []byte(src))
	tests := []struct {
		name         string
		replicas     int
		minHealthy   int
		failover     Failover
		failoverSet  bool
		needsPrimary bool
	}{
		{"svc", 1, 1, FailoverAutomatic, false, false},
		{"svc3", 3, 1, FailoverAutomatic, false, false},
		{"db", 1, 1, FailoverNone, false, true},
		{"db-auto", 2, 2, FailoverAutomatic, true, false},
		{"cache-none", 1, 1, FailoverNone, true, true},
		{"queue", 5, 1, FailoverNone, false, true},
		{"storage", 1, 1, FailoverNone, false, true},
		{"ext", 1, 1, FailoverAutomatic, false, false},
		{"ci-manual", 1, 1, FailoverManual, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := m.Component(tt.name)
			if c == nil {
				t.Fatalf("no component %s", tt.name)
			}
			if c.Replicas != tt.replicas || c.MinHealthy != tt.minHealthy || c.Failover != tt.failover ||
				c.FailoverSet != tt.failoverSet || c.NeedsPrimary() != tt.needsPrimary {
				t.Errorf("got replicas %d, min_healthy %d, failover %s (set %v), needs primary %v; want %d, %d, %s (set %v), %v",
					c.Replicas, c.MinHealthy, c.Failover, c.FailoverSet, c.NeedsPrimary(),
					tt.replicas, tt.minHealthy, tt.failover, tt.failoverSet, tt.needsPrimary)
			}
		})
	}
}

func TestReplicaZone(t *testing.T) {
	const src = `
version: 1
system: zones
zones: {a: , b: , c: }
components:
  queue: {kind: queue, replicas: 5, zones: [a, b, c]}
  single: {kind: service}
`
	m := mustParse(t, "zones.yaml", []byte(src))
	q := m.Component("queue")
	var got []string
	for i := range q.Replicas {
		got = append(got, q.ReplicaZone(i))
	}
	if want := []string{"a", "b", "c", "a", "b"}; !cmp.Equal(got, want) {
		t.Errorf("queue replica zones = %v, want %v", got, want)
	}
	if z := m.Component("single").ReplicaZone(0); z != "" {
		t.Errorf("single replica zone = %q, want none", z)
	}
}

func TestPositions(t *testing.T) {
	// Columns count bytes from 1; block and flow styles both work.
	const src = "version: 1\n" + // 1
		"system: pos\n" + // 2
		"components:\n" + // 3
		"  app:\n" + // 4
		"    kind: service\n" + // 5
		"    provider: aws\n" + // 6
		"    depends_on:\n" + // 7
		"      - db\n" + // 8
		"      - cache: {fallback_to: db}\n" + // 9
		"  db: {kind: database}\n" + // 10
		"  cache: {kind: cache}\n" + // 11
		"flows:\n" + // 12
		"  f:\n" + // 13
		"    criticality: low\n" + // 14
		"    steps:\n" + // 15
		"      - app\n" + // 16
		"      -   db\n" // 17
	m := mustParse(t, "pos.yaml", []byte(src))
	app := m.Component("app")
	tests := []struct {
		what      string
		got, want Pos
	}{
		{"component app", app.Pos, Pos{"pos.yaml", 4, 3}},
		{"provider", app.ProviderPos, Pos{"pos.yaml", 6, 15}},
		{"edge app→db", app.DependsOn[0].Pos, Pos{"pos.yaml", 8, 9}},
		{"edge app→cache", app.DependsOn[1].Pos, Pos{"pos.yaml", 9, 9}},
		{"component db", m.Component("db").Pos, Pos{"pos.yaml", 10, 3}},
		{"flow f", m.Flow("f").Pos, Pos{"pos.yaml", 13, 3}},
		{"step 0", m.Flow("f").StepsPos[0], Pos{"pos.yaml", 16, 9}},
		{"step 1", m.Flow("f").StepsPos[1], Pos{"pos.yaml", 17, 11}},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s at %v, want %v", tt.what, tt.got, tt.want)
		}
	}
}

func TestEdgeOptions(t *testing.T) {
	m := parseFile(t, "testdata/valid/everything.yaml")
	web := m.Component("web")
	tests := []struct {
		i    int
		want Edge
	}{
		{0, Edge{To: "api"}},
		{1, Edge{To: "search", Fallback: "show cached results"}},
		{2, Edge{To: "api-v2.beta"}},
		{3, Edge{To: "mail", AsyncVia: "queue", Flows: []string{"signup", "login"},
			Breaker: &Breaker{Timeout: 250 * time.Millisecond, ErrorThreshold: 25, Reset: 90 * time.Second}}},
		{4, Edge{To: "vault", When: WhenRecovery}},
		{5, Edge{To: "api", When: WhenStartup}},
		{6, Edge{To: "deployer", When: WhenDeploy}},
	}
	if len(web.DependsOn) != len(tests) {
		t.Fatalf("web has %d edges, want %d", len(web.DependsOn), len(tests))
	}
	for _, tt := range tests {
		got := *web.DependsOn[tt.i]
		tt.want.From, tt.want.Pos = "web", got.Pos
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("edge %d (-want +got):\n%s", tt.i, diff)
		}
	}
	e := web.DependsOn[3]
	if !e.AppliesTo("login") || e.AppliesTo("report") || !e.Degrades() || !e.Running() {
		t.Errorf("edge web→mail: AppliesTo/Degrades/Running wrong: %+v", e)
	}
	if web.DependsOn[4].Running() {
		t.Error("edge with when: recovery is running")
	}
	probe := m.Flow("signup").Probe
	wantProbe := &Probe{HTTP: "https://example.com/signup", ExpectStatus: 200,
		DegradedWhen: &DegradedWhen{Header: "X-Degraded", BodyContains: "try again later"}, Pos: probe.Pos}
	if diff := cmp.Diff(wantProbe, probe); diff != "" {
		t.Errorf("signup probe (-want +got):\n%s", diff)
	}
}

func TestAnchors(t *testing.T) {
	m := parseFile(t, "testdata/valid/anchors.yaml")
	web, worker := m.Component("web"), m.Component("worker")
	if web.Replicas != 2 || web.Kind != KindService || !cmp.Equal(web.Zones, []string{"a", "b"}) ||
		len(web.DependsOn) != 1 {
		t.Errorf("web = %+v", web)
	}
	if worker.Replicas != 4 {
		t.Errorf("worker replicas = %d, want 4 (explicit keys win over merged ones)", worker.Replicas)
	}
	if steps := m.Flow("home2").Steps; !cmp.Equal(steps, []string{"web"}) {
		t.Errorf("home2 steps = %v", steps)
	}
}

func TestValidName(t *testing.T) {
	for _, s := range []string{"a", "A1", "us-east-1a", "api.v2", "x_y", "0"} {
		if !validName(s) {
			t.Errorf("validName(%q) = false", s)
		}
	}
	for _, s := range []string{"", "-a", ".a", "_a", "a b", "a:b", "a/b", "é", "a\n"} {
		if validName(s) {
			t.Errorf("validName(%q) = true", s)
		}
	}
}

func TestDidYouMean(t *testing.T) {
	tests := []struct {
		s          string
		candidates []string
		want       string
	}{
		{"paymnts", []string{"postgres", "payments"}, `did you mean "payments"?`},
		{"replicaz", componentObject.keys(), `did you mean "replicas"?`},
		{"Postgres", []string{"postgres"}, `did you mean "postgres"?`},
		{"us-east-1c", []string{"us-east-1a", "us-east-1b"}, `did you mean "us-east-1a"?`},
		{"owner", modelObject.keys(), ""},
		{"x", []string{"yy", "zzz"}, ""},
	}
	for _, tt := range tests {
		if got := didYouMean(tt.s, tt.candidates); got != tt.want {
			t.Errorf("didYouMean(%q) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

// TestLongCycle checks that cycle detection handles a 20k-component chain
// without recursion and reports the one cycle with its middle elided.
func TestLongCycle(t *testing.T) {
	const n = 20000
	var b strings.Builder
	b.WriteString("version: 1\nsystem: chain\ncomponents:\n")
	for i := range n {
		b.WriteString("  c")
		b.WriteString(strconv.Itoa(i))
		b.WriteString(": {kind: service, depends_on: [c")
		b.WriteString(strconv.Itoa((i + 1) % n))
		b.WriteString("]}\n")
	}
	_, err := Parse("chain.yaml", []byte(b.String()))
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("want one error, got %v", err)
	}
	want := "chain.yaml:20003:40: components.c19999.depends_on[0]: dependency cycle: " +
		"c0 → c1 → c2 → c3 → c4 → … 19991 more … → c19996 → c19997 → c19998 → c19999 → c0 (" + cycleHint + ")"
	if got := list[0].Error(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestSyntaxErrorPositions pins how yaml.v3's messages map to positions:
// its parser counts lines from 0, its scanner from 1, and it omits line 0.
func TestSyntaxErrorPositions(t *testing.T) {
	tests := []struct{ src, want string }{
		{"a: b: c\n", "x.yaml:1:1: syntax error: mapping values are not allowed in this context"},
		{"x: 1\na: b: c\n", "x.yaml:2:1: syntax error: mapping values are not allowed in this context"},
		{"x: 1\ny: [1,\nz: 3\n", "x.yaml:2:1: syntax error: did not find expected ',' or ']'"},
		{"x: 1\ny: 2\n- a\n", "x.yaml:3:1: syntax error: did not find expected key"},
		{"x: 1\ny: \"abc\n", "x.yaml:2:1: syntax error: found unexpected end of stream"},
		{"x: &ab 1\ny: [*ab, *abc]\n", "x.yaml:2:10: syntax error: unknown anchor 'abc' referenced"},
	}
	for _, tt := range tests {
		_, err := Parse("x.yaml", []byte(tt.src))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q):\ngot  %v\nwant %s", tt.src, err, tt.want)
		}
	}
}
