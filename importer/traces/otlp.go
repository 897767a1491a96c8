package traces

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

const otlpHint = "each line must be one OTLP ExportTraceServiceRequest in JSON, as the collector's file exporter writes them"

// otlp reads OTLP JSON: JSON lines, one request a line (the collector's
// file exporter), when the first line is a whole JSON value; else JSON
// documents, streamed one resourceSpans element at a time.
func (r *reader) otlp(ctx context.Context, br *bufio.Reader) error {
	first, err := readLine(br, nil)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if !json.Valid(bytes.TrimSpace(first)) {
		return r.otlpDocuments(ctx, io.MultiReader(bytes.NewReader(first), br))
	}
	var u ptrace.JSONUnmarshaler
	line, buf := 1, first
	for {
		if len(bytes.TrimSpace(buf)) > 0 {
			td, uerr := u.UnmarshalTraces(buf)
			if uerr != nil {
				return r.otlpLineError(line, buf, uerr)
			}
			if verr := r.visit(td, loc{file: r.file, n: int64(line)}); verr != nil {
				return verr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if line%256 == 0 {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
		}
		buf, err = readLine(br, buf[:0])
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		line++
	}
}

// readLine appends the next line, however long, to buf.
func readLine(br *bufio.Reader, buf []byte) ([]byte, error) {
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if !errors.Is(err, bufio.ErrBufferFull) {
			return buf, err
		}
	}
}

// otlpLineError positions the error of a JSON line: at the syntax error
// when there is one, else at the line's start with pdata's message.
func (r *reader) otlpLineError(line int, buf []byte, err error) error {
	col := 1
	msg := err.Error()
	var v any
	var syn *json.SyntaxError
	if jerr := json.Unmarshal(buf, &v); errors.As(jerr, &syn) {
		col, msg = int(syn.Offset), syn.Error()
		if col < 1 {
			col = 1
		}
	} else if i := strings.Index(msg, ", error found in #"); i >= 0 {
		msg = msg[:i] // jsoniter appends the bytes around the error
	}
	return errorAt(r.path, line, col, otlpHint, "invalid OTLP JSON: %s", msg)
}

// otlpDocuments streams JSON documents (usually one, pretty-printed),
// handing pdata one resourceSpans element at a time so that memory does
// not grow with the file.
func (r *reader) otlpDocuments(ctx context.Context, in io.Reader) error {
	var u ptrace.JSONUnmarshaler
	dec := json.NewDecoder(in)
	var buf []byte
	for {
		off := dec.InputOffset()
		t, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return r.jsonError(err, off, "OTLP JSON")
		}
		if t != json.Delim('{') {
			return r.jsonError(errors.New("want an object with resourceSpans"), off, "OTLP JSON")
		}
		for dec.More() {
			off := dec.InputOffset()
			key, err := dec.Token()
			if err != nil {
				return r.jsonError(err, off, "OTLP JSON")
			}
			if key != "resourceSpans" {
				if err := skip(dec); err != nil {
					return r.jsonError(err, dec.InputOffset(), "OTLP JSON")
				}
				continue
			}
			if err := r.expectDelim(dec, '[', "OTLP JSON: resourceSpans"); err != nil {
				return err
			}
			for dec.More() {
				if err := ctx.Err(); err != nil {
					return err
				}
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return r.jsonError(err, dec.InputOffset(), "OTLP JSON")
				}
				start := dec.InputOffset() - int64(len(raw))
				buf = append(append(append(buf[:0], `{"resourceSpans":[`...), raw...), "]}"...)
				td, err := u.UnmarshalTraces(buf)
				if err != nil {
					msg := err.Error()
					if i := strings.Index(msg, ", error found in #"); i >= 0 {
						msg = msg[:i]
					}
					return r.jsonError(errors.New(msg), start, "OTLP JSON")
				}
				if err := r.visit(td, r.at(start)); err != nil {
					return err
				}
			}
			if err := r.expectDelim(dec, ']', "OTLP JSON: resourceSpans"); err != nil {
				return err
			}
		}
		if err := r.expectDelim(dec, '}', "OTLP JSON"); err != nil {
			return err
		}
	}
}

// visit adds the spans of one OTLP request, all found at at.
func (r *reader) visit(td ptrace.Traces, at loc) error {
	var f facts
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		service := ""
		if v, ok := rs.Resource().Attributes().Get("service.name"); ok {
			service = v.AsString()
		}
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				sp := spans.At(k)
				if sp.TraceID().IsEmpty() || sp.SpanID().IsEmpty() {
					return r.errorAtLoc(at, "span %q of service %q has no traceId or spanId", sp.Name(), service)
				}
				f = facts{trace: traceID(sp.TraceID()), id: spanID(sp.SpanID()), parent: spanID(sp.ParentSpanID()),
					service: service, kind: otlpKind(sp.Kind()), failed: sp.Status().Code() == ptrace.StatusCodeError,
					health: isHealth(sp.Name()), at: at}
				sp.Attributes().Range(func(k string, v pcommon.Value) bool {
					f.attr(k, v.AsString())
					return true
				})
				r.c.add(&f)
			}
		}
	}
	return nil
}

func otlpKind(k ptrace.SpanKind) spanKind {
	switch k {
	case ptrace.SpanKindServer:
		return kindServer
	case ptrace.SpanKindClient:
		return kindClient
	case ptrace.SpanKindProducer:
		return kindProducer
	case ptrace.SpanKindConsumer:
		return kindConsumer
	case ptrace.SpanKindInternal:
		return kindInternal
	}
	return kindUnspecified
}
