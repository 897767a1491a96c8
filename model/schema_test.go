package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("spof.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("spof.schema.json")
	if err != nil {
		t.Fatalf("compiling the schema: %v", err)
	}
	return sch
}

// yamlToJSON decodes YAML into the values a JSON decoder would produce, as
// an editor's YAML language server does before applying the schema.
func yamlToJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(jsonCompatible(v))
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func jsonCompatible(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = jsonCompatible(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[fmt.Sprint(k)] = jsonCompatible(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = jsonCompatible(e)
		}
		return out
	}
	return v
}

func TestSchemaAcceptsValidModels(t *testing.T) {
	sch := compileSchema(t)
	files := append(validFiles(t), "starter.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(yamlToJSON(t, data)); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
}

func TestSchemaRejectsInvalidModels(t *testing.T) {
	sch := compileSchema(t)
	const head = "version: 1\nsystem: s\n"
	tests := map[string]string{
		"unknown key":          head + "components: {app: {kind: service, replicaz: 3}}\n",
		"unknown top key":      head + "owner: me\ncomponents: {app: {kind: service}}\n",
		"bad kind":             head + "components: {app: {kind: servce}}\n",
		"missing kind":         head + "components: {app: {replicas: 2}}\n",
		"no components":        head,
		"empty components":     head + "components: {}\n",
		"version 2":            "version: 2\nsystem: s\ncomponents: {app: {kind: service}}\n",
		"replicas 0":           head + "components: {app: {kind: service, replicas: 0}}\n",
		"replicas string":      head + "components: {app: {kind: service, replicas: two}}\n",
		"bad name":             head + "components: {\"my app\": {kind: service}}\n",
		"bad duration":         head + "components: {app: {kind: service, depends_on: [{x: {breaker: {timeout: 3 seconds}}}]}, x: {kind: external}}\n",
		"two-key dependency":   head + "components: {app: {kind: service, depends_on: [{x: , fallback: y}]}, x: {kind: external}}\n",
		"unknown edge option":  head + "components: {app: {kind: service, depends_on: [{x: {fallbak: y}}]}, x: {kind: external}}\n",
		"bad when":             head + "components: {app: {kind: service, depends_on: [{x: {when: boot}}]}, x: {kind: external}}\n",
		"no steps":             head + "components: {app: {kind: service}}\nflows: {f: {criticality: low, steps: []}}\n",
		"duplicate steps":      head + "components: {app: {kind: service}}\nflows: {f: {criticality: low, steps: [app, app]}}\n",
		"bad criticality":      head + "components: {app: {kind: service}}\nflows: {f: {criticality: urgent, steps: [app]}}\n",
		"ftp probe":            head + "components: {app: {kind: service}}\nflows: {f: {criticality: low, steps: [app], probe: {http: \"ftp://x\"}}}\n",
		"hazard without break": head + "components: {app: {kind: service}}\nhazards: {h: {description: x}}\n",
		"two bindings":         head + "components: {app: {kind: service, chaos: {process: {pidfile: /p}, command: {inject: a, restore: b}}}}\n",
		"empty binding":        head + "components: {app: {kind: service, chaos: {}}}\n",
		"listen without port":  head + "components: {app: {kind: service, chaos: {proxy: {listen: localhost, upstream: \"127.0.0.1:1\"}}}}\n",
		"pidfile and pid_cmd":  head + "components: {app: {kind: service, chaos: {process: {pidfile: /p, pid_cmd: x}}}}\n",
		"negative port":        head + "components: {app: {kind: service, chaos: {iptables: {port: -1, netns: n}}}}\n",
		"http and tcp probe":   head + "components: {app: {kind: service}}\nflows: {f: {criticality: low, steps: [app], probe: {http: \"http://x\", tcp: \"x:1\"}}}\n",
		"method on tcp probe":  head + "components: {app: {kind: service}}\nflows: {f: {criticality: low, steps: [app], probe: {tcp: \"x:1\", method: GET}}}\n",
		"empty degraded_when":  head + "components: {app: {kind: service}}\nflows: {f: {criticality: low, steps: [app], probe: {http: \"http://x\", degraded_when: {}}}}\n",
		"bad proxy_api":        head + "components: {app: {kind: service}}\nchaos: {proxy_api: \"127.0.0.1:8474\"}\n",
		"empty inject":         head + "components: {app: {kind: service, chaos: {command: {inject: \"\", restore: b}}}}\n",
	}
	for name, src := range tests {
		if err := sch.Validate(yamlToJSON(t, []byte(src))); err == nil {
			t.Errorf("%s: schema accepts\n%s", name, src)
		}
		if _, err := Parse("x.yaml", []byte(src)); err == nil {
			t.Errorf("%s: loader accepts\n%s", name, src)
		}
	}
}

// TestSchemaDescriptions checks that every property of the schema says what
// it is for: editors show these descriptions on hover.
func TestSchemaDescriptions(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(Schema(), &doc); err != nil {
		t.Fatal(err)
	}
	count := 0
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if props, ok := v["properties"].(map[string]any); ok {
				for name, p := range props {
					count++
					if d, _ := p.(map[string]any)["description"].(string); strings.TrimSpace(d) == "" {
						t.Errorf("%s.%s has no description", path, name)
					}
				}
			}
			for k, e := range v {
				walk(path+"/"+k, e)
			}
		case []any:
			for i, e := range v {
				walk(fmt.Sprintf("%s/%d", path, i), e)
			}
		}
	}
	walk("#", doc)
	if count < 40 {
		t.Errorf("found %d properties, want every key of the format", count)
	}
}

// TestSchemaGolden keeps the generated schema under review: run with
// -update to regenerate testdata/spof.schema.json.
func TestSchemaGolden(t *testing.T) {
	golden := filepath.Join("testdata", "spof.schema.json")
	got := Schema()
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Schema() differs from %s; run go test -update and review the diff", golden)
	}
	if !bytes.Equal(got, Schema()) {
		t.Error("Schema() is not deterministic")
	}
}
