package terraform

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/spofhq/spof/model"
)

// The JSON of terraform show -json: a plan (planned_values) or a state
// (values). Only what the model needs is decoded.
type planDoc struct {
	FormatVersion *string    `json:"format_version"`
	PlannedValues *valuesDoc `json:"planned_values"`
	Values        *valuesDoc `json:"values"`
	Configuration *configDoc `json:"configuration"`
}

type valuesDoc struct {
	RootModule *moduleDoc `json:"root_module"`
}

type moduleDoc struct {
	Address      string        `json:"address"`
	Resources    []resourceDoc `json:"resources"`
	ChildModules []moduleDoc   `json:"child_modules"`
}

type resourceDoc struct {
	Address string         `json:"address"`
	Mode    string         `json:"mode"`
	Type    string         `json:"type"`
	Name    string         `json:"name"`
	Index   any            `json:"index"`
	Values  map[string]any `json:"values"`
}

type configDoc struct {
	ProviderConfig map[string]struct {
		Name        string             `json:"name"`
		Expressions map[string]exprDoc `json:"expressions"`
	} `json:"provider_config"`
	RootModule *configModule `json:"root_module"`
}

type configModule struct {
	Resources   []configResource      `json:"resources"`
	ModuleCalls map[string]configCall `json:"module_calls"`
	Outputs     map[string]struct {
		Expression exprDoc `json:"expression"`
	} `json:"outputs"`
}

type configCall struct {
	Module *configModule `json:"module"`
}

type configResource struct {
	Address     string         `json:"address"`
	Expressions map[string]any `json:"expressions"`
}

type exprDoc struct {
	ConstantValue any      `json:"constant_value"`
	References    []string `json:"references"`
}

var addressRe = regexp.MustCompile(`"address"\s*:\s*"((?:[^"\\]|\\.)*)"`)

// readJSON reads the output of terraform show -json: a plan or a state.
func (r *reader) readJSON(file string, data []byte) error {
	var doc planDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return jsonError(file, data, err)
	}
	vals := doc.PlannedValues
	if vals == nil {
		vals = doc.Values
	}
	if doc.FormatVersion == nil || vals == nil || vals.RootModule == nil {
		return &model.Error{Pos: model.Pos{File: file, Line: 1, Col: 1},
			Msg:  "not the JSON of terraform show -json: no format_version with planned_values or values",
			Hint: "run terraform show -json plan.out > plan.json (or terraform show -json for the state)"}
	}
	r.b.Source(file)
	// Each resource's position: the first "address" naming it, which is in
	// planned_values (or values), the first section terraform writes.
	offsets := map[string]int{}
	for _, m := range addressRe.FindAllSubmatchIndex(data, -1) {
		addr, err := strconv.Unquote(`"` + string(data[m[2]:m[3]]) + `"`)
		if err != nil {
			continue
		}
		if _, ok := offsets[addr]; !ok {
			offsets[addr] = m[0]
		}
	}
	lines := newLineIndex(data)
	if doc.Configuration != nil {
		for _, p := range doc.Configuration.ProviderConfig {
			if reg, ok := p.Expressions["region"].ConstantValue.(string); ok && r.region == "" {
				r.region = reg
			}
		}
	}
	var resources []*resource
	var walk func(m *moduleDoc)
	walk = func(m *moduleDoc) {
		for _, rd := range m.Resources {
			if rd.Mode != "managed" {
				continue
			}
			block := rd.Address
			if rd.Index != nil {
				if i := strings.LastIndexByte(block, '['); i > 0 {
					block = block[:i]
				}
			}
			attrs := rd.Values
			if attrs == nil {
				attrs = map[string]any{}
			}
			res := &resource{Addr: rd.Address, Block: block, Type: rd.Type, Attrs: attrs,
				Pos: lines.pos(file, offsets[rd.Address]), Counted: rd.Index != nil}
			resources = append(resources, res)
		}
		for i := range m.ChildModules {
			walk(&m.ChildModules[i])
		}
	}
	walk(vals.RootModule)
	if doc.Configuration != nil && doc.Configuration.RootModule != nil {
		fillFromConfig(resources, doc.Configuration.RootModule)
	}
	r.resources = append(r.resources, resources...)
	return nil
}

// lineIndex maps byte offsets to lines and columns.
type lineIndex []int

func newLineIndex(data []byte) lineIndex {
	idx := lineIndex{0}
	for i, c := range data {
		if c == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

func (l lineIndex) pos(file string, off int) model.Pos {
	lo, hi := 0, len(l)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if l[mid] <= off {
			lo = mid
		} else {
			hi = mid
		}
	}
	return model.Pos{File: file, Line: lo + 1, Col: off - l[lo] + 1}
}

// listAttrs hold lists of references: all instances of a referenced
// block; other attributes hold one (instance i of a block referenced
// whole, as element(x[*].id, count.index) picks).
var listAttrs = map[string]bool{"subnets": true, "subnet_ids": true, "vpc_zone_identifier": true,
	"target_group_arns": true, "instances": true, "records": true, "load_balancers": true}

// fillFromConfig gives attributes a plan leaves unknown (the id of a
// subnet created by the same apply) the placeholder of the resource the
// configuration's expression refers to, so that a NAT gateway finds its
// subnet's zone and an autoscaling group its subnets.
func fillFromConfig(resources []*resource, root *configModule) {
	byBlock := map[string][]*resource{}
	byAddr := map[string]*resource{}
	for _, res := range resources {
		byBlock[res.Block] = append(byBlock[res.Block], res)
		byAddr[res.Addr] = res
	}
	// configuration addresses have no instance keys: module.vpc.aws_x.y
	configs := map[string]*configResource{}
	modules := map[string]*configModule{}
	var walk func(prefix string, m *configModule)
	walk = func(prefix string, m *configModule) {
		modules[prefix] = m
		for i := range m.Resources {
			configs[prefix+m.Resources[i].Address] = &m.Resources[i]
		}
		for name, call := range m.ModuleCalls {
			if call.Module != nil {
				walk(prefix+"module."+name+".", call.Module)
			}
		}
	}
	walk("", root)
	keyRe := regexp.MustCompile(`\[[^\]]*\]`)
	var resolve func(modPrefix, instPrefix, ref string, index int, many bool, depth int) []any
	resolve = func(modPrefix, instPrefix, ref string, index int, many bool, depth int) []any {
		if depth > 8 {
			return nil
		}
		if rest, ok := strings.CutPrefix(ref, "module."); ok {
			name, out, ok := strings.Cut(rest, ".")
			child := modules[modPrefix+"module."+name+"."]
			if !ok || child == nil {
				return nil
			}
			o, ok := child.Outputs[out]
			if !ok {
				return nil
			}
			for _, ref := range o.Expression.References {
				if v := resolve(modPrefix+"module."+name+".", instPrefix+"module."+name+".", ref, index, many, depth+1); v != nil {
					return v
				}
			}
			return nil
		}
		parts := strings.SplitN(ref, ".", 3)
		if len(parts) < 2 || parts[0] == "var" || parts[0] == "local" || parts[0] == "data" || parts[0] == "each" || parts[0] == "count" {
			return nil
		}
		target := instPrefix + parts[0] + "." + parts[1]
		if res := byAddr[target]; res != nil && !strings.Contains(parts[1], "[") {
			return []any{refOf(res.Addr, "id")}
		}
		if strings.Contains(parts[1], "[") {
			if res := byAddr[target]; res != nil {
				return []any{refOf(res.Addr, "id")}
			}
			return nil
		}
		insts := byBlock[target]
		if len(insts) == 0 {
			return nil
		}
		if many {
			var out []any
			for _, res := range insts {
				out = append(out, refOf(res.Addr, "id"))
			}
			return out
		}
		return []any{refOf(insts[max(index, 0)%len(insts)].Addr, "id")}
	}
	for _, res := range resources {
		cfgKey := keyRe.ReplaceAllString(res.Block, "")
		cfg := configs[cfgKey]
		if cfg == nil {
			continue
		}
		modPrefix := ""
		if i := strings.LastIndex(cfgKey, "module."); i >= 0 {
			j := strings.IndexByte(cfgKey[i+len("module."):], '.')
			modPrefix = cfgKey[:i+len("module.")+j+1]
		}
		instPrefix := res.Block[:len(res.Block)-len(strings.TrimPrefix(cfgKey, modPrefix))]
		index := -1
		if i := strings.LastIndexByte(res.Addr, '['); i > 0 && res.Block != res.Addr {
			if n, err := strconv.Atoi(strings.Trim(res.Addr[i:], "[]")); err == nil {
				index = n
			}
		}
		fill := func(attrs map[string]any, exprs map[string]any) {
			for name, e := range exprs {
				if v, ok := attrs[name]; ok && v != nil {
					continue
				}
				em, ok := e.(map[string]any)
				if !ok {
					continue
				}
				refs, _ := em["references"].([]any)
				many := listAttrs[name]
				for _, ref := range refs {
					s, _ := ref.(string)
					if v := resolve(modPrefix, instPrefix, s, index, many, 0); v != nil {
						if many {
							attrs[name] = v
						} else {
							attrs[name] = v[0]
						}
						break
					}
				}
			}
		}
		fill(res.Attrs, cfg.Expressions)
		// Nested blocks (default_action { target_group_arn = ... }): the
		// configuration has a list of expression objects, the values a
		// list of blocks, in the same order.
		for name, e := range cfg.Expressions {
			blocks, ok := e.([]any)
			vals, _ := res.Attrs[name].([]any)
			if !ok || len(blocks) != len(vals) {
				continue
			}
			for i, blk := range blocks {
				em, ok1 := blk.(map[string]any)
				vm, ok2 := vals[i].(map[string]any)
				if ok1 && ok2 {
					fill(vm, em)
				}
			}
		}
	}
}
