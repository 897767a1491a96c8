package shop_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spofhq/spof/internal/cli"
)

// tourModel is where make demo writes the model the README's tour uses.
const tourModel = "examples/shop/.demo/spof.yaml"

// liveCommands returns the lines of the README's "```sh live" blocks: the
// tour against a running demo, which TestDocExamples leaves out.
func liveCommands(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	in := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "```"):
			in = !in && line == "```sh live"
		case in && line != "":
			out = append(out, line)
		}
	}
	return out
}

// TestReadmeTour runs the README's chaos tour, line by line, against a
// running demo shop, with the spof binary as a reader runs it (./spof, built
// by the README's first command), and checks what the README says each step
// shows, exit codes included. The experiments run 2s instead of the
// README's 10s.
func TestReadmeTour(t *testing.T) {
	t.Parallel()
	lines := liveCommands(t)
	if len(lines) < 6 {
		t.Fatalf("the README's tour has %d live lines: %q", len(lines), lines)
	}
	sys := startShop(t)
	model := filepath.Join(t.TempDir(), "spof.yaml")
	if err := sys.WriteModel("spof.yaml", model); err != nil {
		t.Fatal(err)
	}
	var background *exec.Cmd
	var backgroundSaid *bytes.Buffer
	outputs := map[string]string{}
	codes := map[string][]int{} // exit codes of each "verb subverb"
	for _, line := range lines {
		fields := strings.Fields(line)
		for i, f := range fields {
			if f == tourModel {
				fields[i] = model
			}
			if f == "--duration" && i+1 < len(fields) && fields[i+1] == "10s" {
				fields[i+1] = "2s"
			}
		}
		switch {
		case line == "make demo", strings.HasPrefix(line, "go build "):
			// startShop did both.
		case fields[0] == "./spof" && fields[len(fields)-1] == "&":
			background, _, backgroundSaid = startRun(t, sys, fields[1:len(fields)-1]...)
		case strings.HasPrefix(line, "sleep ") && strings.HasSuffix(line, "kill -9 $!"):
			// Rather than sleeping: kill as soon as the fault is in place.
			waitFault(t, sys, "payments", backgroundSaid)
			background.Process.Signal(syscall.SIGKILL)
			background.Wait()
		case len(fields) > 1 && fields[0] == "./spof" && fields[1] == "serve":
			tourServe(t, fields[2:])
		case len(fields) > 2 && fields[0] == "./spof":
			var stdout, stderr bytes.Buffer
			run := exec.Command(filepath.Join(shared.binDir, "spof"), fields[1:]...)
			run.Stdout, run.Stderr = &stdout, &stderr
			code := 0
			if err := run.Run(); err != nil {
				var exit *exec.ExitError
				if !errors.As(err, &exit) {
					t.Fatalf("%s: %v", line, err)
				}
				code = exit.ExitCode()
			}
			if code != cli.ExitOK && code != cli.ExitFindings && code != cli.ExitFalsified {
				t.Fatalf("%s: exit %d\n%s%s", line, code, stdout.String(), stderr.String())
			}
			cmd := strings.Join(fields[1:3], " ")
			outputs[cmd] += stdout.String() + stderr.String()
			codes[cmd] = append(codes[cmd], code)
		default:
			t.Fatalf("the tour test does not know how to run %q", line)
		}
	}
	// The README says: the first chaos run exits 3 (config-down is
	// falsified), the second 0; checklist item 4 and others fail (1).
	for cmd, want := range map[string][]int{
		"chaos run":          {cli.ExitFalsified, cli.ExitOK},
		"checklist " + model: {cli.ExitFindings},
		"chaos history":      {cli.ExitOK},
		"chaos recover":      {cli.ExitOK},
	} {
		if !slices.Equal(codes[cmd], want) {
			t.Errorf("%s: exit codes %v, want %v", cmd, codes[cmd], want)
		}
	}
	for cmd, wants := range map[string][]string{
		"chaos run": {
			"PASSED    session-redis-down", "PASSED    payments-down", "FALSIFIED config-down: checkout: predicted up, observed down",
			"checkout: predicted up, observed down", "← not as predicted", "3 experiments: 2 passed, 1 falsified",
			"skipping postgres-down: predicted to take down 3 flows (browse, checkout, submit)",
			"PASSED    payments-latency-3s", "PASSED    postgres-down",
		},
		"checklist " + model: {"verified: shop → session-redis", "verified: shop → payments", "never tested: shop → email"},
		"chaos history":      {"falsified       config-down"},
		"chaos recover":      {"restored payments-down"},
	} {
		for _, w := range wants {
			if !strings.Contains(outputs[cmd], w) {
				t.Errorf("%s: no %q in\n%s", cmd, w, outputs[cmd])
			}
		}
	}
}

// tourServe runs the tour's spof serve on a free port and a store of its
// own, reads the dashboard and the API like a visitor, and stops it with
// SIGTERM: it must exit 0.
func tourServe(t *testing.T, args []string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	args = append(args, "--listen", addr, "--db", "sqlite:"+filepath.Join(t.TempDir(), "spof.db"))
	var out bytes.Buffer
	cmd := exec.Command(filepath.Join(shared.binDir, "spof"), append([]string{"serve"}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := "http://" + addr
	get := func(path string) string {
		deadline := time.Now().Add(20 * time.Second)
		for {
			resp, err := http.Get(base + path)
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return string(body)
				}
				err = fmt.Errorf("%s", resp.Status)
			}
			if time.Now().After(deadline) {
				t.Fatalf("spof serve %s: %v\n%s", path, err, out.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	get("/readyz")
	if body := get("/api/v1/systems"); !strings.Contains(body, `"name": "shop"`) {
		t.Errorf("spof serve's systems: %s", body)
	}
	if body := get("/systems/shop/experiments"); !strings.Contains(body, "session-redis-down") {
		t.Errorf("spof serve's experiments page has no plan:\n%s", body)
	}
	if body := get("/api/v1/systems/shop/graph"); !strings.Contains(body, `"id": "session-redis"`) {
		t.Errorf("spof serve's graph: %s", body)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("spof serve after SIGTERM: %v\n%s", err, out.String())
	}
}
