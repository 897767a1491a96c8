package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// superuser is the cluster's superuser, which the tests connect as.
const superuser = "spof"

// A cluster is a running throwaway PostgreSQL: a data directory in a
// temporary directory of its own, and the postgres process serving it on
// loopback.
type cluster struct {
	dir     string // removed by stop
	addr    string // 127.0.0.1:port
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed once postgres has exited
	waitErr error         // set before done is closed
}

// startCluster creates a cluster and starts it on a free loopback port;
// ctx bounds the start-up. On error nothing is left behind.
func startCluster(ctx context.Context) (c *cluster, err error) {
	progs, err := Find()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "spof-pgtest-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	dataDir := filepath.Join(dir, "data")
	if err := progs.MakeDataDir(dataDir); err != nil {
		return nil, err
	}
	if out, err := runBounded(ctx, progs.InitdbCmd(dataDir, superuser)); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	// The port is free when chosen, and taken by someone else before
	// postgres binds it on rare occasions: then another port is tried.
	for attempt := 1; ; attempt++ {
		c, err = startPostgres(ctx, progs, dir, dataDir)
		if err == nil || attempt == 3 || !strings.Contains(err.Error(), "could not bind") {
			return c, err
		}
	}
}

// runBounded runs cmd, killing it if ctx ends first, and returns its
// combined output.
func runBounded(ctx context.Context, cmd *exec.Cmd) ([]byte, error) {
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return []byte(out.String()), err
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return []byte(out.String()), context.Cause(ctx)
	}
}

func startPostgres(ctx context.Context, progs Programs, dir, dataDir string) (*cluster, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("finding a free port: %w", err)
	}
	addr := ln.Addr().String()
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	c := &cluster{dir: dir, addr: addr, logPath: filepath.Join(dir, "postgres.log"), done: make(chan struct{})}
	log, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	defer log.Close() // the child has its own descriptor
	c.cmd = progs.PostgresCmd(dataDir, port)
	c.cmd.Stdout, c.cmd.Stderr = log, log
	setProcessGroup(c.cmd)
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting postgres: %w", err)
	}
	go func() {
		c.waitErr = c.cmd.Wait()
		close(c.done)
	}()
	if err := c.waitReady(ctx); err != nil {
		c.kill()
		return nil, err
	}
	return c, nil
}

// waitReady polls until the cluster accepts connections, postgres exits,
// or ctx ends.
func (c *cluster) waitReady(ctx context.Context) error {
	for {
		attemptCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(attemptCtx, URL(c.addr, superuser, "postgres"))
		cancel()
		if err == nil {
			return conn.Close(ctx)
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-c.done:
			t.Stop()
			return fmt.Errorf("postgres exited early (%v)%s", c.waitErr, c.logTail())
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for postgres on %s: %w (last error: %v)%s", c.addr, context.Cause(ctx), err, c.logTail())
		case <-t.C:
		}
	}
}

// stop shuts postgres down (fast shutdown; killed after grace) and
// removes the cluster's directory.
func (c *cluster) stop(grace time.Duration) error {
	var errs []error
	_ = c.cmd.Process.Signal(StopSignal)
	t := time.NewTimer(grace)
	select {
	case <-c.done:
	case <-t.C:
		errs = append(errs, fmt.Errorf("postgres did not stop within %v: killed%s", grace, c.logTail()))
	}
	t.Stop()
	c.kill()
	if err := os.RemoveAll(c.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// kill kills postgres's process group (postgres and its workers), and
// waits for postgres.
func (c *cluster) kill() {
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	<-c.done
}

// logTail is the end of postgres's log, to explain a failure.
func (c *cluster) logTail() string {
	b, err := os.ReadFile(c.logPath)
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return fmt.Sprintf("; end of %s:\n%s", c.logPath, strings.TrimRight(string(b), "\n"))
}
