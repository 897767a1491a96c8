package compose

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/spofhq/spof/model"
	"go.yaml.in/yaml/v3"
	yamlv4 "go.yaml.in/yaml/v4"
)

// positions finds where in the source files a service and its entries are
// declared. compose-go gives no line numbers, so the files are parsed a
// second time as plain YAML nodes, for positions only: what a service means
// comes from compose-go's merged project, never from these nodes.
type positions struct {
	files  []*sourceFile // in priority order: the last -f file first
	loaded []string      // the files read, as shown, in the order read
}

// A sourceFile is one parsed compose file.
type sourceFile struct {
	name     string // as shown to the user
	abs      string
	content  []byte
	root     *yaml.Node // the top-level mapping; nil for an empty file
	services map[string]serviceNode
}

type serviceNode struct {
	key, value *yaml.Node
}

// parseSource parses one compose file for positions. A file that is not
// YAML is an error at the line the parser names.
func parseSource(name, abs string, content []byte) (*sourceFile, error) {
	f := &sourceFile{name: name, abs: abs, content: content, services: map[string]serviceNode{}}
	dec := yaml.NewDecoder(bytes.NewReader(content))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, yamlError(name, content, err)
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind != yaml.MappingNode {
			if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
				continue
			}
			return nil, &model.Error{Pos: nodePos(name, root), Msg: "a compose file must be a mapping (services:, volumes:, ...)",
				Hint: "start the file with services:"}
		}
		if f.root == nil {
			f.root = root
		}
		if svcs := mapValue(root, "services"); svcs != nil && svcs.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(svcs.Content); i += 2 {
				k := svcs.Content[i]
				f.services[k.Value] = serviceNode{key: k, value: svcs.Content[i+1]}
			}
		}
	}
	return f, nil
}

var (
	yamlLineRe = regexp.MustCompile(`(?:yaml: )?line (\d+): (.*)`)
	// yaml/v4's problem mark: a 0-based line and a 1-based column.
	yamlMarkRe = regexp.MustCompile(`line (\d+), column (\d+): ([^:]*)$`)
)

// yamlError turns a YAML parser error into a positioned error. yaml/v3
// often names the line a block starts on; yaml/v4 (compose-go's parser)
// gives the line and column of the problem, so it is asked too.
func yamlError(file string, content []byte, err error) error {
	msg := err.Error()
	pos := model.Pos{File: file, Line: 1, Col: 1}
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	var n yamlv4.Node
	if err4 := yamlv4.Unmarshal(content, &n); err4 != nil {
		if m := yamlMarkRe.FindStringSubmatch(err4.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			col, _ := strconv.Atoi(m[2])
			pos.Line, pos.Col, msg = line+1, col, m[3]
		}
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if strings.Contains(msg, "tab character") {
		// The parsers name the line before the tab's, or the block's:
		// point at the first indenting tab from there.
		lines := strings.Split(string(content), "\n")
		for i := max(pos.Line-1, 0); i < len(lines); i++ {
			indent := lines[i][:len(lines[i])-len(strings.TrimLeft(lines[i], " \t"))]
			if j := strings.IndexByte(indent, '\t'); j >= 0 {
				pos.Line, pos.Col = i+1, j+1
				break
			}
		}
	}
	return &model.Error{Pos: pos, Msg: "invalid YAML: " + msg,
		Hint: "check the indentation and the quoting on that line"}
}

func nodePos(file string, n *yaml.Node) model.Pos {
	if n == nil {
		return model.Pos{File: file}
	}
	return model.Pos{File: file, Line: n.Line, Col: n.Column}
}

// mapValue returns the value of key in a mapping node, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// mapKey returns the key node of key in a mapping node, or nil.
func mapKey(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return nil
}

// service returns the position of the services.NAME key in the file of
// highest priority that declares it.
func (p *positions) service(name string) model.Pos {
	for _, f := range p.files {
		if s, ok := f.services[name]; ok {
			return nodePos(f.name, s.key)
		}
	}
	if len(p.files) > 0 {
		return model.Pos{File: p.files[0].name}
	}
	return model.Pos{}
}

// entry returns the position of an entry of a service's attribute: a
// depends_on or labels key, an environment variable (in list or map form),
// a links or ports item starting with item. It looks in every file that
// declares the service, by priority, then in the services it extends, then
// falls back to the attribute, then to the service.
func (p *positions) entry(service, attr, item string) model.Pos {
	var attrPos model.Pos
	for _, l := range p.chain(service) {
		v := mapValue(l.node.value, attr)
		if v == nil {
			continue
		}
		if attrPos.File == "" {
			attrPos = nodePos(l.file.name, mapKey(l.node.value, attr))
		}
		if item == "" {
			return attrPos
		}
		switch v.Kind {
		case yaml.MappingNode:
			if k := mapKey(v, item); k != nil {
				return nodePos(l.file.name, k)
			}
		case yaml.SequenceNode:
			for _, it := range v.Content {
				if it.Kind == yaml.ScalarNode && matchesItem(it.Value, item) {
					return nodePos(l.file.name, it)
				}
			}
		}
	}
	if attrPos.File != "" {
		return attrPos
	}
	return p.service(service)
}

// A located service node is a declaration of a service in a file.
type located struct {
	file *sourceFile
	node serviceNode
}

// chain returns a service's declarations by priority: in each file that
// declares it, then the services these extend, transitively.
func (p *positions) chain(service string) []located {
	var out []located
	seen := map[*yaml.Node]bool{}
	for _, f := range p.files {
		if s, ok := f.services[service]; ok {
			out = append(out, located{f, s})
			seen[s.value] = true
		}
	}
	for i := 0; i < len(out) && len(out) < 32; i++ {
		base, file := extendsOf(out[i].node.value)
		if base == "" {
			continue
		}
		f := out[i].file
		if file != "" {
			f = p.file(filepath.Join(filepath.Dir(out[i].file.abs), file))
			if filepath.IsAbs(file) {
				f = p.file(file)
			}
		}
		if f == nil {
			continue
		}
		if s, ok := f.services[base]; ok && !seen[s.value] {
			seen[s.value] = true
			out = append(out, located{f, s})
		}
	}
	return out
}

// extendsOf returns what a service node extends: a service, and the file
// it is in ("" for the same file).
func extendsOf(svc *yaml.Node) (service, file string) {
	ext := mapValue(svc, "extends")
	switch {
	case ext == nil:
		return "", ""
	case ext.Kind == yaml.ScalarNode:
		return ext.Value, ""
	}
	if s := mapValue(ext, "service"); s != nil {
		service = s.Value
	}
	if f := mapValue(ext, "file"); f != nil {
		file = f.Value
	}
	return service, file
}

// file returns the parsed file at an absolute path, or nil.
func (p *positions) file(abs string) *sourceFile {
	for _, f := range p.files {
		if f.abs == abs {
			return f
		}
	}
	return nil
}

// declared returns where a service is first declared, in the order the
// files were read: the order components are listed in.
func (p *positions) declared(service string) (fileIndex, line int) {
	for i, name := range p.loaded {
		for _, f := range p.files {
			if f.name != name {
				continue
			}
			if s, ok := f.services[service]; ok {
				return i, s.key.Line
			}
		}
	}
	return len(p.loaded), 0
}

// matchesItem reports whether a list item ("KEY=value", "db:alias",
// "8080:80") is the one named item.
func matchesItem(value, item string) bool {
	if value == item {
		return true
	}
	for _, sep := range []string{"=", ":"} {
		if k, _, ok := strings.Cut(value, sep); ok && k == item {
			return true
		}
	}
	return false
}

// path returns the node a dotted compose path names ("services.web.ports.0"),
// as far as the file has it: the deepest node found, and whether the whole
// path was found. Keys may contain dots, so the longest key matching a
// prefix of the rest wins.
func (f *sourceFile) path(path string) (*yaml.Node, bool) {
	n := f.root
	rest := path
	for rest != "" && n != nil {
		switch n.Kind {
		case yaml.MappingNode:
			best := -1
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				if (rest == k || strings.HasPrefix(rest, k+".")) && (best < 0 || len(k) > len(n.Content[best].Value)) {
					best = i
				}
			}
			if best < 0 {
				return n, false
			}
			k := n.Content[best].Value
			rest = strings.TrimPrefix(strings.TrimPrefix(rest, k), ".")
			if rest == "" {
				return n.Content[best], true // the key: where a user looks
			}
			n = n.Content[best+1]
		case yaml.SequenceNode:
			idx, after, _ := strings.Cut(rest, ".")
			i, err := strconv.Atoi(idx)
			if err != nil || i < 0 || i >= len(n.Content) {
				return n, false
			}
			n, rest = n.Content[i], after
			if rest == "" {
				return n, true
			}
		default:
			return n, false
		}
	}
	return n, rest == ""
}

// locate returns the position of a dotted compose path in the files, the
// most precise one found.
func (p *positions) locate(path string) (model.Pos, bool) {
	var best model.Pos
	for _, f := range p.files {
		n, ok := f.path(path)
		if n == nil {
			continue
		}
		if ok {
			return nodePos(f.name, n), true
		}
		if best.File == "" && n != f.root {
			best = nodePos(f.name, n)
		}
	}
	return best, best.File != ""
}

// publishedPort returns the position of a service's first ports item that
// publishes a host port ("8080:80", or a mapping with published:).
func (p *positions) publishedPort(service string) model.Pos {
	for _, f := range p.files {
		s, ok := f.services[service]
		if !ok {
			continue
		}
		v := mapValue(s.value, "ports")
		if v == nil || v.Kind != yaml.SequenceNode {
			continue
		}
		for _, it := range v.Content {
			if it.Kind == yaml.ScalarNode && strings.Contains(it.Value, ":") || mapValue(it, "published") != nil {
				return nodePos(f.name, it)
			}
		}
	}
	return p.entry(service, "ports", "")
}

// locateJob returns the position of jobs.NAME.
func (p *positions) locateJob(name string) model.Pos {
	pos, _ := p.locate("jobs." + name)
	return pos
}

// blankVariable returns where a variable is first used without a default
// (${X}, $X, ${X:?err}; not ${X:-default} or ${X-default}), in the order
// the files were read.
func (p *positions) blankVariable(name string) (model.Pos, bool) {
	re := regexp.MustCompile(`\$(?:\{` + regexp.QuoteMeta(name) + `([:?}-])|` + regexp.QuoteMeta(name) + `\b)`)
	for _, fname := range p.loaded {
		for _, f := range p.files {
			if f.name != fname {
				continue
			}
			for _, m := range re.FindAllSubmatchIndex(f.content, -1) {
				if m[0] > 0 && f.content[m[0]-1] == '$' {
					continue // $$X is a literal
				}
				if m[2] >= 0 {
					rest := f.content[m[2]:]
					if rest[0] == '-' || bytes.HasPrefix(rest, []byte(":-")) {
						continue // has a default
					}
				}
				line := 1 + bytes.Count(f.content[:m[0]], []byte("\n"))
				col := m[0] - bytes.LastIndexByte(f.content[:m[0]], '\n')
				return model.Pos{File: f.name, Line: line, Col: col}, true
			}
		}
	}
	return model.Pos{}, false
}
