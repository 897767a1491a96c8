package cli_test

// Script commands for the scripts that run spof proxy in the background:
// testdata/script/proxy*.txtar.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spofhq/spof/proxy/proxytest"
)

// cmdFreePort: freeport VAR... sets each VAR to a different TCP port that
// is free on 127.0.0.1 (free when asked: another process may take it
// before the script does, which is unlikely enough for tests).
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: freeport VAR...")
	}
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for _, name := range args {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		lns = append(lns, ln)
		ts.Setenv(name, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
}

// cmdEnvSubst: envsubst FILE... replaces $VAR and ${VAR} in each file by
// the script's environment variables, for config files that must name
// ports chosen by freeport.
func cmdEnvSubst(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: envsubst FILE...")
	}
	for _, f := range args {
		ts.Check(os.WriteFile(ts.MkAbs(f), []byte(os.Expand(ts.ReadFile(f), ts.Getenv)), 0o644))
	}
}

// scriptHTTP is the client of the http and waithttp commands: no
// keep-alive, so that no connection outlives a command and delays a
// server's drain, and a timeout, so that a fault cannot hang a script.
var scriptHTTP = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// cmdWaitHTTP: waithttp URL polls URL until it answers (any status), for
// at most 10 seconds: a server started in the background is ready.
func cmdWaitHTTP(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waithttp URL")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := scriptHTTP.Get(args[0])
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not answer within 10s: %v", args[0], err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cmdHTTP: http METHOD URL [BODY] sends a request and writes the answer's
// body on stdout and its status on stderr. It fails on a status of 400 or
// more, or when there is no answer (the error then goes to stderr). With
// $SPOF_PROXY_TOKEN set in the script, it sends it as a bearer token, as
// spof's proxy client does.
func cmdHTTP(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: http METHOD URL [BODY]")
	}
	var body io.Reader
	if len(args) == 3 {
		body = strings.NewReader(args[2])
	}
	req, err := http.NewRequest(args[0], args[1], body)
	ts.Check(err)
	if tok := ts.Getenv("SPOF_PROXY_TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := scriptHTTP.Do(req)
	if err != nil {
		if !neg {
			ts.Fatalf("%s %s: %v", args[0], args[1], err)
		}
		fmt.Fprintln(ts.Stderr(), err)
		return
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	ts.Check(err)
	ts.Stdout().Write(data)
	fmt.Fprintln(ts.Stderr(), resp.Status)
	if failed := resp.StatusCode >= 400; failed != neg {
		ts.Fatalf("%s %s: %s, want %s", args[0], args[1], resp.Status, map[bool]string{true: "an error", false: "success"}[neg])
	}
}

// cmdTCPEcho: tcpecho VAR starts a TCP echo server on 127.0.0.1 for the
// rest of the script and sets VAR to its address.
func cmdTCPEcho(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: tcpecho VAR")
	}
	srv, err := proxytest.NewServer(proxytest.Echo)
	ts.Check(err)
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.Addr())
}

// cmdTCPConn: tcpconn ADDR connects to ADDR, sends a line and reads it
// back (ADDR must lead to an echo server), and keeps the connection open
// until the end of the script: a connection for a server to drain.
func cmdTCPConn(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: tcpconn ADDR")
	}
	c, err := net.DialTimeout("tcp", args[0], 10*time.Second)
	ts.Check(err)
	ts.Defer(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(c, "ping\n")
	ts.Check(err)
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || got != "ping\n" {
		ts.Fatalf("tcpconn %s: read %q, %v; want the echo of ping", args[0], got, err)
	}
	c.SetDeadline(time.Time{})
}

// cmdSigterm: sigterm sends SIGTERM to the commands started in the
// background since the last wait; the built-in kill sends only KILL or
// INT.
func cmdSigterm(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: sigterm")
	}
	cmds := ts.BackgroundCmds()
	if len(cmds) == 0 {
		ts.Fatalf("sigterm: no command runs in the background")
	}
	for _, c := range cmds {
		ts.Check(c.Process.Signal(syscall.SIGTERM))
	}
}
