package model

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spofhq/spof/internal/yamltree"
)

// ProxyEntry is one proxy of the file spof proxy --config reads: a list
// of proxies in Toxiproxy's configuration format.
type ProxyEntry struct {
	Name     string
	Listen   string // host:port; empty: 127.0.0.1 on a free port
	Upstream string // host:port
	Enabled  bool   // true unless the file says false

	// Where each part is, for errors found when the proxy is created.
	Pos, ListenPos, UpstreamPos Pos
	// Path names the entry in messages: its name, or [i] without one.
	Path string
}

// proxyObject is one entry of a proxy config file.
var proxyObject = &object{
	name: "proxy",
	desc: "A proxy: spof proxy listens on listen and forwards to upstream.",
	fields: []field{
		{key: "name", typ: typeString, required: true, nonEmpty: true, example: "name: redis",
			desc: "The proxy's name, as the API and chaos bindings name it."},
		{key: "listen", typ: typeHostPort, listen: true,
			desc: "host:port to listen on; an empty host is 127.0.0.1, port 0 any free port. Default 127.0.0.1:0."},
		{key: "upstream", typ: typeHostPort, required: true, example: "upstream: 127.0.0.1:6379",
			desc: "host:port of the service to proxy."},
		{key: "enabled", typ: typeBool,
			desc: "Whether the proxy listens from the start. Default true."},
		{key: "toxics", typ: typeRefused,
			desc: "add toxics through the API, with a ttl: a fault written in a file outlives whoever wrote it"},
	},
}

// ParseProxies reads a proxy config file: a JSON or YAML list of proxies,
// each with name, listen, upstream and enabled (Toxiproxy's format). It
// is as strict as Parse: unknown keys, wrong types, missing names or
// upstreams and names given twice are errors, each with its position, in
// an ErrorList. An empty file has no proxies. Listen addresses are checked
// when the proxies are created.
func ParseProxies(file string, data []byte) ([]ProxyEntry, error) {
	d := &decoder{file: file, wholeYAML: true}
	if strings.EqualFold(filepath.Ext(file), ".json") && !d.strictJSON(data) {
		return nil, d.finish()
	}
	root, _ := d.document(data, `want one YAML document: remove the "---" and what follows`)
	if root == nil {
		if len(d.errs) > 0 {
			return nil, d.finish()
		}
		return nil, nil
	}
	if root.Kind != yamltree.SequenceNode {
		d.errorf(root, "", `write "- name: redis" for each proxy`, "want a list of proxies, each with name, listen, upstream and enabled (Toxiproxy's format), got %s", describe(root))
		return nil, d.finish()
	}
	var out []ProxyEntry
	names := map[string]*yamltree.Node{}
	for i, item := range root.Content {
		item = resolve(item)
		en := ProxyEntry{Enabled: true, Pos: d.pos(item), Path: indexPath("", i)}
		if item.Kind == yamltree.MappingNode {
			// Name the entry after its name, so that every message can.
			for j := 0; j+1 < len(item.Content); j += 2 {
				if item.Content[j].Value == "name" {
					if v := resolve(item.Content[j+1]); isString(v) && validName(v.Value) {
						en.Path = v.Value
					}
					break
				}
			}
		}
		vs := d.object(item, proxyObject, en.Path, item)
		if vs == nil {
			continue
		}
		if v := vs.get("name"); v.ok {
			en.Name = v.str
			if first := names[v.str]; first != nil {
				d.errorf(v.node, join(en.Path, "name"), "first given at line "+strconv.Itoa(int(first.Line)), "duplicate proxy name %q", v.str)
			} else {
				names[v.str] = v.node
			}
		}
		if v := vs.get("listen"); v.ok {
			en.Listen, en.ListenPos = v.str, d.pos(v.node)
		}
		if v := vs.get("upstream"); v.ok {
			en.Upstream, en.UpstreamPos = v.str, d.pos(v.node)
		}
		if v := vs.get("enabled"); v.ok {
			en.Enabled = v.flag
		}
		out = append(out, en)
		d.arena.reset()
	}
	if len(d.errs) > 0 || d.more > 0 {
		return nil, d.finish()
	}
	return out, nil
}

// strictJSON holds data to JSON's syntax, which YAML reads more leniently
// (trailing commas), and records the first syntax error.
func (d *decoder) strictJSON(data []byte) bool {
	var v any
	err := json.Unmarshal(data, &v)
	if err == nil {
		return true
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		d.errorAt(d.offsetPos(data, max(0, min(int(se.Offset)-1, len(data)))), "", "", "invalid JSON: %v", se)
	} else {
		d.errorf(nil, "", "", "invalid JSON: %v", err)
	}
	return false
}
