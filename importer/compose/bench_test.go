package compose

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spofhq/spof/importer"
)

// BenchmarkImport500 imports a generated project of 500 services, each
// with an image, a published or internal port, addresses of two others in
// its environment and a depends_on, plus a .env.
func BenchmarkImport500(b *testing.B) {
	const n = 500
	dir := b.TempDir()
	var c, env strings.Builder
	c.WriteString("services:\n")
	for i := range n {
		fmt.Fprintf(&env, "SVC%d_ADDR=svc%d:%d\n", i, i, 8000+i)
		fmt.Fprintf(&c, "  svc%d:\n    image: ghcr.io/acme/svc%d:${TAG:-1.0}\n    deploy: {replicas: %d}\n", i, i, 1+i%3)
		if i%50 == 0 {
			fmt.Fprintf(&c, "    ports: [\"%d:8080\"]\n", 10000+i)
		} else {
			c.WriteString("    ports: [\"8080\"]\n")
		}
		fmt.Fprintf(&c, "    environment:\n      - SVC%d_ADDR\n      - SVC%d_ADDR\n      - OTEL_EXPORTER_OTLP_ENDPOINT=http://otel:4317\n", (i+1)%n, (i+7)%n)
		fmt.Fprintf(&c, "    depends_on:\n      svc%d: {condition: service_healthy}\n", (i+3)%n)
	}
	c.WriteString("  otel:\n    image: otel/opentelemetry-collector-contrib\n")
	path := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(path, []byte(c.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(env.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		bld := importer.NewBuilder("bench")
		if err := Import(context.Background(), bld, []string{path}, Options{}); err != nil {
			b.Fatal(err)
		}
		if res := bld.Finish(importer.Options{}); len(res.Model.Components) != n+1 {
			b.Fatalf("%d components", len(res.Model.Components))
		}
	}
}

// BenchmarkImportOtelDemo imports the OpenTelemetry demo's compose file
// (27 services, .env).
func BenchmarkImportOtelDemo(b *testing.B) {
	for b.Loop() {
		bld := importer.NewBuilder("bench")
		if err := Import(context.Background(), bld, []string{"testdata/otel-demo/docker-compose.yml"}, Options{}); err != nil {
			b.Fatal(err)
		}
		bld.Finish(importer.Options{})
	}
}
