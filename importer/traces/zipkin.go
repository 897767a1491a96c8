package traces

import (
	"bufio"
	"context"
	"encoding/json"
)

// zipkinSpan is a span of Zipkin's v2 JSON.
type zipkinSpan struct {
	TraceID        string            `json:"traceId"`
	ID             string            `json:"id"`
	ParentID       string            `json:"parentId"`
	Kind           string            `json:"kind"`
	Name           string            `json:"name"`
	Shared         bool              `json:"shared"`
	LocalEndpoint  *zipkinEndpoint   `json:"localEndpoint"`
	RemoteEndpoint *zipkinEndpoint   `json:"remoteEndpoint"`
	Tags           map[string]string `json:"tags"`
}

type zipkinEndpoint struct {
	ServiceName string `json:"serviceName"`
}

// zipkin streams a Zipkin v2 span array, or an array of traces (arrays of
// spans) as Zipkin's /api/v2/traces answers.
func (r *reader) zipkin(ctx context.Context, br *bufio.Reader) error {
	const what = "Zipkin JSON"
	dec := json.NewDecoder(br)
	if err := r.expectDelim(dec, '[', what); err != nil {
		return err
	}
	var spans []zipkinSpan
	for dec.More() {
		if err := ctx.Err(); err != nil {
			return err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return r.jsonError(err, dec.InputOffset(), what)
		}
		start := dec.InputOffset() - int64(len(raw))
		spans = nil // json.Unmarshal would decode into the old elements
		if raw[0] == '[' {
			if err := json.Unmarshal(raw, &spans); err != nil {
				return r.jsonErrorWithin(err, start, start, what)
			}
		} else {
			spans = append(spans, zipkinSpan{})
			if err := json.Unmarshal(raw, &spans[0]); err != nil {
				return r.jsonErrorWithin(err, start, start, what)
			}
		}
		for i := range spans {
			if err := r.zipkinSpan(&spans[i], r.at(start)); err != nil {
				return err
			}
		}
	}
	return r.expectDelim(dec, ']', what)
}

func (r *reader) zipkinSpan(s *zipkinSpan, at loc) error {
	f := facts{at: at, kind: kindFromName(s.Kind), shared: s.Shared, health: isHealth(s.Name)}
	if !parseID(s.TraceID, f.trace[:]) || !parseID(s.ID, f.id[:]) {
		return r.errorAtLoc(at, "span %q has no valid traceId or id", s.Name)
	}
	if s.ParentID != "" && !parseID(s.ParentID, f.parent[:]) {
		return r.errorAtLoc(at, "span %q has an invalid parentId %q", s.Name, s.ParentID)
	}
	if s.LocalEndpoint != nil {
		f.service = s.LocalEndpoint.ServiceName
	}
	if s.RemoteEndpoint != nil && f.kind != kindServer && f.kind != kindConsumer {
		f.peerService = s.RemoteEndpoint.ServiceName
	}
	for k, v := range s.Tags {
		if k == "error" {
			f.failed = true // Zipkin's error tag holds the message
			continue
		}
		f.attr(k, v)
	}
	r.c.add(&f)
	return nil
}
