package traces

import (
	"bufio"
	"context"
	"encoding/json"
	"strconv"
)

// jaegerSpan is a span of Jaeger's trace JSON (the query API's
// /api/traces answer, or the UI's "download JSON").
type jaegerSpan struct {
	TraceID       string `json:"traceID"`
	SpanID        string `json:"spanID"`
	ParentSpanID  string `json:"parentSpanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		TraceID string `json:"traceID"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	ProcessID string      `json:"processID"`
	Process   *jaegerProc `json:"process"`
	Tags      []jaegerTag `json:"tags"`
	offset    int64       // where it starts in the file
}

type jaegerProc struct {
	ServiceName string `json:"serviceName"`
}

type jaegerTag struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// value is the tag's value as text: strings unquoted, others as written.
func (t *jaegerTag) value() string {
	if len(t.Value) > 0 && t.Value[0] == '"' {
		s, err := strconv.Unquote(string(t.Value))
		if err == nil {
			return s
		}
		var out string
		if json.Unmarshal(t.Value, &out) == nil {
			return out
		}
	}
	return string(t.Value)
}

// jaegerDependency is an element of /api/dependencies.
type jaegerDependency struct {
	Parent    string `json:"parent"`
	Child     string `json:"child"`
	CallCount uint64 `json:"callCount"`
}

// jaeger streams Jaeger JSON, {"data": [...]}: traces one at a time (each
// trace is complete, so it is resolved at once), or dependencies.
func (r *reader) jaeger(ctx context.Context, br *bufio.Reader, deps bool) error {
	what := "Jaeger trace JSON"
	if deps {
		what = "Jaeger dependencies JSON"
	}
	dec := json.NewDecoder(br)
	if err := r.expectDelim(dec, '{', what); err != nil {
		return err
	}
	for dec.More() {
		off := dec.InputOffset()
		key, err := dec.Token()
		if err != nil {
			return r.jsonError(err, off, what)
		}
		if key != "data" {
			if err := skip(dec); err != nil {
				return r.jsonError(err, dec.InputOffset(), what)
			}
			continue
		}
		if err := r.expectDelim(dec, '[', what+": data"); err != nil {
			return err
		}
		for dec.More() {
			if err := ctx.Err(); err != nil {
				return err
			}
			if deps {
				err = r.jaegerDependency(dec)
			} else {
				err = r.jaegerTrace(dec)
			}
			if err != nil {
				return err
			}
		}
		if err := r.expectDelim(dec, ']', what+": data"); err != nil {
			return err
		}
	}
	return r.expectDelim(dec, '}', what)
}

func (r *reader) jaegerDependency(dec *json.Decoder) error {
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return r.jsonError(err, dec.InputOffset(), "Jaeger dependencies JSON")
	}
	start := dec.InputOffset() - int64(len(raw))
	var d jaegerDependency
	if err := json.Unmarshal(raw, &d); err != nil {
		return r.jsonErrorWithin(err, start, start, "Jaeger dependencies JSON")
	}
	at := r.at(start)
	if d.Parent == "" || d.Child == "" {
		return r.errorAtLoc(at, "a dependency without parent or child")
	}
	r.deps++
	r.c.dependency(componentName(d.Parent), componentName(d.Child), d.CallCount, at)
	return nil
}

// jaegerTrace reads one trace object: its spans one by one (for their
// positions), then the processes that name their services.
func (r *reader) jaegerTrace(dec *json.Decoder) error {
	const what = "Jaeger trace JSON"
	if err := r.expectDelim(dec, '{', what); err != nil {
		return err
	}
	var spans []jaegerSpan
	var procs map[string]jaegerProc
	for dec.More() {
		off := dec.InputOffset()
		key, err := dec.Token()
		if err != nil {
			return r.jsonError(err, off, what)
		}
		switch key {
		case "spans":
			if err := r.expectDelim(dec, '[', what+": spans"); err != nil {
				return err
			}
			for dec.More() {
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return r.jsonError(err, dec.InputOffset(), what)
				}
				s := jaegerSpan{offset: dec.InputOffset() - int64(len(raw))}
				if err := json.Unmarshal(raw, &s); err != nil {
					return r.jsonErrorWithin(err, s.offset, s.offset, what)
				}
				spans = append(spans, s)
			}
			if err := r.expectDelim(dec, ']', what+": spans"); err != nil {
				return err
			}
		case "processes":
			if err := dec.Decode(&procs); err != nil {
				return r.jsonError(err, dec.InputOffset(), what)
			}
		default:
			if err := skip(dec); err != nil {
				return r.jsonError(err, dec.InputOffset(), what)
			}
		}
	}
	if err := r.expectDelim(dec, '}', what); err != nil {
		return err
	}
	trace := make([]facts, 0, len(spans))
	for i := range spans {
		s := &spans[i]
		at := r.at(s.offset)
		f := facts{at: at, health: isHealth(s.OperationName)}
		if !parseID(s.TraceID, f.trace[:]) || !parseID(s.SpanID, f.id[:]) {
			return r.errorAtLoc(at, "span %q has no valid traceID or spanID", s.OperationName)
		}
		parent := s.ParentSpanID
		for _, ref := range s.References {
			if ref.RefType == "CHILD_OF" || parent == "" {
				parent = ref.SpanID
			}
		}
		if parent != "" && !parseID(parent, f.parent[:]) {
			return r.errorAtLoc(at, "span %q has an invalid parent span ID %q", s.OperationName, parent)
		}
		if s.Process != nil {
			f.service = s.Process.ServiceName
		} else if p, ok := procs[s.ProcessID]; ok {
			f.service = p.ServiceName
		}
		for j := range s.Tags {
			t := &s.Tags[j]
			v := t.value()
			if t.Key == "error" {
				f.failed = f.failed || v == "true"
				continue
			}
			f.attr(t.Key, v)
		}
		trace = append(trace, f)
	}
	r.c.addTrace(trace)
	return nil
}
