package model

import (
	"bytes"
	"encoding/json"
)

// durationPattern matches Go duration strings ("3s", "1m30s", "500ms").
const durationPattern = `^\+?(([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`

// hostPortPattern matches host:port (an IPv6 host in brackets); the loader
// also checks the port's range.
const hostPortPattern = `^(\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):[0-9]{1,5}$`

// urlPattern matches http and https URLs; the loader also checks the host.
const urlPattern = `^[hH][tT][tT][pP][sS]?://[^/?#]+`

// percentPattern matches a percentage written as a string, "99.95%"; the
// loader also checks that it is in (0%, 100%].
const percentPattern = `^ *[0-9]+(\.[0-9]+)? *%$`

// Schema returns the JSON Schema (draft 2020-12) of spof.yaml, for editors
// and other tools. It is generated from the tables the loader checks
// models against, so the two agree. The loader checks more than the schema
// can say: references to declared names, min_healthy ≤ replicas, cycles.
func Schema() []byte {
	defs := jsonObject{}
	for _, o := range []*object{zoneObject, regionObject, providerObject, componentObject, edgeObject, breakerObject,
		bindingObject, proxyBindingObject, processBindingObject, iptablesBindingObject,
		dockerBindingObject, kubectlBindingObject, commandBindingObject,
		flowObject, probeObject, degradedWhenObject, personObject, hazardObject, chaosObject, scheduleObject} {
		defs = append(defs, member{o.name, objectSchema(o)})
	}
	root := jsonObject{
		{"$schema", "https://json-schema.org/draft/2020-12/schema"},
		{"title", "spof model (spof.yaml)"},
	}
	root = append(root, objectSchema(modelObject)...)
	root = append(root, member{"$defs", defs})
	out, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		panic("model: internal error: " + err.Error()) // the schema is built from constants
	}
	return append(out, '\n')
}

func objectSchema(o *object) jsonObject {
	props := jsonObject{}
	var required []string
	dependent := jsonObject{}
	for i := range o.fields {
		f := &o.fields[i]
		props = append(props, member{f.key, fieldSchema(f)})
		if f.required {
			required = append(required, f.key)
		}
		if f.requires != "" {
			dependent = append(dependent, member{f.key, []string{f.requires}})
		}
	}
	s := jsonObject{
		{"description", o.desc},
		{"type", "object"},
		{"properties", props},
		{"additionalProperties", false},
	}
	if len(required) > 0 {
		s = append(s, member{"required", required})
	}
	if len(dependent) > 0 {
		s = append(s, member{"dependentRequired", dependent})
	}
	if len(o.choice) > 0 {
		alts := make([]jsonObject, len(o.choice))
		for i, k := range o.choice {
			alts[i] = jsonObject{{"required", []string{k}}}
		}
		keyword := "oneOf"
		if o.choiceMany {
			keyword = "anyOf"
		}
		s = append(s, member{keyword, alts})
	}
	return s
}

func fieldSchema(f *field) jsonObject {
	s := jsonObject{{"description", f.desc}}
	switch f.typ {
	case typeString:
		s = append(s, stringSchema(f)...)
		if f.nonEmpty {
			s = append(s, member{"minLength", 1})
		}
	case typeHostPort:
		s = append(s, member{"type", "string"}, member{"pattern", hostPortPattern})
	case typeBool:
		s = append(s, member{"type", "boolean"})
	case typeRefused:
		s = append(s, member{"not", jsonObject{}})
	case typeEnum:
		s = append(s, member{"type", "string"}, member{"enum", f.enum})
	case typeInt:
		s = append(s, member{"type", "integer"}, member{"minimum", f.min})
		if f.max > 0 {
			s = append(s, member{"maximum", f.max})
		}
	case typeDuration:
		s = append(s, member{"type", "string"}, member{"pattern", durationPattern})
	case typeURL:
		s = append(s, member{"type", "string"}, member{"format", "uri"}, member{"pattern", urlPattern})
	case typeFraction:
		s = append(s, member{"oneOf", []jsonObject{
			{{"type", "number"}, {"exclusiveMinimum", 0}, {"maximum", 1}},
			{{"type", "string"}, {"pattern", percentPattern}},
		}})
	case typeList:
		s = append(s, member{"type", "array"}, member{"items", stringSchema(f)}, member{"uniqueItems", true})
		if f.nonEmpty {
			s = append(s, member{"minItems", 1})
		}
	case typeObject:
		s = append(s, nullable(ref(f.object), f.nullable)...)
	case typeMap:
		s = append(s,
			member{"type", "object"},
			member{"propertyNames", jsonObject{{"pattern", namePattern}}},
			member{"additionalProperties", nullable(ref(f.object), f.nullable)})
		if f.nonEmpty {
			s = append(s, member{"minProperties", 1})
		}
	case typeDependsOn:
		name := jsonObject{
			{"description", "A hard dependency on the named component."},
			{"type", "string"},
			{"pattern", namePattern},
		}
		withOptions := jsonObject{
			{"description", "A dependency on the component named by the only key, with options."},
			{"type", "object"},
			{"minProperties", 1},
			{"maxProperties", 1},
			{"propertyNames", jsonObject{{"pattern", namePattern}}},
			{"additionalProperties", nullable(ref(f.object), true)},
		}
		s = append(s, member{"type", "array"}, member{"items", jsonObject{{"anyOf", []jsonObject{name, withOptions}}}})
	}
	return s
}

// stringSchema is the schema of a string field or of a list's items.
func stringSchema(f *field) jsonObject {
	s := jsonObject{{"type", "string"}}
	if f.name || f.ref != refNone {
		s = append(s, member{"pattern", namePattern})
	}
	return s
}

func ref(o *object) jsonObject {
	return jsonObject{{"$ref", "#/$defs/" + o.name}}
}

// nullable lets s also be null, which stands for an empty mapping.
func nullable(s jsonObject, ok bool) jsonObject {
	if !ok {
		return s
	}
	return jsonObject{{"anyOf", []jsonObject{{{"type", "null"}}, s}}}
}

// jsonObject is a JSON object that keeps its members in order, so that the
// schema reads in the order of the tables.
type jsonObject []member

type member struct {
	key   string
	value any
}

// MarshalJSON encodes o with its members in order.
func (o jsonObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(m.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(m.value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
