package cli_test

import (
	"bufio"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spofhq/spof/internal/cli"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/script/*.txtar")

// exitFile is where the spof wrapper records its exit code for the
// exitcode script command.
const exitFile = "spof-exit"

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"spof": func() {
			code := cli.Main(os.Args[1:], os.Stdout, os.Stderr)
			if dir := os.Getenv("TMPDIR"); dir != "" {
				os.WriteFile(filepath.Join(dir, exitFile), []byte(strconv.Itoa(code)), 0o644)
			}
			os.Exit(code)
		},
	})
}

// repoRoot is the module root, two levels up from this package.
func repoRoot(t testing.TB) string {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// setupWork copies the repository's examples into the script's work
// directory, so scripts use the same relative paths as the README.
func setupWork(root string) func(env *testscript.Env) error {
	return func(env *testscript.Env) error {
		env.Setenv("NO_COLOR", "")
		// Under -race, a program that exits 0 sleeps a second first (so
		// that late race reports are flushed): a second per spof command
		// of every script. Reports of this in-process CLI are not late.
		env.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
		return copyDir(filepath.Join(root, "examples"), filepath.Join(env.WorkDir, "examples"))
	}
}

func TestScripts(t *testing.T) {
	root := repoRoot(t)
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Setup:         setupWork(root),
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// exitcode N asserts the exit code of the last spof run.
			"exitcode": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: exitcode N")
				}
				got, err := os.ReadFile(filepath.Join(ts.Getenv("TMPDIR"), exitFile))
				ts.Check(err)
				if (string(got) == args[0]) == neg {
					ts.Fatalf("spof exited %s, want %s%s", got, map[bool]string{true: "not ", false: ""}[neg], args[0])
				}
			},
			// Commands that drive servers (spof proxy) from scripts:
			// proxy_test.go.
			"freeport": cmdFreePort,
			"envsubst": cmdEnvSubst,
			"waithttp": cmdWaitHTTP,
			"http":     cmdHTTP,
			"sigterm":  cmdSigterm,
			"tcpecho":  cmdTCPEcho,
			"tcpconn":  cmdTCPConn,
			"tlsserve": cmdTLSServe,
		},
	})
}

func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

// docCommands extracts the spof command lines of a document: lines in
// fenced sh/bash/console blocks that start with "spof ", "./spof " or
// "go run ./cmd/spof ", split at && and cut at a pipe or a comment.
func docCommands(text string) [][]string {
	var out [][]string
	inBlock := false
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "```") {
			lang := strings.TrimPrefix(line, "```")
			inBlock = !inBlock && (lang == "sh" || lang == "bash" || lang == "console" || lang == "shell")
			continue
		}
		if !inBlock {
			continue
		}
		out = append(out, commandsOf(line)...)
	}
	return out
}

// commandsOf turns one shell line into spof argument lists.
func commandsOf(line string) [][]string {
	line = strings.TrimPrefix(strings.TrimSpace(line), "$ ")
	if i := strings.Index(line, " #"); i >= 0 {
		line = line[:i]
	}
	var out [][]string
	for _, part := range strings.Split(line, "&&") {
		if i := strings.Index(part, "|"); i >= 0 {
			part = part[:i]
		}
		if i := strings.Index(part, ">"); i >= 0 {
			part = part[:i]
		}
		fields := strings.Fields(part)
		switch {
		case len(fields) >= 3 && fields[0] == "go" && fields[1] == "run" && fields[2] == "./cmd/spof":
			out = append(out, fields[3:])
		case len(fields) >= 1 && (fields[0] == "spof" || fields[0] == "./spof"):
			out = append(out, fields[1:])
		}
	}
	return out
}

// runInDir runs spof in-process with dir as the working directory.
func runInDir(t *testing.T, dir string, args []string) (int, string) {
	t.Helper()
	t.Chdir(dir)
	var out, errb strings.Builder
	code := cli.Main(args, &out, &errb)
	return code, errb.String()
}

// TestDocExamples runs the spof commands of README.md and docs/*.md, each
// document in order in one directory (as a reader following it would), and
// the examples of every command's --help, each command's in order in a
// directory whose spof.yaml is the seed-audit example (init's start from an
// empty one). None may be a usage error (exit 2).
func TestDocExamples(t *testing.T) {
	root := repoRoot(t)
	type group struct {
		name      string
		cmds      [][]string
		seedModel bool
	}
	var groups []group
	docs := []string{filepath.Join(root, "README.md")}
	more, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	docs = append(docs, more...)
	total := 0
	for _, d := range docs {
		data, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		cmds := docCommands(string(data))
		total += len(cmds)
		groups = append(groups, group{name: filepath.Base(d), cmds: cmds})
	}
	if total < 5 {
		t.Fatalf("found only %d spof commands in the README and docs; the parser is broken", total)
	}
	for name, lines := range cli.HelpExamples() {
		var cmds [][]string
		for _, l := range lines {
			cmds = append(cmds, commandsOf(l)...)
		}
		groups = append(groups, group{name: "help-" + name, cmds: cmds, seedModel: name != "init" && name != "spof"})
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := copyDir(filepath.Join(root, "examples"), filepath.Join(dir, "examples")); err != nil {
				t.Fatal(err)
			}
			if g.seedModel {
				data, err := os.ReadFile(filepath.Join(root, "examples", "seed-audit", "spof.yaml"))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "spof.yaml"), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, args := range g.cmds {
				if len(args) > 0 && args[0] == "proxy" {
					// spof proxy serves until a signal: check only that
					// its flags parse (cobra parses them all before it
					// prints the help). proxy*.txtar runs the server.
					args = append(slices.Clone(args), "--help")
				}
				code, stderr := runInDir(t, dir, args)
				if code != cli.ExitOK && code != cli.ExitFindings {
					t.Errorf("spof %s: exit %d:\n%s", strings.Join(args, " "), code, stderr)
				}
			}
		})
	}
}

// TestDocOutputs checks the output the README and docs show: a ```text
// block that follows a ```sh block shows part of what its commands print.
// Each of its lines, but those holding "..." (an elision), must be a line
// of that output (both trimmed).
func TestDocOutputs(t *testing.T) {
	root := repoRoot(t)
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	checked := 0
	for _, d := range append([]string{filepath.Join(root, "README.md")}, docs...) {
		data, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		var cmds [][]string // of the last sh block
		var block []string  // the lines of the block being read
		lang := ""
		for _, line := range strings.Split(string(data), "\n") {
			trimmed := strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(trimmed, "```") && lang == "":
				lang, block = strings.TrimPrefix(trimmed, "```"), nil
			case strings.HasPrefix(trimmed, "```"):
				switch lang {
				case "sh":
					cmds = docCommands("```sh\n" + strings.Join(block, "\n") + "\n```")
				case "text":
					if len(cmds) > 0 {
						checkShown(t, root, filepath.Base(d), cmds, block)
						checked++
					}
					cmds = nil
				default:
					cmds = nil
				}
				lang = ""
			case lang != "":
				block = append(block, line)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no text block after a sh block: the parser is broken")
	}
}

func checkShown(t *testing.T, root, doc string, cmds [][]string, shown []string) {
	t.Helper()
	dir := t.TempDir()
	if err := copyDir(filepath.Join(root, "examples"), filepath.Join(dir, "examples")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	t.Setenv("NO_COLOR", "1") // not --no-color: not every command has it
	printed := map[string]bool{}
	for _, args := range cmds {
		var out, errb strings.Builder
		cli.Main(args, &out, &errb)
		for _, l := range strings.Split(out.String()+errb.String(), "\n") {
			printed[strings.TrimSpace(l)] = true
		}
	}
	for _, l := range shown {
		if l = strings.TrimSpace(l); l != "" && !strings.Contains(l, "...") && !printed[l] {
			t.Errorf("%s shows %q, which %v does not print", doc, l, cmds)
		}
	}
}
