package compose

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

// write writes files into a temporary directory and returns the path of
// the first.
func write(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "compose.yaml")
}

// edges lists a result's edges as "from -> to [when] [fallback]".
func edges(m *model.Model) []string {
	var out []string
	for _, c := range m.Components {
		for _, e := range c.DependsOn {
			s := e.From + " -> " + e.To
			if e.When != model.WhenRunning {
				s += " " + string(e.When)
			}
			if e.Fallback != "" {
				s += " degrades"
			}
			out = append(out, s)
		}
	}
	return out
}

func TestEdges(t *testing.T) {
	for _, tc := range []struct {
		name, compose string
		want          []string
	}{
		{"service_started alone is start order", `
services:
  web: {image: acme/web, depends_on: {api: {condition: service_started}}}
  api: {image: acme/api}
`, []string{"web -> api startup"}},
		{"service_healthy on a stateless service is a start-up need", `
services:
  web: {image: acme/web, depends_on: {api: {condition: service_healthy}}}
  api: {image: acme/api}
`, []string{"web -> api startup"}},
		{"a reverse proxy's depends_on are its upstreams (awesome-compose's nginx-golang-postgres-rabbitmq)", `
services:
  proxy: {image: nginx, ports: ["80:80"], depends_on: [backend]}
  backend: {build: backend}
`, []string{"proxy -> backend"}},
		{"a depends_on of another case is taken for the service (awesome-compose's react-express-mongodb)", `
services:
  frontend: {build: ./frontend, depends_on: [backend]}
  Backend: {build: ./backend}
`, []string{"frontend -> Backend startup"}},
		{"host names are not case-sensitive", `
services:
  app: {image: acme/app, environment: {API_URL: "http://API:8080"}}
  api: {image: acme/api}
`, []string{"app -> api"}},
		{"an address makes it a running edge", `
services:
  web:
    image: nginx
    environment: [API_URL=http://api:8000]
    depends_on: {api: {condition: service_healthy}}
  api: {image: acme/api}
`, []string{"web -> api"}},
		{"waiting for a database is using it", `
services:
  app: {image: acme/app, depends_on: {db: {condition: service_healthy}}}
  db: {image: "postgres:16", volumes: ["data:/var/lib/postgresql/data"]}
volumes: {data: {}}
`, []string{"app -> db"}},
		{"a job that must complete is a start-up need", `
services:
  app: {image: acme/app, depends_on: {migrate: {condition: service_completed_successfully}}}
  migrate: {image: acme/app, command: [migrate]}
`, []string{"app -> migrate startup"}},
		{"links, aliases and network_mode", `
services:
  app: {image: acme/app, links: ["cache:c"], environment: {C_HOST: c}}
  sidecar: {image: envoyproxy/envoy, network_mode: "service:app"}
  cache: {image: memcached}
`, []string{"app -> cache", "sidecar -> app"}},
		{"hostname and network aliases resolve", `
services:
  app:
    image: acme/app
    command: ["--queue", "mq.internal:5672", "--search=search-node:9200"]
  rabbit: {image: rabbitmq, networks: {default: {aliases: [mq.internal]}}, volumes: ["q:/var/lib/rabbitmq"]}
  es: {image: elasticsearch, hostname: search-node, volumes: ["e:/usr/share/elasticsearch/data"]}
volumes: {q: {}, e: {}}
`, []string{"app -> rabbit", "app -> es"}},
		{"telemetry and feature flags only degrade", `
services:
  app:
    image: acme/app
    environment:
      OTEL_EXPORTER_OTLP_ENDPOINT: http://collector:4317
      FLAGD_HOST: flagd
  collector: {image: otel/opentelemetry-collector-contrib}
  flagd: {image: ghcr.io/open-feature/flagd}
`, []string{"app -> collector degrades", "app -> flagd degrades"}},
		{"an address of nothing deployed is dangling, an internet name is ignored", `
services:
  app:
    image: acme/app
    environment:
      CACHE_HOST: memcache
      STRIPE_URL: https://api.stripe.com/v1
      LOG_DESTINATION: stdout
`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := importFiles(t, Options{}, write(t, map[string]string{"compose.yaml": tc.compose}))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, edges(res.Model)); d != "" {
				t.Errorf("edges (-want +got):\n%s\n%s", d, importer.Summary(res))
			}
		})
	}
}

func TestDanglingAddress(t *testing.T) {
	res, err := importFiles(t, Options{}, write(t, map[string]string{"compose.yaml": `
services:
  app:
    image: acme/app
    environment:
      CACHE_HOST: memcache
`}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range res.Notes {
		if n.Kind == importer.NoteDangling {
			got = append(got, n.Pos.String()[strings.LastIndex(n.Pos.String(), "compose.yaml"):]+" "+n.Msg)
		}
	}
	want := []string{`compose.yaml:6:7 refers to "memcache", which the sources do not deploy`}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("dangling notes (-want +got):\n%s", d)
	}
}

// TestEnvironment: interpolation sees the env files and Environ, never the
// process environment; Environ wins over the files, later files over
// earlier ones.
func TestEnvironment(t *testing.T) {
	t.Setenv("REPLICAS", "9") // must not be seen
	path := write(t, map[string]string{
		"compose.yaml": "services:\n  api:\n    image: acme/api:${TAG}\n    deploy: {replicas: \"${REPLICAS:-2}\"}\n    environment: [DB_URL]\n  db: {image: postgres, volumes: [\"d:/var/lib/postgresql/data\"]}\n  other: {image: postgres, volumes: [\"o:/var/lib/postgresql/data\"]}\nvolumes: {d: {}, o: {}}\n",
		".env":         "TAG=1\nDB_URL=postgres://db:5432/app\n",
		"prod.env":     "TAG=2\nREPLICAS=3\n",
		"override.env": "REPLICAS=4\nDB_URL=postgres://other:5432/app\n",
	})
	dir := filepath.Dir(path)
	for _, tc := range []struct {
		name     string
		opts     Options
		replicas int
		to       string
	}{
		{"default .env", Options{}, 2, "db"},
		{"env files in order", Options{EnvFiles: []string{filepath.Join(dir, "prod.env"), filepath.Join(dir, "override.env")}}, 4, "other"},
		{"Environ wins", Options{EnvFiles: []string{filepath.Join(dir, "prod.env")}, Environ: []string{"REPLICAS=5", "DB_URL=db:5432"}}, 5, "db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := importFiles(t, tc.opts, path)
			if err != nil {
				t.Fatal(err)
			}
			api := res.Model.Component("api")
			if api.Replicas != tc.replicas {
				t.Errorf("replicas = %d, want %d", api.Replicas, tc.replicas)
			}
			if len(api.DependsOn) != 1 || api.DependsOn[0].To != tc.to {
				t.Errorf("api's edges: %v, want one to %s", edges(res.Model), tc.to)
			}
		})
	}
}

func TestEntriesAndWorkers(t *testing.T) {
	res, err := importFiles(t, Options{}, write(t, map[string]string{"compose.yaml": `
services:
  shop: {image: acme/shop, ports: ["443:8443"], environment: {Q_URL: "amqp://mq:5672"}}
  grafana: {image: grafana/grafana, ports: ["3000:3000"]}
  db: {image: postgres, ports: ["5432:5432"], volumes: ["d:/var/lib/postgresql/data"]}
  internal: {image: acme/internal, ports: ["9000"]}
  mq: {image: rabbitmq, volumes: ["q:/var/lib/rabbitmq"]}
  mailer: {image: acme/mailer, environment: {BROKER_URL: "amqp://mq:5672"}}
  cleanup-worker: {image: acme/cleanup}
volumes: {d: {}, q: {}}
`}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Model.Flows {
		got = append(got, f.Name+" "+f.Criticality.String()+" "+strings.Join(f.Steps, ","))
	}
	want := []string{
		"shop critical shop,db,internal",
		"grafana low grafana",
		"mailer low mailer",
		"cleanup-worker low cleanup-worker",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("flows (-want +got):\n%s\n%s", d, importer.Summary(res))
	}
}

func TestRequiredEnvFileMissing(t *testing.T) {
	res, err := importFiles(t, Options{}, "testdata/missing-envfile.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Notes) == 0 || !strings.Contains(res.Notes[0].Msg, "missing.env not found") || res.Notes[0].Pos.Line != 4 {
		t.Errorf("notes: %v", res.Notes)
	}
}

func TestContainerNameReplicas(t *testing.T) {
	res, err := importFiles(t, Options{}, write(t, map[string]string{"compose.yaml": `
services:
  api: {image: acme/api, container_name: api, deploy: {replicas: 3}}
  web: {image: acme/web, scale: 2}
`}))
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Model.Component("api").Replicas; r != 1 {
		t.Errorf("api replicas = %d, want 1 (container_name)", r)
	}
	if r := res.Model.Component("web").Replicas; r != 2 {
		t.Errorf("web replicas = %d, want 2 (scale)", r)
	}
	if n := res.Notes[0]; n.Kind != importer.NoteCannotScale || n.Subject != "api" || n.Pos.Line != 3 {
		t.Errorf("first note: %v", n)
	}
}

func TestIgnoreAndKindLabels(t *testing.T) {
	res, err := importFiles(t, Options{}, write(t, map[string]string{"compose.yaml": `
services:
  app:
    image: acme/app
    environment: {DEBUG_URL: "http://debugger:5678", STORE_HOST: store}
  debugger:
    image: acme/debugger
    labels: {spof.dev/ignore: "true"}
  store:
    image: acme/kv
    labels:
      spof.dev/kind: database
      spof.dev/failover: manual
`}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Model.Component("debugger") != nil {
		t.Error("debugger imported despite spof.dev/ignore")
	}
	st := res.Model.Component("store")
	if st == nil || st.Kind != model.KindDatabase || st.Failover != model.FailoverManual {
		t.Errorf("store: %+v", st)
	}
	if d := cmp.Diff([]string{"app -> store"}, edges(res.Model)); d != "" {
		t.Errorf("edges (-want +got):\n%s", d)
	}
}

// TestAssumedServers: compose files seldom list the ports services serve
// to one another, so a stateless service nothing names is taken to serve
// (and to be needed), unless it is a job, a tool, telemetry or a worker.
func TestAssumedServers(t *testing.T) {
	res, err := importFiles(t, Options{}, write(t, map[string]string{"compose.yaml": `
services:
  edge: {image: acme/edge-router, ports: ["80:80"]}
  catalogue: {image: acme/catalogue}
  catalogue-db: {image: acme/catalogue-db}
  createbuckets: {image: minio/mc, entrypoint: "sh -c 'mc mb local/x; exit 0'"}
  db-migrate: {image: acme/catalogue}
  once: {image: acme/task, restart: "no"}
  node-exporter: {image: prom/node-exporter}
  controller: {image: acme/ctl, volumes: ["/var/run/docker.sock:/var/run/docker.sock"]}
  traffic: {image: acme/load-test}
  shell: {image: acme/admin-tools, stdin_open: true, tty: true}
`}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Model.Flows {
		got = append(got, f.Name+" "+f.Criticality.String()+" "+strings.Join(f.Steps, ","))
	}
	want := []string{
		"edge critical edge,catalogue,catalogue-db",
		"controller low controller",
		"createbuckets low createbuckets",
		"db-migrate low db-migrate",
		"once low once",
		"node-exporter low node-exporter",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("flows (-want +got):\n%s\n%s", d, importer.Summary(res))
	}
	for _, c := range []string{"traffic", "shell"} {
		if res.Model.Component(c) != nil {
			t.Errorf("%s imported, want it left out", c)
		}
	}
	if k := res.Model.Component("catalogue-db").Kind; k != model.KindDatabase {
		t.Errorf("catalogue-db is a %s, want a database", k)
	}
}
