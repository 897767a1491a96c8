package traces

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"strings"

	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

// format is a kind of trace file.
type format int

const (
	formatUnknown format = iota
	formatEmpty
	formatOTLP
	formatJaegerTraces
	formatJaegerDeps
	formatZipkin
)

// headSize is how much of a file detect looks at.
const headSize = 64 << 10

const formatHint = "give OTLP JSON (the collector's file exporter), Jaeger's /api/traces or /api/dependencies JSON, or a Zipkin v2 span array"

// readFile reads one trace file of any format into the collector.
func (c *collector) readFile(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading traces: %w", err)
	}
	defer f.Close()
	return c.read(ctx, path, f)
}

// read reads one trace file of any format, from in, into the collector.
// Errors are positioned by reading path again.
func (c *collector) read(ctx context.Context, path string, in io.Reader) error {
	file := int32(len(c.files))
	c.files = append(c.files, path)
	br := bufio.NewReaderSize(in, 1<<20)
	head, err := br.Peek(headSize)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading traces: %w", err)
	}
	err = nil
	var base int64
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		base = 3
		if _, err := br.Discard(3); err != nil {
			return fmt.Errorf("reading traces: %w", err)
		}
		head = head[3:]
	}
	before := c.spans
	r := &reader{c: c, path: path, file: file, base: base}
	switch detect(head) {
	case formatEmpty:
	case formatOTLP:
		err = r.otlp(ctx, br)
	case formatJaegerTraces:
		err = r.jaeger(ctx, br, false)
	case formatJaegerDeps:
		err = r.jaeger(ctx, br, true)
	case formatZipkin:
		err = r.zipkin(ctx, br)
	default:
		line, col := 1, 1
		if trimmed := bytes.TrimLeft(head, " \t\r\n"); len(trimmed) > 0 {
			lc, lerr := lineColumns(path, []int64{base + int64(len(head)-len(trimmed))})
			if lerr == nil {
				p := lc[base+int64(len(head)-len(trimmed))]
				line, col = p[0], p[1]
			}
		}
		return errorAt(path, line, col, formatHint, "not a trace file this importer reads")
	}
	if err != nil {
		return err
	}
	if c.spans == before && r.deps == 0 {
		c.empty = append(c.empty, path)
	}
	return nil
}

// detect tells a file's format from its first bytes: an array is Zipkin;
// an object with resourceSpans OTLP; one with data Jaeger, traces or
// dependencies after the keys of its first element.
func detect(head []byte) format {
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	if len(trimmed) == 0 {
		return formatEmpty
	}
	switch trimmed[0] {
	case '[':
		return formatZipkin
	case '{':
	default:
		return formatUnknown
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if _, err := dec.Token(); err != nil {
		return formatUnknown
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return formatUnknown
		}
		switch key {
		case "resourceSpans":
			return formatOTLP
		case "data":
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				return formatUnknown
			}
			if !dec.More() {
				return formatEmpty
			}
			if t, err := dec.Token(); err != nil || t != json.Delim('{') {
				return formatUnknown
			}
			for dec.More() {
				key, err := dec.Token()
				if err != nil {
					return formatUnknown
				}
				switch key {
				case "parent", "child", "callCount":
					return formatJaegerDeps
				case "traceID", "spans", "processes":
					return formatJaegerTraces
				}
				if skip(dec) != nil {
					return formatUnknown
				}
			}
			return formatUnknown
		}
		if skip(dec) != nil {
			return formatUnknown
		}
	}
	return formatUnknown
}

func skip(dec *json.Decoder) error {
	var raw json.RawMessage
	return dec.Decode(&raw)
}

// reader reads one file.
type reader struct {
	c    *collector
	path string
	file int32
	base int64 // bytes skipped before the decoder's input (a BOM)
	deps int   // Jaeger dependencies read
}

// at is the loc of a byte offset of the decoder's input.
func (r *reader) at(offset int64) loc { return loc{file: r.file, offset: true, n: r.base + offset} }

// jsonError positions an error of encoding/json at its byte offset, or at
// offset when it carries none.
func (r *reader) jsonError(err error, offset int64, what string) error {
	return r.jsonErrorWithin(err, 0, offset, what)
}

// jsonErrorWithin is jsonError for the error of decoding a value that
// starts at start: the offsets the error carries are from there.
func (r *reader) jsonErrorWithin(err error, start, offset int64, what string) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	msg := err.Error()
	switch {
	case errors.As(err, &syn):
		offset = start + syn.Offset - 1 // the byte it stopped at
	case errors.As(err, &typ):
		offset = start + typ.Offset - 1 // the value's last byte
		msg = fmt.Sprintf("%s is %s, want %s", typ.Field, typ.Value, typ.Type)
		if typ.Field == "" {
			msg = fmt.Sprintf("found %s, want %s", typ.Value, typ.Type)
		}
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		msg, offset = "unexpected end of file", math.MaxInt64-r.base
	}
	offset += r.base
	lc, lerr := lineColumns(r.path, []int64{offset})
	if lerr != nil {
		return lerr
	}
	p := lc[offset]
	return errorAt(r.path, p[0], p[1], formatHint, "invalid %s: %s", what, msg)
}

// expectDelim reads a delimiter token.
func (r *reader) expectDelim(dec *json.Decoder, want json.Delim, what string) error {
	off := dec.InputOffset()
	t, err := dec.Token()
	if err != nil {
		return r.jsonError(err, off, what)
	}
	if t != want {
		return r.jsonError(fmt.Errorf("found %v, want %q", t, string(want)), off, what)
	}
	return nil
}

// attr takes what one attribute (or tag) says of a span.
func (f *facts) attr(key, value string) {
	switch key {
	case "peer.service":
		f.peerService = value
	case "server.address":
		f.host = value
	case "net.peer.name":
		if f.host == "" {
			f.host = value
		}
	case "url.full", "http.url":
		if f.host == "" {
			if u, err := url.Parse(value); err == nil {
				f.host = u.Hostname()
			}
		}
	case "db.system", "db.system.name":
		f.dbSystem = value
	case "db.name", "db.namespace":
		f.dbName = value
	case "messaging.system":
		f.msgSystem = value
	case "messaging.destination.name", "messaging.destination":
		f.destination = value
	case "http.route", "url.path", "http.target", "rpc.service":
		f.health = f.health || isHealth(value)
	case "otel.status_code":
		f.failed = f.failed || value == "ERROR"
	case "span.kind":
		f.kind = kindFromName(value)
	}
}

// isHealth reports whether a span name or route is a health check or a
// metrics scrape, which starts traces without being a user's request.
func isHealth(s string) bool {
	for _, p := range healthPaths {
		if i := indexFold(s, p); i >= 0 {
			rest := s[i+len(p):]
			if p == "health" || rest == "" || rest[0] == '?' || rest[0] == ' ' || rest[0] == '/' {
				return true
			}
		}
	}
	return false
}

var healthPaths = []string{"health", "/ready", "/readyz", "/live", "/livez", "/ping", "/metrics", "/status"}

// indexFold is strings.Index for an ASCII lower-case sub, ignoring case.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i] == sub[0] || s[i]|0x20 == sub[0] {
			if strings.EqualFold(s[i:i+len(sub)], sub) {
				return i
			}
		}
	}
	return -1
}

// parseID reads a hex trace or span ID into id, right-aligned (a 64-bit
// trace ID is the low half of a 128-bit one).
func parseID(s string, id []byte) bool {
	if len(s) == 0 || len(s) > 2*len(id) {
		return false
	}
	if len(s)%2 == 1 {
		s = "0" + s
	}
	n := len(s) / 2
	clear(id)
	_, err := hex.Decode(id[len(id)-n:], []byte(s))
	return err == nil
}

// errorAtLoc is an error about one span, found at l.
func (r *reader) errorAtLoc(l loc, format string, args ...any) error {
	pos := model.Pos{File: r.path, Line: int(l.n), Col: 1}
	if l.offset {
		lc, err := lineColumns(r.path, []int64{l.n})
		if err != nil {
			return err
		}
		pos.Line, pos.Col = lc[l.n][0], lc[l.n][1]
	}
	return &model.Error{Pos: pos, Msg: fmt.Sprintf(format, args...),
		Hint: "every span needs a trace ID and a span ID in hex"}
}

// serviceName is what names a span's service when the file names none.
const serviceName = "unknown_service"

func componentName(service string) string {
	if service == "" {
		service = serviceName
	}
	return importer.Name(service)
}
