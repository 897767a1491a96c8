package traces

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

// emit adds what the traces showed to b: services, the stores and brokers
// they call, the edges with their evidence, entry points and workers.
func (c *collector) emit(b *importer.Builder) error {
	pos, err := c.positions()
	if err != nil {
		return err
	}
	names := make([]int32, 0, len(c.svc))
	for id := range c.svc {
		names = append(names, id)
	}
	slices.SortFunc(names, func(x, y int32) int { return cmp.Compare(c.names[x], c.names[y]) })

	// A service that only starts traces and only calls traced servers is
	// outside the system (a browser, a load generator): what it calls is
	// where users come in.
	outside := map[int32]bool{}
	for _, id := range names {
		st := c.svc[id]
		if st.servers > 0 || st.consumers > 0 || st.rootClients == 0 {
			continue
		}
		calls, toServers := 0, 0
		for k := range c.edges {
			if k.from == id {
				calls++
				if c.svc[k.to] != nil && c.svc[k.to].servers > 0 {
					toServers++
				}
			}
		}
		outside[id] = calls > 0 && calls == toServers
	}

	for _, id := range names {
		st, name := c.svc[id], c.names[id]
		if outside[id] {
			b.Note(importer.Note{Pos: pos(st.at), Kind: importer.NoteAssumption, Subject: name,
				Msg: "only starts traces and calls traced services (a browser, a load generator, a client outside the system): left out, and what it calls taken as entry points"})
			continue
		}
		// A traced service named like what it runs (HotROD's redis and
		// mysql) is that.
		kind, _ := importer.KindFromImage(name)
		b.Component(name, kind, pos(st.at))
		if st.servers > 0 {
			b.ServesPort(name)
		}
		if st.rootServers > 0 {
			b.Entry(importer.Entry{Component: name, Pos: pos(st.at),
				Description: plural(st.rootServers, "trace starts", "traces start") + " at its server spans"})
		}
		switch {
		case st.servers == 0 && st.consumers > 0:
			does := "consume messages"
			if st.dest >= 0 {
				does = "consume " + c.names[st.dest]
			}
			b.Worker(name, does)
		case st.servers == 0 && st.rootClients > 0:
			b.Worker(name, "work it starts on its own (traces start there)")
		}
	}

	type edge struct {
		edgeKey
		*edgeStat
	}
	var edges []edge
	for k, e := range c.edges {
		edges = append(edges, edge{k, e})
	}
	// Busiest first: when calls form a cycle, the rarest edge is the one
	// left out.
	slices.SortFunc(edges, func(x, y edge) int {
		return cmp.Or(cmp.Compare(y.calls, x.calls), cmp.Compare(c.names[x.from], c.names[y.from]),
			cmp.Compare(c.names[x.to], c.names[y.to]))
	})
	for _, e := range edges {
		from, to := c.names[e.from], c.names[e.to]
		if outside[e.from] {
			b.Entry(importer.Entry{Component: to, Pos: pos(e.at),
				Description: fmt.Sprintf("called by %s (%s in the traces)", from, plural(e.calls, "call", "calls"))})
			continue
		}
		if b.Lookup(to) == nil {
			b.Component(to, c.kinds[e.to], pos(e.at))
		}
		if reaches(b, to, from) {
			b.Note(importer.Note{Pos: pos(e.at), Kind: importer.NoteAssumption, Subject: from,
				Msg: fmt.Sprintf("calls %s (%s in the traces), which depends back on it: left out, since running-time edges may not form a cycle",
					to, plural(e.calls, "call", "calls")),
				Hint: "if it is only needed to start or recover, declare it with when: startup through --merge"})
			continue
		}
		me := b.Edge(&model.Edge{From: from, To: to, Pos: pos(e.at)})
		msg := fmt.Sprintf("calls %s: %s in the traces", to, plural(e.calls, "call", "calls"))
		if e.failed > 0 {
			msg += fmt.Sprintf(", %d failed (%.1f%%)", e.failed, 100*float64(e.failed)/float64(e.calls))
		}
		switch {
		case e.failedCallers == 0:
		case e.failedCallers < uint64(c.opts.MinFailedCalls):
			msg += fmt.Sprintf("; %s with the caller's span seen: too few to tell whether it is optional (%d needed)",
				plural(e.failedCallers, "failed call", "failed calls"), c.opts.MinFailedCalls)
		case float64(e.tolerated) >= c.opts.MinTolerated*float64(e.failedCallers):
			evidence := fmt.Sprintf("optional: %d of %d failed calls left the caller's span OK (traces)", e.tolerated, e.failedCallers)
			if me.Fallback == "" && me.FallbackTo == "" {
				me.Fallback = evidence
			}
			msg += "; " + evidence
		default:
			msg += fmt.Sprintf("; %d of %d failed calls left the caller's span OK: a hard dependency", e.tolerated, e.failedCallers)
		}
		b.Note(importer.Note{Pos: pos(e.at), Kind: NoteCalls, Subject: from, Msg: msg})
	}

	for _, f := range c.empty {
		b.Note(importer.Note{Pos: model.Pos{File: f}, Kind: importer.NoteAssumption,
			Msg: "no spans or dependencies in this file", Hint: "check that the export is not empty or cut short"})
	}
	if c.orphans > 0 {
		msg := fmt.Sprintf("%d of %d spans have a parent that was never seen", c.orphans, c.spans)
		hint := "export the spans of every service; calls into those spans are unknown"
		if c.evicted > 0 {
			msg += fmt.Sprintf(" (%d traces were resolved early: more than %d spans were open at once)", c.evicted, c.opts.MaxOpenSpans)
			hint = "raise the window of open spans, or write each trace's spans close together"
		}
		b.Note(importer.Note{Kind: importer.NoteAssumption, Msg: msg, Hint: hint})
	}
	return nil
}

func plural(n uint64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// reaches reports whether from reaches to over running-time edges.
func reaches(b *importer.Builder, from, to string) bool {
	seen := map[string]bool{}
	stack := []string{from}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n == to {
			return true
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		if comp := b.Lookup(n); comp != nil {
			for _, e := range comp.DependsOn {
				if e.Running() {
					stack = append(stack, e.To)
					if e.FallbackTo != "" {
						stack = append(stack, e.FallbackTo)
					}
					if e.AsyncVia != "" {
						stack = append(stack, e.AsyncVia)
					}
				}
			}
		}
	}
	return false
}

// positions turns the locs of the facts kept (lines, or byte offsets of
// JSON documents) into model positions, reading each file with offsets
// once more.
func (c *collector) positions() (func(loc) model.Pos, error) {
	want := map[int32][]int64{}
	note := func(l loc) {
		if l.offset {
			want[l.file] = append(want[l.file], l.n)
		}
	}
	for _, st := range c.svc {
		note(st.at)
	}
	for _, e := range c.edges {
		note(e.at)
	}
	lineCol := map[int32]map[int64][2]int{}
	for file, offs := range want {
		m, err := lineColumns(c.files[file], offs)
		if err != nil {
			return nil, err
		}
		lineCol[file] = m
	}
	return func(l loc) model.Pos {
		if l.offset {
			lc := lineCol[l.file][l.n]
			return model.Pos{File: c.files[l.file], Line: lc[0], Col: lc[1]}
		}
		return model.Pos{File: c.files[l.file], Line: int(l.n), Col: 1}
	}, nil
}

// lineColumns maps byte offsets of a file to their 1-based line and
// column, in one pass.
func lineColumns(path string, offsets []int64) (map[int64][2]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading traces: %w", err)
	}
	defer f.Close()
	slices.Sort(offsets)
	offsets = slices.Compact(offsets)
	out := make(map[int64][2]int, len(offsets))
	r := bufio.NewReader(f)
	line, lineStart := 1, int64(0)
	var off int64
	for _, want := range offsets {
		for off < want {
			ch, err := r.ReadByte()
			if err == io.EOF {
				break // past the end: the end
			}
			if err != nil {
				return nil, fmt.Errorf("reading traces: %w", err)
			}
			off++
			if ch == '\n' {
				line, lineStart = line+1, off
			}
		}
		out[want] = [2]int{line, int(off-lineStart) + 1}
	}
	return out, nil
}
