package proxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
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

// A ToxicType is a kind of toxic, as the API spells it. ParseToxicType
// reads one from its wire form; the zero value is no type.
type ToxicType string

// The toxic types. Timeout and Blackhole are the same toxic under two
// names; Down is ours (Toxiproxy only disables whole proxies).
const (
	ToxicLatency   ToxicType = "latency"    // delay data
	ToxicDown      ToxicType = "down"       // refuse new connections, close open ones
	ToxicTimeout   ToxicType = "timeout"    // swallow data; close after timeout ms (0: never)
	ToxicBlackhole ToxicType = "blackhole"  // the same as timeout
	ToxicResetPeer ToxicType = "reset_peer" // reset the connection timeout ms after data arrives
	ToxicBandwidth ToxicType = "bandwidth"  // limit the rate
	ToxicSlowClose ToxicType = "slow_close" // delay the end of the stream
	ToxicSlicer    ToxicType = "slicer"     // cut data into small pieces
	ToxicLimitData ToxicType = "limit_data" // close after some bytes
)

// An attribute is one integer setting of a toxic type (all are integers,
// as in Toxiproxy) with its valid range; every default is 0. The ranges
// keep the data path's arithmetic far from overflow, and say in the
// API's errors what is valid.
type attribute struct {
	name string
	max  int64
	unit string
}

// Limits of the attributes: a day for every delay, and rates and sizes
// far beyond what a loopback link carries.
const (
	maxDelayMillis = 24 * 60 * 60 * 1000 // a day, in ms
	maxDelayMicros = maxDelayMillis * 1000
	maxRate        = 100_000_000 // KB/s: 100 GB/s
	maxSliceSize   = 1 << 30     // bytes
)

// kinds maps each toxic type to its attributes; docs/proxy.md says what
// they mean.
var kinds = map[ToxicType][]attribute{
	ToxicLatency:   {{"latency", maxDelayMillis, "ms"}, {"jitter", maxDelayMillis, "ms"}},
	ToxicDown:      {},
	ToxicTimeout:   {{"timeout", maxDelayMillis, "ms"}},
	ToxicBlackhole: {{"timeout", maxDelayMillis, "ms"}},
	ToxicResetPeer: {{"timeout", maxDelayMillis, "ms"}},
	ToxicBandwidth: {{"rate", maxRate, "KB/s"}},
	ToxicSlowClose: {{"delay", maxDelayMillis, "ms"}},
	ToxicSlicer:    {{"average_size", maxSliceSize, "bytes"}, {"size_variation", maxSliceSize, "bytes"}, {"delay", maxDelayMicros, "µs"}},
	ToxicLimitData: {{"bytes", math.MaxInt64, "bytes"}},
}

// ToxicTypes returns the toxic types, sorted by name.
func ToxicTypes() []ToxicType {
	return slices.Sorted(maps.Keys(kinds))
}

// ParseToxicType returns the toxic type s names, or an error that lists
// the valid ones.
func ParseToxicType(s string) (ToxicType, error) {
	t := ToxicType(s)
	if _, ok := kinds[t]; !ok {
		if s == "" {
			return "", badRequest("missing required field: type (one of: %s)", typeList())
		}
		return "", badRequest("invalid toxic type %q (want one of: %s)", s, typeList())
	}
	return t, nil
}

func typeList() string {
	var names []string
	for _, t := range ToxicTypes() {
		names = append(names, string(t))
	}
	return strings.Join(names, ", ")
}

// attribute returns the attribute of t named name.
func (t ToxicType) attribute(name string) (attribute, bool) {
	i := slices.IndexFunc(kinds[t], func(a attribute) bool { return a.name == name })
	if i < 0 {
		return attribute{}, false
	}
	return kinds[t][i], true
}

// scaled converts v units to a duration, saturating instead of
// overflowing: a value beyond any range means "not in this lifetime",
// never a wrap to 0 or a negative delay.
func scaled(v int64, unit time.Duration) time.Duration {
	const ceiling = time.Duration(math.MaxInt64 / 4) // ~73 years; time.Time.Add stays exact
	switch {
	case v <= 0:
		return 0
	case v > int64(ceiling/unit):
		return ceiling
	}
	return time.Duration(v) * unit
}

// A Toxic is a fault applied to the connections of a proxy. Its JSON form
// is Toxiproxy's, plus "ttl" (a Go duration) and "expires_at".
type Toxic struct {
	Name     string
	Type     ToxicType
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
	Type       ToxicType        `json:"type"`
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
	var typ string
	if p.Type != nil {
		typ = *p.Type
	}
	tt, err := ParseToxicType(typ)
	if err != nil {
		return Toxic{}, err
	}
	t := Toxic{Type: tt, Stream: Downstream, Toxicity: 1}
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
	if p.Type != nil && *p.Type != "" && ToxicType(*p.Type) != t.Type {
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

func attrNames(typ ToxicType) string {
	var names []string
	for _, a := range kinds[typ] {
		names = append(names, a.name)
	}
	if len(names) == 0 {
		return "none"
	}
	slices.Sort(names)
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
	if _, err := ParseToxicType(string(t.Type)); err != nil {
		return err
	}
	if t.Stream == "" {
		t.Stream = Downstream
	}
	if t.Stream != Upstream && t.Stream != Downstream {
		return badRequest("stream was invalid, can be either upstream or downstream (got %q)", t.Stream)
	}
	if !(t.Toxicity >= 0 && t.Toxicity <= 1) {
		return badRequest("toxicity %g: must be between 0 and 1 (the probability that the toxic applies to a connection)", t.Toxicity)
	}
	attrs := make(map[string]int64, len(kinds[t.Type]))
	for _, a := range kinds[t.Type] {
		attrs[a.name] = 0
	}
	for _, name := range slices.Sorted(maps.Keys(t.Attributes)) {
		v := t.Attributes[name]
		a, ok := t.Type.attribute(name)
		if !ok {
			return badRequest("%s toxic has no attribute %q (attributes: %s)", t.Type, name, attrNames(t.Type))
		}
		if v < 0 || v > a.max {
			return badRequest("%s toxic: attribute %s: %d is out of range (0 to %d %s)", t.Type, name, v, a.max, a.unit)
		}
		attrs[name] = v
	}
	t.Attributes = attrs
	if t.Type == ToxicSlicer && attrs["average_size"] > 0 && attrs["size_variation"] >= attrs["average_size"] {
		return badRequest("slicer toxic: attribute size_variation (%d) must be smaller than average_size (%d)", attrs["size_variation"], attrs["average_size"])
	}
	if t.TTL < 0 {
		return badRequest("ttl %s: must not be negative", t.TTL)
	}
	if t.Name == "" {
		t.Name = string(t.Type) + "_" + t.Stream
	}
	return nil
}
