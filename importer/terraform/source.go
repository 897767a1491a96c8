package terraform

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
	"github.com/zclconf/go-cty/cty"
)

// A resource is one instance of a managed resource, read from source or
// from plan JSON: what the model is built from.
type resource struct {
	Addr  string // module.vpc.aws_nat_gateway.this[0]
	Block string // the address without the instance key: module.vpc.aws_nat_gateway.this
	Type  string
	Attrs map[string]any
	Pos   model.Pos
	// AttrPos holds where some attributes are set (multi_az = false), so
	// that a finding lands on the line that decides it.
	AttrPos map[string]model.Pos
	// Counted: the block has count or for_each (its instances may be
	// replicas of one thing).
	Counted bool
}

// at returns the position of the first of attrs that is set, or of the
// resource.
func (r *resource) at(attrs ...string) model.Pos {
	for _, a := range attrs {
		if p, ok := r.AttrPos[a]; ok {
			return p
		}
	}
	return r.Pos
}

// reader holds what one Import call has read.
type reader struct {
	b         *importer.Builder
	opts      Options
	parser    *hclparse.Parser
	modules   map[string]*module // parsed, by directory
	resources []*resource
	region    string // of the first provider that names one
	// installed maps a module call's key ("vpc", "eks.node_group") to its
	// directory under .terraform/modules, per root.
	installed map[string]string
	root      string
	funcs     map[string]functionT
	assumed   map[string]bool // notes already given, by position
}

func newReader(b *importer.Builder, opts Options) *reader {
	return &reader{b: b, opts: opts, parser: hclparse.NewParser(), modules: map[string]*module{},
		funcs: functions(), assumed: map[string]bool{}}
}

// A module is a parsed directory of .tf files.
type module struct {
	dir       string
	vars      []*variable
	nodes     []*node // locals, resources, module calls, in source order
	byKey     map[string]*node
	data      []*hclsyntax.Block
	outputs   []*hclsyntax.Attribute // the value of each output block, named
	outNames  []string
	providers []*hclsyntax.Block
	refAttrs  []string // attribute names read from resources anywhere in the module
}

type variable struct {
	name string
	def  hcl.Expression // nil: no default
}

type nodeKind int

const (
	nodeLocal nodeKind = iota
	nodeResource
	nodeModule
)

// A node is something evaluated once per module instance, after what it
// refers to.
type node struct {
	kind      nodeKind
	key       string // local.x, aws_lb.web, module.vpc
	typ, name string
	block     *hclsyntax.Block     // resource or module call
	attr      *hclsyntax.Attribute // local
	deps      []string
	roots     []string // root names its expressions read
}

func rangePos(r hcl.Range) model.Pos {
	return model.Pos{File: r.Filename, Line: r.Start.Line, Col: r.Start.Column}
}

// readRoot reads a root module: files, or every .tf file of dir.
func (r *reader) readRoot(dir string, files []string) error {
	r.root = dir
	r.installed = readInstalled(dir)
	mod, err := r.parse(dir, files)
	if err != nil {
		return err
	}
	vars, err := r.tfvars(dir)
	if err != nil {
		return err
	}
	r.instantiate(mod, "", "", vars, 0)
	return nil
}

// readInstalled reads .terraform/modules/modules.json, which terraform init
// writes: where each module call's source was installed.
func readInstalled(root string) map[string]string {
	data, err := os.ReadFile(filepath.Join(root, ".terraform", "modules", "modules.json"))
	if err != nil {
		return nil
	}
	var doc struct {
		Modules []struct{ Key, Dir string }
	}
	if json.Unmarshal(data, &doc) != nil {
		return nil
	}
	out := map[string]string{}
	for _, m := range doc.Modules {
		if m.Key != "" && m.Dir != "" {
			out[m.Key] = filepath.Join(root, filepath.FromSlash(m.Dir))
		}
	}
	return out
}

// parse parses a module directory once.
func (r *reader) parse(dir string, files []string) (*module, error) {
	if m := r.modules[dir]; m != nil && files == nil {
		return m, nil
	}
	if files == nil {
		var err error
		if files, err = tfFiles(dir); err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, &model.Error{Pos: model.Pos{File: dir}, Msg: "no .tf files in this directory",
				Hint: "give the directory of a root module, or the JSON of terraform show -json"}
		}
	}
	mod := &module{dir: dir, byKey: map[string]*node{}}
	var errs model.ErrorList
	refAttrs := map[string]bool{"id": true, "arn": true, "name": true}
	for _, f := range files {
		data, err := r.b.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("terraform: %w", err)
		}
		r.b.Source(f)
		file, diags := r.parser.ParseHCL(data, f)
		errs = append(errs, diagErrors(diags)...)
		if file == nil {
			continue
		}
		body, ok := file.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		mod.add(body)
		_ = hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
			switch n := n.(type) {
			case *hclsyntax.ScopeTraversalExpr:
				// aws_lb.web.dns_name: the attributes read after a
				// resource's type and name (not var.x, local.y, ...).
				switch n.Traversal.RootName() {
				case "var", "local", "module", "data", "count", "each", "path", "terraform", "self":
					return nil
				}
				if len(n.Traversal) < 3 {
					return nil
				}
				for _, s := range n.Traversal[2:] {
					if a, ok := s.(hcl.TraverseAttr); ok {
						refAttrs[a.Name] = true
					}
				}
			case *hclsyntax.RelativeTraversalExpr:
				for _, s := range n.Traversal {
					if a, ok := s.(hcl.TraverseAttr); ok {
						refAttrs[a.Name] = true
					}
				}
			}
			return nil
		})
	}
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	for a := range refAttrs {
		mod.refAttrs = append(mod.refAttrs, a)
	}
	slices.Sort(mod.refAttrs)
	mod.link()
	r.modules[dir] = mod
	return mod, nil
}

// diagErrors turns HCL's error diagnostics into positioned errors.
// cascade are the lexer's errors that follow an unclosed quote.
var cascade = map[string]bool{"Invalid multi-line string": true, "Unterminated template string": true,
	"Invalid character": true}

func diagErrors(diags hcl.Diagnostics) model.ErrorList {
	var out model.ErrorList
	unterminated := map[string]bool{} // files where a string runs on
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		// One unclosed quote makes every later line of the file a string
		// split over lines: report the quote, not the cascade.
		if d.Subject != nil && unterminated[d.Subject.Filename] && cascade[d.Summary] {
			continue
		}
		if d.Subject != nil && cascade[d.Summary] {
			unterminated[d.Subject.Filename] = true
		}
		var p model.Pos
		if d.Subject != nil {
			p = rangePos(*d.Subject)
		}
		hint := strings.TrimSpace(d.Detail)
		if hint == "" {
			hint = "fix the syntax here; terraform validate reports the same"
		}
		out = append(out, &model.Error{Pos: p, Msg: d.Summary, Hint: hint})
	}
	return out
}

// add collects the blocks of one file.
func (m *module) add(body *hclsyntax.Body) {
	for _, blk := range body.Blocks {
		switch blk.Type {
		case "variable":
			if len(blk.Labels) == 1 {
				v := &variable{name: blk.Labels[0]}
				if a := blk.Body.Attributes["default"]; a != nil {
					v.def = a.Expr
				}
				m.vars = append(m.vars, v)
			}
		case "locals":
			for _, a := range sortedAttrs(blk.Body) {
				m.addNode(&node{kind: nodeLocal, key: "local." + a.Name, name: a.Name, attr: a})
			}
		case "resource":
			if len(blk.Labels) == 2 {
				m.addNode(&node{kind: nodeResource, key: blk.Labels[0] + "." + blk.Labels[1], typ: blk.Labels[0],
					name: blk.Labels[1], block: blk})
			}
		case "module":
			if len(blk.Labels) == 1 {
				m.addNode(&node{kind: nodeModule, key: "module." + blk.Labels[0], name: blk.Labels[0], block: blk})
			}
		case "data":
			if len(blk.Labels) == 2 {
				m.data = append(m.data, blk)
			}
		case "output":
			if a := blk.Body.Attributes["value"]; a != nil && len(blk.Labels) == 1 {
				m.outputs = append(m.outputs, a)
				m.outNames = append(m.outNames, blk.Labels[0])
			}
		case "provider":
			m.providers = append(m.providers, blk)
		}
	}
}

func (m *module) addNode(n *node) {
	if m.byKey[n.key] != nil {
		return // a duplicate; terraform validate reports it
	}
	m.byKey[n.key] = n
	m.nodes = append(m.nodes, n)
}

// sortedAttrs returns a body's attributes in source order.
func sortedAttrs(body *hclsyntax.Body) []*hclsyntax.Attribute {
	out := make([]*hclsyntax.Attribute, 0, len(body.Attributes))
	for _, a := range body.Attributes {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *hclsyntax.Attribute) int {
		return a.SrcRange.Start.Byte - b.SrcRange.Start.Byte
	})
	return out
}

// link finds what each node refers to, and orders the nodes so that each
// comes after what it refers to (source order otherwise; a cycle, which
// terraform would refuse, is broken where it closes).
func (m *module) link() {
	for _, n := range m.nodes {
		deps := map[string]bool{}
		roots := map[string]bool{}
		visit := func(t hcl.Traversal) {
			root := t.RootName()
			roots[root] = true
			var next string
			if len(t) > 1 {
				if a, ok := t[1].(hcl.TraverseAttr); ok {
					next = a.Name
				}
			}
			var key string
			switch root {
			case "local":
				key = "local." + next
			case "module":
				key = "module." + next
			default:
				key = root + "." + next
			}
			if next != "" && m.byKey[key] != nil && key != n.key {
				deps[key] = true
			}
		}
		if n.attr != nil {
			for _, t := range n.attr.Expr.Variables() {
				visit(t)
			}
		} else {
			for _, t := range bodyVariables(n.block.Body) {
				visit(t)
			}
		}
		for k := range deps {
			n.deps = append(n.deps, k)
		}
		slices.Sort(n.deps)
		for k := range roots {
			n.roots = append(n.roots, k)
		}
		slices.Sort(n.roots)
	}
	state := map[string]int{} // 1 visiting, 2 done
	var order []*node
	var visit func(n *node)
	visit = func(n *node) {
		if state[n.key] != 0 {
			return
		}
		state[n.key] = 1
		for _, d := range n.deps {
			visit(m.byKey[d])
		}
		state[n.key] = 2
		order = append(order, n)
	}
	for _, n := range m.nodes {
		visit(n)
	}
	m.nodes = order
}

// bodyVariables returns every traversal a body's expressions read, nested
// blocks included.
func bodyVariables(body *hclsyntax.Body) []hcl.Traversal {
	var out []hcl.Traversal
	for _, a := range body.Attributes {
		out = append(out, a.Expr.Variables()...)
	}
	for _, blk := range body.Blocks {
		out = append(out, bodyVariables(blk.Body)...)
	}
	return out
}

// tfvars reads terraform.tfvars, *.auto.tfvars and Options.VarFiles, then
// Options.Vars.
func (r *reader) tfvars(dir string) (map[string]cty.Value, error) {
	files := []string{filepath.Join(dir, "terraform.tfvars")}
	auto, _ := filepath.Glob(filepath.Join(dir, "*.auto.tfvars"))
	slices.Sort(auto)
	files = append(files, auto...)
	vars := map[string]cty.Value{}
	for i, f := range append(files, r.opts.VarFiles...) {
		data, err := r.b.ReadFile(f)
		if err != nil {
			if i < len(files) && os.IsNotExist(err) {
				continue // the defaults are optional
			}
			return nil, fmt.Errorf("terraform: reading var file: %w", err)
		}
		r.b.Source(f)
		file, diags := r.parser.ParseHCL(data, f)
		if errs := diagErrors(diags); len(errs) > 0 {
			return nil, errs
		}
		attrs, diags := file.Body.JustAttributes()
		if errs := diagErrors(diags); len(errs) > 0 {
			return nil, errs
		}
		for name, a := range attrs {
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				v = cty.DynamicVal
			}
			vars[name] = v
		}
	}
	for name, text := range r.opts.Vars {
		expr, diags := hclsyntax.ParseExpression([]byte(text), "-var "+name, hcl.InitialPos)
		v := cty.StringVal(text)
		if !diags.HasErrors() {
			if ev, diags := expr.Value(nil); !diags.HasErrors() {
				v = ev
			}
		}
		vars[name] = v
	}
	return vars, nil
}
