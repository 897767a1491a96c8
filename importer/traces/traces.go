// Package traces imports service dependencies from distributed traces:
// OpenTelemetry OTLP JSON (the collector file exporter's JSON lines, or one
// JSON document), Jaeger (the /api/dependencies answer and the trace JSON of
// its query API) and Zipkin v2 span arrays.
//
// A span whose parent is in another service is a call from the parent's
// service to the child's; a client span no traced server answered calls the
// peer its attributes name (peer.service, server.address, net.peer.name);
// db.system spans are calls to a database or cache, messaging.system spans
// make producers and consumers depend on the broker. Beyond the shape of the
// graph, traces show which calls the code tolerates: when calls to a service
// fail and the caller's own span still succeeds, the edge gets a fallback
// that cites the evidence.
//
// Files are streamed: memory holds per-edge and per-service aggregates and a
// bounded window of spans whose traces may not be complete yet (see
// Options.MaxOpenSpans), never a whole file.
package traces

import (
	"context"
	"fmt"

	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

// Options tune the import. The zero value is ready to use.
type Options struct {
	// MaxOpenSpans bounds the spans held while their traces may still
	// grow (spans of a trace may come out of order, across lines and
	// files). Past it, the least recently extended trace is resolved as
	// it is; spans of it that come later find no parent and are counted
	// in a note. 0 means DefaultMaxOpenSpans.
	MaxOpenSpans int
	// MinFailedCalls is how many failed calls an edge needs before the
	// traces may call it optional. 0 means DefaultMinFailedCalls.
	MinFailedCalls int
	// MinTolerated is the share of those failed calls that must leave the
	// caller's span OK for the edge to be optional. 0 means
	// DefaultMinTolerated.
	MinTolerated float64
}

// Defaults of Options.
const (
	DefaultMaxOpenSpans   = 100_000
	DefaultMinFailedCalls = 5
	DefaultMinTolerated   = 0.9
)

// NoteCalls is the kind of the notes that give each traced edge's call
// count and error rate.
const NoteCalls importer.NoteKind = "trace-calls"

// Import reads the trace files at paths (a directory stands for the
// *.json, *.jsonl and *.ndjson files under it) and adds to b the services,
// stores and brokers they show and the calls between them. The format of
// each file is told from its content. Malformed input is a *model.Error
// positioned at the file's line and column.
func Import(ctx context.Context, b *importer.Builder, paths []string, opts Options) error {
	files, err := expand(paths)
	if err != nil {
		return err
	}
	c := newCollector(withDefaults(opts))
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		b.Source(f)
		if err := c.readFile(ctx, f); err != nil {
			return err
		}
	}
	c.flush()
	return c.emit(b)
}

func withDefaults(opts Options) Options {
	if opts.MaxOpenSpans <= 0 {
		opts.MaxOpenSpans = DefaultMaxOpenSpans
	}
	if opts.MinFailedCalls <= 0 {
		opts.MinFailedCalls = DefaultMinFailedCalls
	}
	if opts.MinTolerated <= 0 {
		opts.MinTolerated = DefaultMinTolerated
	}
	return opts
}

// expand replaces directories by the trace files under them, sorted.
func expand(paths []string) ([]string, error) {
	files, err := importer.Files(paths, ".json", ".jsonl", ".ndjson")
	if err != nil {
		return nil, fmt.Errorf("reading traces: %w", err)
	}
	return files, nil
}

// errorAt is a positioned error for the file's line and column.
func errorAt(file string, line, col int, hint, format string, args ...any) *model.Error {
	return &model.Error{Pos: model.Pos{File: file, Line: line, Col: col}, Msg: fmt.Sprintf(format, args...), Hint: hint}
}
