package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
)

// oddModel has names that need quoting or escaping in every format.
func oddModel() *model.Model {
	m := &model.Model{
		System: `odd "system" \ name`,
		Components: []*model.Component{
			{Name: "a.b", Kind: model.KindService, Replicas: 2, DependsOn: []*model.Edge{
				{From: "a.b", To: "a-b", Fallback: `says "hi" | <b>`},
				{From: "a.b", To: "end", AsyncVia: "a_b"},
				{From: "a.b", To: "a_b", Flows: []string{"x"}}, // merges with the async queue edge
			}},
			{Name: "a-b", Kind: model.KindCache},
			{Name: "a_b", Kind: model.KindQueue},
			{Name: "end", Kind: model.KindExternal},
			{Name: "graph", Kind: model.KindOther, DependsOn: []*model.Edge{
				{From: "graph", To: "end", When: model.WhenRecovery},
			}},
		},
		Flows: []*model.Flow{
			{Name: "x", Criticality: model.Low, Steps: []string{"a.b"}},
			{Name: "end", Criticality: model.Medium, Steps: []string{"graph", "a.b"}},
		},
	}
	return m
}

func renderGraph(t *testing.T, m *model.Model, r *analysis.Result, format string) string {
	t.Helper()
	var b bytes.Buffer
	if err := Graph(&b, m, r, format); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestGraphJSON(t *testing.T) {
	var g struct {
		System string
		Nodes  []map[string]any
		Edges  []struct {
			From, To, Type string
			Flows          []string
		}
		Flows []map[string]any
	}
	out := renderGraph(t, shopModel(), shopResult(), FormatJSON)
	if err := json.Unmarshal([]byte(out), &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Nodes) != 14 || len(g.Flows) != 3 {
		t.Fatalf("%d nodes, %d flows; want 14, 3", len(g.Nodes), len(g.Flows))
	}
	nodes := map[string]map[string]any{}
	for _, n := range g.Nodes {
		wantKeys(t, "node", n, "id", "kind", "replicas", "spof", "degradation")
		nodes[n["id"].(string)] = n
	}
	for id, want := range map[string][2]bool{ // spof, degradation
		"session-redis": {true, false},
		"postgres":      {true, false}, // instance:postgres/0
		"dns":           {true, false},
		"payments":      {false, true},
		"search":        {false, true},
		"app":           {false, false},
	} {
		if n := nodes[id]; n["spof"] != want[0] || n["degradation"] != want[1] {
			t.Errorf("%s: spof %v degradation %v, want %v", id, n["spof"], n["degradation"], want)
		}
	}
	if nodes["app"]["replicas"] != 3.0 || nodes["app"]["kind"] != "service" {
		t.Errorf("app = %v", nodes["app"])
	}
	for _, f := range g.Flows {
		wantKeys(t, "flow", f, "name", "criticality", "steps")
	}

	type key struct{ from, to, typ string }
	edges := map[key][]string{}
	for _, e := range g.Edges {
		if e.Flows == nil {
			t.Errorf("edge %s → %s: flows is null", e.From, e.To)
		}
		edges[key{e.From, e.To, e.Type}] = e.Flows
	}
	for k, flows := range map[key][]string{
		{"lb", "app", EdgeHard}:                  {},
		{"app", "session-redis", EdgeHard}:       {"checkout", "login"},
		{"app", "payments", EdgeFallback}:        {"checkout"},
		{"app", "search", EdgeFallbackTo}:        {"browse"},
		{"app", "postgres", EdgeFallback}:        {"browse"},
		{"app", "postgres", EdgeHard}:            {},
		{"app", "jobs", EdgeHard}:                {},
		{"app", "email", EdgeAsync}:              {},
		{"app", "config", EdgeStartup}:           {},
		{"app", "ci", EdgeDeploy}:                {},
		{"worker", "session-redis", EdgeStartup}: {},
	} {
		got, ok := edges[k]
		if !ok {
			t.Errorf("no edge %v", k)
			continue
		}
		if !slices.Equal(got, flows) {
			t.Errorf("edge %v: flows %v, want %v", k, got, flows)
		}
	}
	if len(g.Edges) != 14 {
		t.Errorf("%d edges, want 14", len(g.Edges))
	}
}

// TestGraphMergesEdges: a queue that is both async_via and a plain
// dependency is one edge, unscoped.
func TestGraphMergesEdges(t *testing.T) {
	g := buildGraph(oddModel(), nil)
	var n int
	for _, e := range g.Edges {
		if e.From == "a.b" && e.To == "a_b" {
			n++
			if e.Type != EdgeHard || len(e.Flows) != 0 {
				t.Errorf("merged edge = %+v, want hard and unscoped", e)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d edges a.b → a_b, want 1", n)
	}
}

func TestDOTStructure(t *testing.T) {
	for name, m := range map[string]*model.Model{"shop": shopModel(), "odd": oddModel()} {
		t.Run(name, func(t *testing.T) {
			out := renderGraph(t, m, shopResult(), FormatDOT)
			nodes, edges, err := parseDOT(out)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			want := len(m.Components) + len(m.Flows)
			if len(nodes) != want {
				t.Errorf("%d nodes declared, want %d", len(nodes), want)
			}
			for _, e := range edges {
				if !nodes[e[0]] || !nodes[e[1]] {
					t.Errorf("edge %q -> %q names an undeclared node", e[0], e[1])
				}
			}
			if name == "odd" && !nodes["a.b"] {
				t.Errorf("node a.b missing: %v", nodes)
			}
			runGraphviz(t, out)
		})
	}
}

// runGraphviz lays the graph out with dot when it is installed; the
// structural check above stands in for it when it is not.
func runGraphviz(t *testing.T, src string) {
	t.Helper()
	dot, err := exec.LookPath("dot")
	if err != nil {
		t.Log("Graphviz dot not installed: structure checked by parseDOT only")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, dot, "-Tsvg", "-o", "/dev/null")
	cmd.Stdin = strings.NewReader(src)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("dot rejects the graph: %v\n%s", err, out)
	}
}

// parseDOT checks the DOT the renderer writes: one digraph with balanced
// braces, whose statements are attribute defaults, node declarations and
// edges, each ending in a semicolon. It returns the declared nodes and
// the edges.
func parseDOT(src string) (nodes map[string]bool, edges [][2]string, err error) {
	toks, err := dotTokens(src)
	if err != nil {
		return nil, nil, err
	}
	i := 0
	next := func() string {
		if i >= len(toks) {
			return ""
		}
		i++
		return toks[i-1]
	}
	expect := func(want string) error {
		if got := next(); got != want {
			return fmt.Errorf("token %d: got %q, want %q", i, got, want)
		}
		return nil
	}
	isID := func(tok string) bool { return strings.HasPrefix(tok, `"`) }
	attrs := func() error {
		if i < len(toks) && toks[i] == "[" {
			next()
			for i < len(toks) && toks[i] != "]" {
				if name := next(); !regexp.MustCompile(`^[a-z]+$`).MatchString(name) {
					return fmt.Errorf("attribute name %q", name)
				}
				if err := expect("="); err != nil {
					return err
				}
				if v := next(); v == "" || v == "]" || v == "," {
					return fmt.Errorf("attribute value %q", v)
				}
				if i < len(toks) && toks[i] == "," {
					next()
				}
			}
			return expect("]")
		}
		return nil
	}

	if err := expect("digraph"); err != nil {
		return nil, nil, err
	}
	if !isID(next()) {
		return nil, nil, fmt.Errorf("digraph without a quoted name")
	}
	if err := expect("{"); err != nil {
		return nil, nil, err
	}
	nodes = map[string]bool{}
	for i < len(toks) && toks[i] != "}" {
		tok := next()
		switch {
		case tok == "graph" || tok == "node" || tok == "edge":
			if i >= len(toks) || toks[i] != "[" {
				return nil, nil, fmt.Errorf("%s without attributes", tok)
			}
		case isID(tok):
			from := unquoteDOT(tok)
			if i < len(toks) && toks[i] == "->" {
				next()
				to := next()
				if !isID(to) {
					return nil, nil, fmt.Errorf("edge target %q is not quoted", to)
				}
				edges = append(edges, [2]string{from, unquoteDOT(to)})
			} else {
				if nodes[from] {
					return nil, nil, fmt.Errorf("node %q declared twice", from)
				}
				nodes[from] = true
			}
		default:
			return nil, nil, fmt.Errorf("unexpected token %q", tok)
		}
		if err := attrs(); err != nil {
			return nil, nil, err
		}
		if err := expect(";"); err != nil {
			return nil, nil, err
		}
	}
	if err := expect("}"); err != nil {
		return nil, nil, err
	}
	if i != len(toks) {
		return nil, nil, fmt.Errorf("tokens after the closing brace: %v", toks[i:])
	}
	return nodes, edges, nil
}

// dotTokens splits DOT into quoted strings (kept quoted), bare words,
// punctuation and ->, dropping // comments.
func dotTokens(src string) ([]string, error) {
	var toks []string
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\n' || c == '\t':
			i++
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case strings.HasPrefix(src[i:], "->"):
			toks = append(toks, "->")
			i += 2
		case strings.ContainsRune("{}[];=,", rune(c)):
			toks = append(toks, string(c))
			i++
		case c == '"':
			j := i + 1
			for ; j < len(src) && src[j] != '"'; j++ {
				if src[j] == '\\' {
					j++
				}
				if src[j] == '\n' {
					return nil, fmt.Errorf("line break inside a quoted string at byte %d", j)
				}
			}
			if j >= len(src) {
				return nil, fmt.Errorf("unterminated string at byte %d", i)
			}
			toks = append(toks, src[i:j+1])
			i = j + 1
		default:
			j := i
			for j < len(src) && (src[j] == '.' || src[j] == '_' || src[j] >= 'a' && src[j] <= 'z' ||
				src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("unexpected character %q at byte %d", c, i)
			}
			toks = append(toks, src[i:j])
			i = j
		}
	}
	return toks, nil
}

func unquoteDOT(tok string) string {
	s := tok[1 : len(tok)-1]
	return strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(s)
}

var mermaidLine = []*regexp.Regexp{
	regexp.MustCompile(`^flowchart TD$`),
	regexp.MustCompile(`^%% [^\n]*$`),
	regexp.MustCompile(`^  (?P<node>[A-Za-z0-9_]+)(\["[^"]*"\]|\(\["[^"]*"\]\))$`),
	regexp.MustCompile(`^  (?P<from>[A-Za-z0-9_]+) (-->|-\.->)(\|"[^"|]*"\|)? (?P<to>[A-Za-z0-9_]+)$`),
	regexp.MustCompile(`^  classDef [a-z]+ [a-z-]+:[^ ]+$`),
	regexp.MustCompile(`^  class (?P<members>[A-Za-z0-9_]+(,[A-Za-z0-9_]+)*) [a-z]+$`),
	regexp.MustCompile(`^  linkStyle (?P<links>[0-9]+(,[0-9]+)*) [a-z-]+:[^ ]+( [0-9]+)*$`),
}

func TestMermaidLines(t *testing.T) {
	for name, m := range map[string]*model.Model{"shop": shopModel(), "odd": oddModel()} {
		t.Run(name, func(t *testing.T) {
			out := renderGraph(t, m, shopResult(), FormatMermaid)
			if !strings.HasSuffix(out, "\n") {
				t.Errorf("no trailing newline")
			}
			nodes := map[string]bool{}
			var links int
			var refs, linkRefs []string
			for n, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				matched := false
				for _, re := range mermaidLine {
					sub := re.FindStringSubmatch(line)
					if sub == nil {
						continue
					}
					matched = true
					for k, name := range re.SubexpNames() {
						switch name {
						case "node":
							if nodes[sub[k]] {
								t.Errorf("line %d: node %s declared twice", n+1, sub[k])
							}
							nodes[sub[k]] = true
						case "from", "to":
							refs = append(refs, sub[k])
							if name == "to" {
								links++
							}
						case "members":
							refs = append(refs, strings.Split(sub[k], ",")...)
						case "links":
							linkRefs = append(linkRefs, strings.Split(sub[k], ",")...)
						}
					}
					break
				}
				if !matched {
					t.Errorf("line %d is not well-formed Mermaid: %q", n+1, line)
				}
			}
			if len(nodes) != len(m.Components)+len(m.Flows) {
				t.Errorf("%d nodes, want %d", len(nodes), len(m.Components)+len(m.Flows))
			}
			for _, r := range refs {
				if !nodes[r] {
					t.Errorf("%s is used but not declared", r)
				}
			}
			for _, l := range linkRefs {
				if n, _ := strconv.Atoi(l); n >= links {
					t.Errorf("linkStyle %s: there are only %d links", l, links)
				}
			}
		})
	}
}

func TestMermaidIDs(t *testing.T) {
	ids := mermaidIDs{used: map[string]bool{}}
	var got []string
	for _, name := range []string{"a.b", "a-b", "a_b", "end", "é", "é"} {
		got = append(got, ids.make("c_", name))
	}
	want := []string{"c_a_b", "c_a_b_2", "c_a_b_3", "c_end", "c__", "c___2"}
	if !slices.Equal(got, want) {
		t.Errorf("ids = %v, want %v", got, want)
	}
}

func TestGraphWithoutResult(t *testing.T) {
	for _, format := range Formats(OutputGraph) {
		out := renderGraph(t, shopModel(), nil, format)
		if strings.Contains(out, colorSPOF) || strings.Contains(out, `"spof": true`) {
			t.Errorf("%s: a graph without findings marks SPOFs", format)
		}
	}
}

// TestGraphEdgeMeaning checks that the drawings say what losing each
// target does: for redis with fallback_to postgres, the edge to redis is
// dashed (losing it degrades), the edge to postgres dotted (a backup:
// alone it changes nothing), a plain edge solid, and a when: edge grey in
// a style of its own.
func TestGraphEdgeMeaning(t *testing.T) {
	m := &model.Model{
		System: "s",
		Components: []*model.Component{
			{Name: "app", Kind: model.KindService, DependsOn: []*model.Edge{
				{From: "app", To: "redis", FallbackTo: "postgres"},
				{From: "app", To: "auth"},
				{From: "app", To: "config", When: model.WhenRecovery},
			}},
			{Name: "redis", Kind: model.KindCache},
			{Name: "postgres", Kind: model.KindDatabase},
			{Name: "auth", Kind: model.KindService},
			{Name: "config", Kind: model.KindConfig},
		},
	}
	dot := renderGraph(t, m, nil, FormatDOT)
	for _, want := range []string{
		`"app" -> "redis" [label="falls back to postgres", style=dashed];`,
		`"app" -> "postgres" [label="backup for redis", style=dotted];`,
		`"app" -> "auth";`,
		`"app" -> "config" [label="recovery only", color="#909090", fontcolor="#909090", arrowhead=empty];`,
		"// An edge A -> B says what losing B does to A:",
	} {
		if !strings.Contains(dot, want) {
			t.Errorf("DOT has no %s:\n%s", want, dot)
		}
	}
	mermaid := renderGraph(t, m, nil, FormatMermaid)
	for _, want := range []string{
		`c_app -.->|"falls back to postgres"| c_redis`, // link 0
		`c_app -.->|"backup for redis"| c_postgres`,    // link 1
		`c_app --> c_auth`,                             // link 2
		`c_app -.->|"recovery only"| c_config`,         // link 3
		"linkStyle 0 stroke-dasharray:6 4",
		"linkStyle 1 stroke-dasharray:2 4",
		"linkStyle 3 stroke:#909090,color:#909090,stroke-dasharray:10 4 2 4",
		"%%   dotted: B is a fallback, used only while the dashed dependency it backs up is down:",
	} {
		if !strings.Contains(mermaid, want) {
			t.Errorf("Mermaid has no %s:\n%s", want, mermaid)
		}
	}
}
