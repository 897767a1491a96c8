// Package backstage imports a Backstage software catalog (catalog-info.yaml
// files): Components and Resources become components, spec.dependsOn,
// spec.dependencyOf and consumed APIs become edges, owners become the
// people who know what they own, and spof.dev/ annotations say what the
// catalog cannot.
//
// A catalog says what depends on what and who owns it, not how anything
// runs: replicas, zones and failover come from the other importers
// (Kubernetes, compose, Terraform) fed to the same Builder, which find the
// components by the same names.
package backstage

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

// Options tune the import. The zero value is ready to use.
type Options struct{}

// Import reads the catalog files at paths (a directory stands for the
// *.yaml and *.yml files under it; Location entities lead to the files
// they name by relative path) and adds their components, edges and people
// to b. Malformed files give a model.ErrorList, every error at its
// file:line:col.
func Import(b *importer.Builder, paths []string, opts Options) error {
	r := &reader{b: b, seen: map[string]bool{}}
	files, err := expand(paths)
	if err != nil {
		return err
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			r.roots = append(r.roots, filepath.Clean(p))
		} else {
			r.roots = append(r.roots, filepath.Dir(filepath.Clean(p)))
		}
	}
	for _, f := range files {
		if err := r.readFile(f); err != nil {
			return err
		}
	}
	if len(r.errs) > 0 {
		r.errs.Sort()
		return r.errs
	}
	for _, f := range r.files {
		b.Source(f)
	}
	c := newCatalog(r.entities)
	c.emit(b)
	if len(c.errs) > 0 {
		c.errs.Sort()
		return c.errs
	}
	return nil
}

func expand(paths []string) ([]string, error) {
	files, err := importer.Files(paths, ".yaml", ".yml")
	if err != nil {
		return nil, fmt.Errorf("reading the catalog: %w", err)
	}
	return files, nil
}

// An entity is one catalog document.
type entity struct {
	kind      string // lower case: component, resource, api, system, group, user, ...
	namespace string
	name      string
	title     string
	spec      *yaml.Node // a mapping, or nil
	ann       map[string]string
	pos       model.Pos
}

func (e *entity) key() entityKey { return entityKey{e.kind, e.namespace, strings.ToLower(e.name)} }

// entityKey identifies an entity as Backstage does: kind, namespace, name,
// case-insensitively.
type entityKey struct{ kind, namespace, name string }

type reader struct {
	b        *importer.Builder // reads the files, within its bound
	roots    []string          // the directories Locations may lead into
	files    []string
	seen     map[string]bool
	entities []*entity
	errs     model.ErrorList
}

func (r *reader) errorf(n *yaml.Node, file, path, hint, format string, args ...any) {
	r.errs = append(r.errs, &model.Error{Pos: pos(file, n), Path: path, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

func pos(file string, n *yaml.Node) model.Pos {
	if n == nil {
		return model.Pos{File: file}
	}
	return model.Pos{File: file, Line: n.Line, Col: n.Column}
}

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// readFile reads every document of one file.
func (r *reader) readFile(file string) error {
	clean := filepath.Clean(file)
	if r.seen[clean] {
		return nil
	}
	r.seen[clean] = true
	data, err := r.b.ReadFile(file)
	if err != nil {
		return fmt.Errorf("reading the catalog: %w", err)
	}
	r.files = append(r.files, file)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			line, msg := 0, err.Error()
			if m := yamlLine.FindStringSubmatch(msg); m != nil {
				fmt.Sscan(m[1], &line)
				msg = m[2]
			}
			r.errs = append(r.errs, &model.Error{Pos: model.Pos{File: file, Line: max(line, 1), Col: 1},
				Msg: "invalid YAML: " + msg, Hint: "a catalog file holds YAML documents separated by ---"})
			return nil // the decoder cannot go on past a syntax error
		}
		if len(doc.Content) == 0 {
			continue
		}
		r.document(file, doc.Content[0])
	}
}

// document reads one entity.
func (r *reader) document(file string, n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		r.errorf(n, file, "", "write apiVersion, kind, metadata and spec", "an entity must be a mapping")
		return
	}
	kind, ok := r.str(file, "kind", get(n, "kind"))
	if !ok {
		return
	}
	if kind == "" {
		r.errorf(n, file, "kind", "Component, Resource, API, System, Group, User, ...", "missing kind")
		return
	}
	meta := get(n, "metadata")
	if meta == nil || meta.Kind != yaml.MappingNode {
		r.errorf(orNode(meta, n), file, "metadata", "give metadata.name", "missing metadata")
		return
	}
	name, ok := r.str(file, "metadata.name", get(meta, "name"))
	if !ok {
		return
	}
	if name == "" {
		r.errorf(meta, file, "metadata.name", "every entity needs a name", "missing metadata.name")
		return
	}
	e := &entity{kind: strings.ToLower(kind), namespace: "default", name: name, pos: pos(file, n), ann: map[string]string{}}
	if ns, ok := r.str(file, "metadata.namespace", get(meta, "namespace")); ok && ns != "" {
		e.namespace = strings.ToLower(ns)
	}
	e.title, _ = r.str(file, "metadata.title", get(meta, "title"))
	// Labels first: annotations say the same with more room, and win.
	for _, key := range []string{"labels", "annotations"} {
		m := get(meta, key)
		if m == nil {
			continue
		}
		if m.Kind != yaml.MappingNode {
			r.errorf(m, file, "metadata."+key, "a mapping of names to strings", "metadata.%s must be a mapping", key)
			continue
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			if v := m.Content[i+1]; v.Kind == yaml.ScalarNode {
				e.ann[m.Content[i].Value] = v.Value
			}
		}
	}
	if spec := get(n, "spec"); spec != nil {
		if spec.Kind != yaml.MappingNode {
			r.errorf(spec, file, "spec", "", "spec must be a mapping")
			return
		}
		e.spec = spec
	}
	if e.kind == "location" {
		r.location(file, e)
	}
	r.entities = append(r.entities, e)
}

// location follows the relative file targets of a Location entity.
func (r *reader) location(file string, e *entity) {
	var targets []*yaml.Node
	if t := get(e.spec, "target"); t != nil {
		targets = append(targets, t)
	}
	targets = append(targets, r.list(file, "spec.targets", get(e.spec, "targets"))...)
	for _, t := range targets {
		target := t.Value
		if strings.Contains(target, "://") || target == "" {
			continue // a URL: the catalog's own business, not a file here
		}
		path := filepath.Join(filepath.Dir(file), target)
		if !r.within(path) {
			r.errorf(t, file, "spec.targets", "import the other catalog too, by its own path", "%s is outside the catalog's directory: not followed", target)
			continue
		}
		matches, err := filepath.Glob(path)
		if err != nil || len(matches) == 0 {
			r.errorf(t, file, "spec.targets", "a Location's targets are paths relative to its own file", "no file %s", path)
			continue
		}
		for _, m := range matches {
			if ext := strings.ToLower(filepath.Ext(m)); ext != ".yaml" && ext != ".yml" {
				continue
			}
			if st, err := os.Stat(m); err != nil || !st.Mode().IsRegular() {
				continue
			}
			if err := r.readFile(m); err != nil {
				r.errorf(t, file, "spec.targets", "", "%v", err)
			}
		}
	}
}

// within reports whether path is under one of the directories given.
func (r *reader) within(path string) bool {
	for _, root := range r.roots {
		rel, err := filepath.Rel(root, path)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// get returns the value of key in mapping n, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func orNode(n, other *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return other
}

// str reads a scalar; a missing or null value is "".
func (r *reader) str(file, path string, n *yaml.Node) (string, bool) {
	if n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return "", true
	}
	if n.Kind != yaml.ScalarNode {
		r.errorf(n, file, path, "", "%s must be a string", path)
		return "", false
	}
	return n.Value, true
}

// list reads a sequence of scalars.
func (r *reader) list(file, path string, n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		r.errorf(n, file, path, "write a list: [component:cart, resource:cart-db]", "%s must be a list", path)
		return nil
	}
	var out []*yaml.Node
	for _, item := range n.Content {
		if item.Kind != yaml.ScalarNode {
			r.errorf(item, file, path, "an entity reference such as component:default/cart", "%s: an item must be a string", path)
			continue
		}
		out = append(out, item)
	}
	return out
}
