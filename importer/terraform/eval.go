package terraform

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
	"github.com/zclconf/go-cty/cty"
)

// maxDepth bounds module nesting (a module that calls itself).
const maxDepth = 16

// scope is the evaluation context of one module instance. The objects
// holding locals, module outputs and resources are rebuilt only when an
// expression reads them after they changed, which keeps a module of
// thousands of resources linear.
type scope struct {
	ctx    *hcl.EvalContext
	locals map[string]cty.Value
	mods   map[string]cty.Value
	res    map[string]map[string]cty.Value // type → name → value
	dirty  map[string]bool
	prefix string // address prefix of the module instance: "" or "module.vpc."
	key    string // key of the module call in modules.json: "" or "vpc"
	depth  int
}

func (s *scope) refresh(roots []string) {
	for _, root := range roots {
		if !s.dirty[root] {
			continue
		}
		delete(s.dirty, root)
		switch root {
		case "local":
			s.ctx.Variables[root] = objectOf(s.locals)
		case "module":
			s.ctx.Variables[root] = objectOf(s.mods)
		default:
			s.ctx.Variables[root] = objectOf(s.res[root])
		}
	}
}

func objectOf(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// eval evaluates an expression best effort: what it cannot evaluate is
// unknown.
func eval(expr hcl.Expression, ctx *hcl.EvalContext) (v cty.Value) {
	defer func() {
		// A function given values it does not expect may panic deep in
		// cty; an expression that does is unknown.
		if recover() != nil {
			v = cty.DynamicVal
		}
	}()
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return cty.DynamicVal
	}
	return v
}

// instantiate evaluates one instance of a module with its inputs and
// records its resources; it returns the instance's outputs.
func (r *reader) instantiate(mod *module, prefix, key string, inputs map[string]cty.Value, depth int) cty.Value {
	s := &scope{
		ctx:    &hcl.EvalContext{Variables: map[string]cty.Value{}, Functions: r.funcs},
		locals: map[string]cty.Value{}, mods: map[string]cty.Value{}, res: map[string]map[string]cty.Value{},
		dirty: map[string]bool{}, prefix: prefix, key: key, depth: depth,
	}
	vars := map[string]cty.Value{}
	for _, v := range mod.vars {
		switch in, ok := inputs[v.name]; {
		case ok:
			vars[v.name] = in
		case v.def != nil:
			vars[v.name] = eval(v.def, nil)
		default:
			vars[v.name] = cty.DynamicVal
		}
	}
	s.ctx.Variables["var"] = objectOf(vars)
	s.ctx.Variables["data"] = r.dataSources(mod)
	s.ctx.Variables["path"] = cty.ObjectVal(map[string]cty.Value{"module": cty.StringVal(mod.dir),
		"root": cty.StringVal(r.root), "cwd": cty.StringVal(".")})
	s.ctx.Variables["terraform"] = cty.ObjectVal(map[string]cty.Value{"workspace": cty.StringVal("default")})
	for _, n := range mod.nodes {
		s.refresh(n.roots)
		switch n.kind {
		case nodeLocal:
			s.locals[n.name] = nameZones(eval(n.attr.Expr, s.ctx), n.key)
			s.dirty["local"] = true
		case nodeResource:
			if s.res[n.typ] == nil {
				s.res[n.typ] = map[string]cty.Value{}
			}
			s.res[n.typ][n.name] = r.evalResource(mod, s, n)
			s.dirty[n.typ] = true
		case nodeModule:
			s.mods[n.name] = r.evalModuleCall(mod, s, n)
			s.dirty["module"] = true
		}
	}
	s.refresh([]string{"local", "module"})
	for typ := range s.res {
		s.refresh([]string{typ})
	}
	for _, p := range mod.providers {
		if a := p.Body.Attributes["region"]; a != nil && r.region == "" && len(p.Labels) == 1 {
			if v := fromCty(eval(a.Expr, s.ctx)); v != nil {
				if reg, ok := v.(string); ok && !strings.HasPrefix(reg, "\x00") {
					r.region = reg
				}
			}
		}
	}
	outs := map[string]cty.Value{}
	for i, a := range mod.outputs {
		outs[mod.outNames[i]] = eval(a.Expr, s.ctx)
	}
	return objectOf(outs)
}

// nameZones names availability zones read from a data source after the
// local that holds them: local.azs = slice(data.aws_availability_zones
// .available.names, 0, 3) makes zones local.azs[0], [1] and [2].
func nameZones(v cty.Value, name string) cty.Value {
	if !v.IsWhollyKnown() || v.IsNull() || !(v.Type().IsTupleType() || v.Type().IsListType()) || v.LengthInt() == 0 {
		return v
	}
	var out []cty.Value
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.Type() != cty.String || !strings.HasPrefix(e.AsString(), zoneMark) {
			return v
		}
		out = append(out, cty.StringVal(zoneOf(fmt.Sprintf("%s[%d]", name, len(out)))))
	}
	return cty.TupleVal(out)
}

// dataSources gives the data sources their values: availability zones
// are three named placeholders (most regions have three); the rest is
// unknown.
func (r *reader) dataSources(mod *module) cty.Value {
	byType := map[string]map[string]cty.Value{}
	for _, blk := range mod.data {
		typ, name := blk.Labels[0], blk.Labels[1]
		if byType[typ] == nil {
			byType[typ] = map[string]cty.Value{}
		}
		v := cty.DynamicVal
		if typ == "aws_availability_zones" {
			var names, ids []cty.Value
			for i := range 3 {
				names = append(names, cty.StringVal(zoneOf(fmt.Sprintf("data.%s.%s.names[%d]", typ, name, i))))
				ids = append(ids, cty.StringVal(zoneOf(fmt.Sprintf("data.%s.%s.zone_ids[%d]", typ, name, i))))
			}
			v = cty.ObjectVal(map[string]cty.Value{"names": cty.TupleVal(names), "zone_ids": cty.TupleVal(ids),
				"id": cty.UnknownVal(cty.String)})
		}
		byType[typ][name] = v
	}
	out := map[string]cty.Value{}
	for typ, m := range byType {
		out[typ] = objectOf(m)
	}
	return objectOf(out)
}

// An instance of a block with count or for_each.
type instance struct {
	key   string    // "[0]", `["a"]`, "" for a block without either
	count cty.Value // count.index, or NilVal
	each  [2]cty.Value
}

// expand returns the instances of a resource or module block, and whether
// the block has count or for_each.
func (r *reader) expand(blk *hclsyntax.Block, ctx *hcl.EvalContext, addr string) ([]instance, bool) {
	if a := blk.Body.Attributes["count"]; a != nil {
		v := eval(a.Expr, ctx)
		if n, ok := number(fromCty(v)); ok {
			out := make([]instance, 0, max(min(int(n), 1000), 0))
			for i := range max(min(int(n), 1000), 0) {
				out = append(out, instance{key: fmt.Sprintf("[%d]", i), count: cty.NumberIntVal(int64(i))})
			}
			return out, true
		}
		r.assume(rangePos(a.SrcRange), addr, "count is known only at apply time: one instance assumed")
		return []instance{{key: "[0]", count: cty.UnknownVal(cty.Number)}}, true
	}
	if a := blk.Body.Attributes["for_each"]; a != nil {
		v := eval(a.Expr, ctx)
		set := v.Type().IsSetType() || v.Type().IsListType() || v.Type().IsTupleType()
		// Only the keys must be known: for_each = aws_subnet.private
		// iterates over objects whose attributes are not.
		if v.IsKnown() && !v.IsNull() && v.CanIterateElements() && (!set || v.IsWhollyKnown()) {
			var out []instance
			for it := v.ElementIterator(); it.Next(); {
				k, e := it.Element()
				if set {
					k = e
				}
				ks, ok := str(fromCty(k))
				if !ok {
					continue
				}
				out = append(out, instance{key: fmt.Sprintf("[%q]", ks), each: [2]cty.Value{cty.StringVal(ks), e}})
			}
			return out, true
		}
		r.assume(rangePos(a.SrcRange), addr, "for_each is known only at apply time: one instance assumed")
		return []instance{{each: [2]cty.Value{cty.UnknownVal(cty.String), cty.DynamicVal}}}, true
	}
	return []instance{{}}, false
}

// assume records a NoteAssumption once per position.
func (r *reader) assume(p model.Pos, subject, msg string) {
	k := p.String() + msg
	if r.assumed[k] {
		return
	}
	r.assumed[k] = true
	r.b.Note(importer.Note{Pos: p, Kind: importer.NoteAssumption, Subject: importer.Name(subject), Msg: msg,
		Hint: "import the plan (terraform show -json plan.out) for the exact count"})
}

func (in instance) ctx(parent *hcl.EvalContext) *hcl.EvalContext {
	if in.count == cty.NilVal && in.each[0] == cty.NilVal {
		return parent
	}
	c := parent.NewChild()
	c.Variables = map[string]cty.Value{}
	if in.count != cty.NilVal {
		c.Variables["count"] = cty.ObjectVal(map[string]cty.Value{"index": in.count})
	}
	if in.each[0] != cty.NilVal {
		c.Variables["each"] = cty.ObjectVal(map[string]cty.Value{"key": in.each[0], "value": in.each[1]})
	}
	return c
}

// collect gathers the values of a block's instances the way Terraform
// exposes them: a tuple under count, an object under for_each.
func collect(insts []instance, vals []cty.Value, counted bool) cty.Value {
	if !counted {
		if len(vals) == 0 {
			return cty.DynamicVal
		}
		return vals[0]
	}
	if len(insts) > 0 && insts[0].count != cty.NilVal {
		if len(vals) == 0 {
			return cty.EmptyTupleVal
		}
		return cty.TupleVal(vals)
	}
	m := map[string]cty.Value{}
	for i, in := range insts {
		if in.each[0].IsKnown() {
			m[in.each[0].AsString()] = vals[i]
		} else {
			return cty.DynamicVal
		}
	}
	return objectOf(m)
}

var metaBlocks = map[string]bool{"lifecycle": true, "provisioner": true, "connection": true, "timeouts": true}

// evalResource evaluates each instance of a resource block and records it.
func (r *reader) evalResource(mod *module, s *scope, n *node) cty.Value {
	block := s.prefix + n.key
	insts, counted := r.expand(n.block, s.ctx, block)
	vals := make([]cty.Value, len(insts))
	for i, in := range insts {
		addr := block + in.key
		attrs, pos := r.evalBody(n.block.Body, in.ctx(s.ctx), "")
		plain, _ := fromCty(objectOf(attrs)).(map[string]any)
		for _, a := range []string{"id", "arn"} {
			if _, ok := plain[a]; !ok {
				plain[a] = refOf(addr, a)
			}
		}
		for _, a := range mod.refAttrs {
			if _, ok := attrs[a]; !ok {
				attrs[a] = cty.StringVal(refOf(addr, a))
			}
		}
		vals[i] = objectOf(attrs)
		r.resources = append(r.resources, &resource{Addr: addr, Block: block, Type: n.typ, Attrs: plain,
			Pos: rangePos(n.block.DefRange()), AttrPos: pos, Counted: counted})
	}
	return collect(insts, vals, counted)
}

// evalBody evaluates a body's attributes and nested blocks (as lists of
// objects, dynamic blocks expanded); it also returns where each attribute
// is set, nested ones as "block.attribute".
func (r *reader) evalBody(body *hclsyntax.Body, ctx *hcl.EvalContext, path string) (map[string]cty.Value, map[string]model.Pos) {
	out := map[string]cty.Value{}
	pos := map[string]model.Pos{}
	for name, a := range body.Attributes {
		if path == "" && (name == "count" || name == "for_each" || name == "depends_on" || name == "provider") {
			continue
		}
		out[name] = eval(a.Expr, ctx)
		pos[path+name] = rangePos(a.SrcRange)
	}
	blocks := map[string][]cty.Value{}
	var order []string
	add := func(typ string, v cty.Value) {
		if _, ok := blocks[typ]; !ok {
			order = append(order, typ)
		}
		blocks[typ] = append(blocks[typ], v)
	}
	for _, blk := range body.Blocks {
		switch {
		case metaBlocks[blk.Type]:
		case blk.Type == "dynamic" && len(blk.Labels) == 1:
			r.evalDynamic(blk, ctx, add)
		default:
			attrs, p := r.evalBody(blk.Body, ctx, path+blk.Type+".")
			for k, v := range p {
				if _, ok := pos[k]; !ok {
					pos[k] = v
				}
			}
			add(blk.Type, objectOf(attrs))
		}
	}
	for _, typ := range order {
		out[typ] = cty.TupleVal(blocks[typ])
	}
	return out, pos
}

// evalDynamic expands a dynamic block.
func (r *reader) evalDynamic(blk *hclsyntax.Block, ctx *hcl.EvalContext, add func(string, cty.Value)) {
	label := blk.Labels[0]
	iter := label
	if a := blk.Body.Attributes["iterator"]; a != nil {
		if t, diags := hcl.AbsTraversalForExpr(a.Expr); !diags.HasErrors() {
			iter = t.RootName()
		}
	}
	var content *hclsyntax.Block
	for _, b := range blk.Body.Blocks {
		if b.Type == "content" {
			content = b
		}
	}
	fe := blk.Body.Attributes["for_each"]
	if content == nil || fe == nil {
		return
	}
	v := eval(fe.Expr, ctx)
	if !v.IsWhollyKnown() || v.IsNull() || !v.CanIterateElements() {
		return
	}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		c := ctx.NewChild()
		c.Variables = map[string]cty.Value{iter: cty.ObjectVal(map[string]cty.Value{"key": k, "value": e})}
		attrs, _ := r.evalBody(content.Body, c, label+".")
		add(label, objectOf(attrs))
	}
}

// evalModuleCall evaluates each instance of a module call: a local module
// (or one terraform init installed) is instantiated with the call's
// arguments; a known registry module is understood from its inputs.
func (r *reader) evalModuleCall(mod *module, s *scope, n *node) cty.Value {
	blk := n.block
	source := ""
	if a := blk.Body.Attributes["source"]; a != nil {
		source, _ = str(fromCty(eval(a.Expr, nil)))
	}
	key := n.name
	if s.key != "" {
		key = s.key + "." + n.name
	}
	insts, counted := r.expand(blk, s.ctx, s.prefix+n.key)
	vals := make([]cty.Value, len(insts))
	for i, in := range insts {
		prefix := s.prefix + n.key + in.key + "."
		c := in.ctx(s.ctx)
		args := map[string]cty.Value{}
		argPos := map[string]model.Pos{}
		argText := map[string]string{}
		for name, a := range blk.Body.Attributes {
			switch name {
			case "source", "version", "count", "for_each", "providers", "depends_on":
				continue
			}
			args[name] = eval(a.Expr, c)
			argPos[name] = rangePos(a.SrcRange)
			argText[name] = exprText(a.Expr)
		}
		call := &moduleCall{addr: strings.TrimSuffix(prefix, "."), source: source, pos: rangePos(blk.DefRange()),
			args: args, argPos: argPos, argText: argText}
		vals[i] = r.callModule(mod, s, call, key)
	}
	return collect(insts, vals, counted)
}

// A moduleCall is one instance of a module block, its arguments evaluated.
type moduleCall struct {
	addr    string // module.vpc, module.db[0]
	source  string
	pos     model.Pos
	args    map[string]cty.Value
	argPos  map[string]model.Pos
	argText map[string]string // source text of simple references (local.azs)
}

func (r *reader) callModule(parent *module, s *scope, call *moduleCall, key string) cty.Value {
	dir := ""
	switch {
	case strings.HasPrefix(call.source, "./") || strings.HasPrefix(call.source, "../"):
		dir = filepath.Join(parent.dir, filepath.FromSlash(call.source))
	case r.installed[key] != "":
		dir = r.installed[key]
	}
	if dir != "" && s.depth < maxDepth {
		if child, err := r.parse(dir, nil); err == nil {
			return r.instantiate(child, call.addr+".", key, call.args, s.depth+1)
		}
	}
	if v, ok := r.registry(call); ok {
		return v
	}
	hint := "run terraform init so that .terraform/modules holds its source, or import the plan (terraform show -json)"
	if dir != "" {
		hint = "the directory " + dir + " holds no readable .tf files"
	}
	r.b.Note(importer.Note{Pos: call.pos, Kind: importer.NoteUnknownResource, Subject: importer.Name(call.addr),
		Msg:  fmt.Sprintf("module source %q is not on disk and not one the importer understands: its resources are unknown", call.source),
		Hint: hint})
	return cty.DynamicVal
}

// exprText returns the text of a plain reference (local.azs, var.x), or "".
func exprText(e hcl.Expression) string {
	t, diags := hcl.AbsTraversalForExpr(e)
	if diags.HasErrors() {
		return ""
	}
	var b strings.Builder
	for i, s := range t {
		switch s := s.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		default:
			_ = i
			return ""
		}
	}
	return b.String()
}

// sortedKeys returns a map's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
