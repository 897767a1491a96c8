package ui_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spofhq/spof/serve/ui"
)

// TestVendorVersions checks every vendored file against vendor/VERSIONS
// (written by scripts/fetch-ui-assets.sh), and that the scripts the page
// loads are there.
func TestVendorVersions(t *testing.T) {
	versions, err := fs.ReadFile(ui.Static, "static/vendor/VERSIONS")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{"VERSIONS": true}
	sc := bufio.NewScanner(bytes.NewReader(versions))
	for line := 1; sc.Scan(); line++ {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) != 4 {
			t.Fatalf("VERSIONS:%d: %q: want package version file sha256", line, sc.Text())
		}
		data, err := fs.ReadFile(ui.Static, "static/vendor/"+f[2])
		if err != nil {
			t.Errorf("VERSIONS:%d: %v", line, err)
			continue
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != f[3] {
			t.Errorf("vendor/%s (%s %s): sha256 %x, VERSIONS says %s", f[2], f[0], f[1], sum, f[3])
		}
		listed[f[2]] = true
	}
	entries, err := fs.ReadDir(ui.Static, "static/vendor")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !listed[e.Name()] {
			t.Errorf("vendor/%s is not in VERSIONS", e.Name())
		}
	}
	for _, name := range []string{"cytoscape.min.js", "cytoscape-dagre.js", "cytoscape.LICENSE", "cytoscape-dagre.LICENSE", "dagre.LICENSE"} {
		if !listed[name] {
			t.Errorf("vendor/%s is missing", name)
		}
	}
}

var inlineHandler = regexp.MustCompile(`\son[a-z]+=`)

// TestGraphTemplate renders the partial: the contract's elements and
// scripts, with the URLs escaped for their attributes.
func TestGraphTemplate(t *testing.T) {
	tmpl := template.Must(template.ParseFS(ui.Templates, "templates/*.html"))
	for _, tc := range []struct {
		graphURL, componentURL string
		want                   []string
	}{{
		"/api/v1/systems/shop/graph", "/api/v1/systems/shop/components/",
		[]string{
			`<div id="graph" data-graph-url="/api/v1/systems/shop/graph" data-component-url="/api/v1/systems/shop/components/"`,
			`<aside id="details"`,
			`<script src="/static/vendor/cytoscape.min.js"></script>`,
			`<script src="/static/vendor/cytoscape-dagre.js"></script>`,
			`<script src="/static/graph.js"></script>`,
		},
	}, {
		`/api/v1/systems/a"b<c>/graph`, "javascript:alert(1)",
		[]string{`data-graph-url="/api/v1/systems/a%22b%3cc%3e/graph"`, `data-component-url="#ZgotmplZ"`},
	}} {
		var buf strings.Builder
		err := tmpl.ExecuteTemplate(&buf, "graph", struct{ GraphURL, ComponentURL string }{tc.graphURL, tc.componentURL})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("graph(%q, %q) lacks %s:\n%s", tc.graphURL, tc.componentURL, w, buf.String())
			}
		}
		if strings.Contains(buf.String(), "<script>") || inlineHandler.MatchString(buf.String()) {
			t.Errorf("graph has an inline script or handler:\n%s", buf.String())
		}
	}
}

// TestStaticFiles checks the files the pages link.
func TestStaticFiles(t *testing.T) {
	var names []string
	err := fs.WalkDir(ui.Static, "static", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(path, "static/vendor/") {
			names = append(names, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"static/graph.js", "static/style.css"}; !slices.Equal(names, want) {
		t.Errorf("static files %q, want %q", names, want)
	}
}
