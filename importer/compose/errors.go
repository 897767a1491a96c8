package compose

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spofhq/spof/model"
	"go.yaml.in/yaml/v3"
)

var (
	// A compose path in a compose-go message: services.web.ports.0,
	// volumes.data, include.0 ...
	composePathRe = regexp.MustCompile(`\b((?:services|networks|volumes|configs|secrets|include|models|jobs)(?:\.[A-Za-z0-9_\-.\[\]]*[A-Za-z0-9_\-\]])?)`)
	// service "web" (consistency and extends messages).
	quotedServiceRe = regexp.MustCompile(`service "([^"]+)"`)
	// Circular reference:\n  a in f\n  extends b in f
	extendsCycleRe = regexp.MustCompile(`(?m)^\s+(?:extends )?(\S+) in (\S+)$`)
	// additional properties 'imagee' not allowed
	extraPropRe = regexp.MustCompile(`additional propert(?:y|ies) '([^']+)'`)
	// remote resource oci://...: not fetched
	remoteRe = regexp.MustCompile(`remote resource (\S+): not fetched`)
	// services.web.imagee false schema
	falseSchemaRe = regexp.MustCompile(`^(\S+) false schema$`)
	// required variable X is missing a value
	requiredVarRe = regexp.MustCompile(`required variable (\S+) is missing a value`)
	// A ports item compose-go (docker's nat package) cannot parse; it
	// names the item's bad part only.
	badPortRe = regexp.MustCompile(`^(?:Invalid (?:containerPort|hostPort|proto|ip address|port)|No port specified): (.*?)(?:<empty>)?$`)
)

// explain turns a compose-go error into a positioned one: the compose path
// or service it names is looked up in the files. What cannot be placed is
// reported on the first file.
func (p *positions) explain(err error) error {
	var me *model.Error
	var ml model.ErrorList
	if errors.As(err, &me) || errors.As(err, &ml) {
		return err
	}
	msg := err.Error()
	for _, f := range p.files {
		msg = strings.ReplaceAll(msg, f.abs, f.name)
	}
	e := &model.Error{Msg: msg, Hint: hintFor(msg)}
	if len(p.files) > 0 {
		e.Pos = model.Pos{File: p.loaded[0]}
	}
	// "validating FILE: path ...": the message names its file first.
	if rest, ok := strings.CutPrefix(msg, "validating "); ok {
		if file, detail, ok := strings.Cut(rest, ": "); ok {
			e.Pos = model.Pos{File: file}
			e.Msg = detail
			msg = detail
		}
	}
	if m := remoteRe.FindStringSubmatch(msg); m != nil {
		if pos, ok := p.includeItem(m[1]); ok {
			e.Pos = pos
		}
		return e
	}
	if m := badPortRe.FindStringSubmatch(msg); m != nil {
		e.Hint = `write [HOST:]CONTAINER[/PROTOCOL], as "8080:80" or "9090/udp"`
		if pos, ok := p.portItem(m[1]); ok {
			e.Pos = pos
		}
		if e.Pos.File != "" && e.Pos.Line == 0 {
			e.Pos.Line, e.Pos.Col = 1, 1
		}
		return e
	}
	if cycle := extendsCycleRe.FindAllStringSubmatch(msg, -1); cycle != nil {
		// compose-go starts the cycle wherever its map iteration did:
		// start it at the first name, for a stable message.
		var names []string
		for _, m := range cycle[:len(cycle)-1] {
			names = append(names, m[1])
		}
		first := slices.Index(names, slices.Min(names))
		names = append(names[first:], names[:first]...)
		e.Msg = "extends cycle: " + strings.Join(append(names, names[0]), " → ")
		path := "services." + names[0] + ".extends"
		if pos, ok := p.locateIn(e.Pos.File, path); ok {
			e.Pos = pos
		}
		return e
	}
	path := ""
	if m := composePathRe.FindStringSubmatch(msg); m != nil {
		path = strings.TrimRight(m[1], ".")
	} else if m := quotedServiceRe.FindStringSubmatch(msg); m != nil {
		path = "services." + m[1]
	}
	if path != "" {
		if m := extraPropRe.FindStringSubmatch(msg); m != nil {
			path += "." + m[1]
		}
		// "services.web.imagee false schema": a key the schema refuses.
		if m := falseSchemaRe.FindStringSubmatch(msg); m != nil {
			e.Msg, e.Hint = unknownKey(m[1])
		}
		if pos, ok := p.locateIn(e.Pos.File, path); ok {
			e.Pos = pos
		}
	}
	if e.Pos.File != "" && e.Pos.Line == 0 {
		e.Pos.Line, e.Pos.Col = 1, 1
	}
	return e
}

// locateIn looks a path up in the named file first, then in every file.
func (p *positions) locateIn(file, path string) (model.Pos, bool) {
	for _, f := range p.files {
		if f.name != file {
			continue
		}
		if n, ok := f.path(path); ok || (n != nil && n != f.root) {
			return nodePos(f.name, n), true
		}
	}
	return p.locate(path)
}

// hintFor says what to do about a compose-go message.
func hintFor(msg string) string {
	switch {
	case extraPropRe.MatchString(msg):
		return "a key the compose specification does not know: check its spelling and indentation"
	case requiredVarRe.MatchString(msg):
		return "set the variable in an env file or in Options.Environ"
	case strings.Contains(msg, "invalid interpolation"):
		return "write $$ for a literal $"
	case strings.Contains(msg, "Circular reference"), strings.Contains(msg, "cycle"):
		return "break the cycle of extends or include"
	case strings.Contains(msg, "remote resource"):
		return "vendor the remote file and include it by path"
	case strings.Contains(msg, "no such file"), strings.Contains(msg, "not found"), strings.Contains(msg, "couldn't find"):
		return "check the path, relative to the file that names it"
	case strings.Contains(msg, "failed to cast"):
		return "this key wants a number or a boolean"
	case strings.Contains(msg, " must be "):
		return "see the compose specification for this key's type"
	}
	return "see the compose specification: https://docs.docker.com/reference/compose-file/"
}

// unknownKey explains a key the compose schema refuses, with the closest
// service key when it is under a service.
func unknownKey(path string) (msg, hint string) {
	key := path[strings.LastIndexByte(path, '.')+1:]
	msg = "unknown key " + key
	hint = "a key the compose specification does not know: check its spelling and indentation"
	if strings.Count(path, ".") == 2 && strings.HasPrefix(path, "services.") {
		if s := model.Closest(key, serviceKeys()); s != "" {
			hint = fmt.Sprintf("did you mean %q?", s)
		}
	}
	return msg, hint
}

// serviceKeys are the keys a service may have, from compose-go's types.
func serviceKeys() []string {
	var keys []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			switch {
			case f.Anonymous && f.Type.Kind() == reflect.Struct:
				walk(f.Type)
			case tag != "" && tag != "-" && !strings.HasPrefix(tag, "#"):
				keys = append(keys, tag)
			}
		}
	}
	walk(reflect.TypeFor[types.ServiceConfig]())
	return keys
}

// portItem returns the position of the first ports item (a string, or a
// mapping's target or published) that holds bad, the part of it compose-go
// could not parse ("": an empty item).
func (p *positions) portItem(bad string) (model.Pos, bool) {
	for _, f := range p.files {
		for _, name := range sortedKeys(f.services) {
			ports := mapValue(f.services[name].value, "ports")
			if ports == nil || ports.Kind != yaml.SequenceNode {
				continue
			}
			for _, it := range ports.Content {
				vals := []*yaml.Node{it}
				if it.Kind == yaml.MappingNode {
					vals = []*yaml.Node{mapValue(it, "target"), mapValue(it, "published"), mapValue(it, "protocol"), mapValue(it, "host_ip")}
				}
				for _, v := range vals {
					if v != nil && v.Kind == yaml.ScalarNode && (bad == "" && strings.TrimSpace(v.Value) == "" || bad != "" && strings.Contains(v.Value, bad)) {
						return nodePos(f.name, v), true
					}
				}
			}
		}
	}
	return model.Pos{}, false
}

// includeItem returns the position of the include entry naming path.
func (p *positions) includeItem(path string) (model.Pos, bool) {
	for _, f := range p.files {
		inc := mapValue(f.root, "include")
		if inc == nil {
			continue
		}
		for _, it := range inc.Content {
			if it.Value == path {
				return nodePos(f.name, it), true
			}
			if pv := mapValue(it, "path"); pv != nil {
				if pv.Value == path {
					return nodePos(f.name, pv), true
				}
				for _, q := range pv.Content {
					if q.Value == path {
						return nodePos(f.name, q), true
					}
				}
			}
		}
	}
	return model.Pos{}, false
}
