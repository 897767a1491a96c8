package proxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Streams: upstream is the data the client sends to the upstream server,
// downstream the data the upstream server sends back.
const (
	Upstream   = "upstream"
	Downstream = "downstream"
)

// kinds maps each toxic type to its attributes (all integers, as in
// Toxiproxy) with their defaults; docs/proxy.md says what they mean.
// "timeout" and "blackhole" are the same toxic under two names; "down" is
// ours (Toxiproxy only disables whole proxies).
var kinds = map[string]map[string]int64{
	"latency":    {"latency": 0, "jitter": 0},                          // ms
	"down":       {},                                                   // refuse new connections, cut open ones
	"timeout":    {"timeout": 0},                                       // swallow; close after ms (0: never)
	"blackhole":  {"timeout": 0},                                       // the same
	"reset_peer": {"timeout": 0},                                       // RST ms after data arrives
	"bandwidth":  {"rate": 0},                                          // KB/s
	"slow_close": {"delay": 0},                                         // ms
	"slicer":     {"average_size": 0, "size_variation": 0, "delay": 0}, // bytes, bytes, µs
	"limit_data": {"bytes": 0},                                         // close after bytes
}

// toxicTypes returns the names of the toxic types, sorted.
func toxicTypes() []string {
	return slices.Sorted(maps.Keys(kinds))
}

// A Toxic is a fault applied to the connections of a proxy. Its JSON form
// is Toxiproxy's, plus "ttl" (a Go duration) and "expires_at".
type Toxic struct {
	Name     string
	Type     string
	Stream   string  // Upstream or Downstream
	Toxicity float64 // probability, per connection, that the toxic applies
	// Attributes holds every attribute of the type, defaults included.
	Attributes map[string]int64
	// TTL is how long the toxic lives after it is added or updated; the
	// server caps it at Options.MaxTTL. Zero means no limit of its own.
	TTL time.Duration
	// ExpiresAt is when the server removes the toxic (zero: never); set
	// by the server.
	ExpiresAt time.Time
}

// toxicJSON is the wire form.
type toxicJSON struct {
	Name       string           `json:"name"`
	Type       string           `json:"type"`
	Stream     string           `json:"stream"`
	Toxicity   float64          `json:"toxicity"`
	Attributes map[string]int64 `json:"attributes"`
	TTL        string           `json:"ttl,omitempty"`
	ExpiresAt  *time.Time       `json:"expires_at,omitempty"`
}

// MarshalJSON writes the toxic as Toxiproxy does, with ttl and expires_at
// when it has them.
func (t Toxic) MarshalJSON() ([]byte, error) {
	w := toxicJSON{Name: t.Name, Type: t.Type, Stream: t.Stream, Toxicity: t.Toxicity, Attributes: t.Attributes}
	if w.Attributes == nil {
		w.Attributes = map[string]int64{}
	}
	if t.TTL > 0 {
		w.TTL = t.TTL.String()
	}
	if !t.ExpiresAt.IsZero() {
		e := t.ExpiresAt.UTC()
		w.ExpiresAt = &e
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads the form MarshalJSON writes, so that a toxic read
// from the API round-trips: it applies no defaults and checks nothing but
// the ttl (newToxic checks requests). Unknown fields are ignored, so
// that a client can read the toxics of a newer server.
func (t *Toxic) UnmarshalJSON(data []byte) error {
	var w toxicJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	out := Toxic{Name: w.Name, Type: w.Type, Stream: w.Stream, Toxicity: w.Toxicity, Attributes: w.Attributes}
	if w.TTL != "" {
		d, err := time.ParseDuration(w.TTL)
		if err != nil || d < 0 {
			return fmt.Errorf("toxic %s: ttl %q: want a duration such as \"30s\" or \"5m\"", w.Name, w.TTL)
		}
		out.TTL = d
	}
	if w.ExpiresAt != nil {
		out.ExpiresAt = *w.ExpiresAt
	}
	*t = out
	return nil
}

// toxicPatch is a decoded request body: nil fields were absent, so that an
// update changes only what it names and a create can apply defaults.
type toxicPatch struct {
	Name       *string                    `json:"name"`
	Type       *string                    `json:"type"`
	Stream     *string                    `json:"stream"`
	Toxicity   *float64                   `json:"toxicity"`
	Attributes map[string]json.RawMessage `json:"attributes"`
	TTL        *string                    `json:"ttl"`
	// Read-only, accepted so that a toxic read from the API can be
	// posted back unchanged.
	ExpiresAt json.RawMessage `json:"expires_at"`
}

// newToxic makes the toxic a request to add one describes, applying
// Toxiproxy's defaults: stream downstream, toxicity 1, name TYPE_STREAM.
func newToxic(p toxicPatch) (Toxic, error) {
	if p.Type == nil || *p.Type == "" {
		return Toxic{}, badRequest("missing required field: type (one of: %s)", strings.Join(toxicTypes(), ", "))
	}
	t := Toxic{Type: *p.Type, Stream: Downstream, Toxicity: 1}
	if _, ok := kinds[t.Type]; !ok {
		return Toxic{}, badRequest("invalid toxic type %q (want one of: %s)", t.Type, strings.Join(toxicTypes(), ", "))
	}
	if p.Name != nil {
		t.Name = *p.Name
	}
	if err := t.apply(p); err != nil {
		return Toxic{}, err
	}
	return t, nil
}

// apply changes t by the fields present in p, as a Toxiproxy update does,
// and validates the result. It does not change t's name.
func (t *Toxic) apply(p toxicPatch) error {
	// Toxiproxy's client sends "type": "" in updates.
	if p.Type != nil && *p.Type != "" && *p.Type != t.Type {
		return badRequest("toxic %s is a %s toxic: its type cannot change (remove it and add a new one)", t.Name, t.Type)
	}
	if p.Stream != nil {
		t.Stream = *p.Stream
	}
	if p.Toxicity != nil {
		t.Toxicity = *p.Toxicity
	}
	attrs := maps.Clone(t.Attributes)
	if attrs == nil {
		attrs = map[string]int64{}
	}
	for name, raw := range p.Attributes {
		var v int64
		if err := json.Unmarshal(raw, &v); err != nil {
			return badRequest("attribute %s: want a whole number, got %s", name, raw)
		}
		attrs[name] = v
	}
	t.Attributes = attrs
	if p.TTL != nil {
		t.TTL = 0
		if *p.TTL != "" {
			d, err := time.ParseDuration(*p.TTL)
			if err != nil || d < 0 {
				return badRequest("ttl %q: want a duration such as \"30s\" or \"5m\"", *p.TTL)
			}
			t.TTL = d
		}
	}
	return t.validate()
}

func attrNames(typ string) string {
	names := slices.Sorted(maps.Keys(kinds[typ]))
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// jsonError makes encoding/json's messages readable without Go type names.
func jsonError(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("field %s: want %s, got JSON %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		}
		return fmt.Sprintf("want a JSON %s, got %s", jsonKind(te.Type.Kind().String()), te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	}
	return err.Error()
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int", "int64", "float32", "float64":
		return "number"
	case "slice", "array":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	}
	return goKind
}

// validate checks a toxic built in Go (the API's are checked as they are
// parsed), fills in the defaults of absent attributes and the default
// name, and copies the attributes so the caller's map is not shared.
func (t *Toxic) validate() error {
	defaults, ok := kinds[t.Type]
	if !ok {
		return badRequest("invalid toxic type %q (want one of: %s)", t.Type, strings.Join(toxicTypes(), ", "))
	}
	if t.Stream == "" {
		t.Stream = Downstream
	}
	if t.Stream != Upstream && t.Stream != Downstream {
		return badRequest("stream was invalid, can be either upstream or downstream (got %q)", t.Stream)
	}
	if t.Toxicity < 0 || t.Toxicity > 1 {
		return badRequest("toxicity %g: must be between 0 and 1 (the probability that the toxic applies to a connection)", t.Toxicity)
	}
	attrs := maps.Clone(defaults)
	for _, name := range slices.Sorted(maps.Keys(t.Attributes)) {
		v := t.Attributes[name]
		if _, ok := attrs[name]; !ok {
			return badRequest("%s toxic has no attribute %q (attributes: %s)", t.Type, name, attrNames(t.Type))
		}
		if v < 0 {
			return badRequest("attribute %s: %d is negative", name, v)
		}
		attrs[name] = v
	}
	t.Attributes = attrs
	if t.Type == "slicer" && attrs["average_size"] > 0 && attrs["size_variation"] >= attrs["average_size"] {
		return badRequest("slicer: size_variation (%d) must be smaller than average_size (%d)", attrs["size_variation"], attrs["average_size"])
	}
	if t.TTL < 0 {
		return badRequest("ttl %s: must not be negative", t.TTL)
	}
	if t.Name == "" {
		t.Name = t.Type + "_" + t.Stream
	}
	return nil
}
