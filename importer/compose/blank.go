package compose

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spofhq/spof/model"
	"go.yaml.in/yaml/v3"
)

// A blankItem is a ports or expose item that interpolation leaves empty
// ("${JAEGER_PORT}" with JAEGER_PORT unset): docker compose refuses the
// whole project for it ("No port specified"), but a port that is not set
// says nothing of what depends on what, so it is left out, with a note.
type blankItem struct {
	service, attr, raw string
	pos                model.Pos
}

// dropBlankPorts removes the ports and expose items of the given files
// that interpolate to nothing, and returns the files to load and what was
// removed. A file with no such item is returned as it was, byte for byte.
func dropBlankPorts(paths []string, contents [][]byte, env types.Mapping) ([][]byte, []blankItem) {
	lookup := func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
	out := make([][]byte, len(contents))
	var dropped []blankItem
	for i, content := range contents {
		out[i] = content
		if !bytes.Contains(content, []byte("$")) {
			continue
		}
		var docs []*yaml.Node
		dec := yaml.NewDecoder(bytes.NewReader(content))
		for {
			var doc yaml.Node
			if err := dec.Decode(&doc); err != nil {
				if !errors.Is(err, io.EOF) {
					docs = nil // compose-go reports it
				}
				break
			}
			docs = append(docs, &doc)
		}
		changed := false
		for _, doc := range docs {
			if len(doc.Content) == 0 {
				continue
			}
			svcs := mapValue(doc.Content[0], "services")
			if svcs == nil || svcs.Kind != yaml.MappingNode {
				continue
			}
			for j := 0; j+1 < len(svcs.Content); j += 2 {
				name, svc := svcs.Content[j].Value, svcs.Content[j+1]
				for _, attr := range []string{"ports", "expose"} {
					seq := mapValue(svc, attr)
					if seq == nil || seq.Kind != yaml.SequenceNode {
						continue
					}
					kept := seq.Content[:0:0]
					for _, it := range seq.Content {
						if it.Kind == yaml.ScalarNode && strings.Contains(it.Value, "$") {
							v, err := template.SubstituteWithOptions(it.Value, lookup, template.WithoutLogging)
							if err == nil && strings.TrimSpace(v) == "" {
								dropped = append(dropped, blankItem{service: name, attr: attr, raw: it.Value,
									pos: model.Pos{File: paths[i], Line: it.Line, Col: it.Column}})
								changed = true
								continue
							}
						}
						kept = append(kept, it)
					}
					seq.Content = kept
				}
			}
		}
		if !changed {
			continue
		}
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		ok := true
		for _, doc := range docs {
			if err := enc.Encode(doc); err != nil {
				ok = false
				break
			}
		}
		if ok && enc.Close() == nil {
			out[i] = buf.Bytes()
		}
	}
	return out, dropped
}
