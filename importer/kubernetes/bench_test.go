package kubernetes

import (
	"fmt"
	"strings"
	"testing"

	"github.com/spofhq/spof/importer"
)

// manifests generates n objects: Deployments with a Service each (every
// tenth a StatefulSet with a PDB), each calling the next two by env.
func manifests(n int) []byte {
	var b strings.Builder
	for i := 0; i*2 < n; i++ {
		kind := "Deployment"
		if i%10 == 9 {
			kind = "StatefulSet"
		}
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: Service
metadata:
  name: svc-%d
  namespace: shop
spec:
  selector:
    app: app-%d
  ports:
    - port: 8080
---
apiVersion: apps/v1
kind: %s
metadata:
  name: app-%d
  namespace: shop
  labels:
    app: app-%d
spec:
  replicas: %d
  selector:
    matchLabels:
      app: app-%d
  template:
    metadata:
      labels:
        app: app-%d
    spec:
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: ScheduleAnyway
      containers:
        - name: app
          image: registry.example.com/team/app-%d:1.%d.0
          ports:
            - containerPort: 8080
          env:
            - name: NEXT_ADDR
              value: svc-%d:8080
            - name: OTHER_URL
              value: http://svc-%d.shop.svc.cluster.local:8080/api
            - name: LOG_LEVEL
              value: info
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
`, i, i, kind, i, i, 1+i%3, i, i, i, i, i+1, i+2)
	}
	return []byte(b.String())
}

// BenchmarkImport2000 imports 2,000 objects (the target: < 1 s).
func BenchmarkImport2000(b *testing.B) {
	data := manifests(2000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		ib := importer.NewBuilder("bench")
		if err := importInputs(ib, []input{{file: "bench.yaml", data: data}}, Options{}); err != nil {
			b.Fatal(err)
		}
		ib.Finish(importer.Options{})
	}
}

func TestBenchInputImports(t *testing.T) {
	ib := importer.NewBuilder("bench")
	if err := importInputs(ib, []input{{file: "bench.yaml", data: manifests(2000)}}, Options{}); err != nil {
		t.Fatal(err)
	}
	res := ib.Finish(importer.Options{})
	if n := len(res.Model.Components); n != 1000 {
		t.Errorf("%d components, want 1000", n)
	}
	if e := res.Model.Component("app-5").DependsOn; len(e) != 2 || e[0].To != "app-6" || e[1].To != "app-7" {
		t.Errorf("app-5's edges: %+v", e)
	}
}
