package demo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"

	"github.com/spofhq/spof/internal/pgtest"
)

func findRedis() (string, error) {
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("redis-server: %w (run scripts/test-deps.sh as root, or apt-get install redis-server)", ErrMissing)
}

// findPostgres finds PostgreSQL's programs and the user to run them as
// (pgtest.Find: on PATH, or in Debian's /usr/lib/postgresql/VERSION/bin).
func findPostgres() (pgtest.Programs, error) {
	p, err := pgtest.Find()
	if errors.Is(err, pgtest.ErrNotInstalled) {
		return p, fmt.Errorf("postgres and initdb: %w (run scripts/test-deps.sh as root, or apt-get install postgresql)", ErrMissing)
	}
	return p, err
}

// startRedis starts a redis-server without persistence on a free loopback
// port, with redisDatabases databases, and waits until it answers PING.
func (b *Backends) startRedis(ctx context.Context, bin string) (string, error) {
	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	_, port, _ := net.SplitHostPort(addr)
	dataDir := filepath.Join(b.Dir, "redis")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", err
	}
	p, err := startProcess(b.Dir, "redis", exec.Command(bin,
		"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--databases", strconv.Itoa(redisDatabases), "--dir", dataDir, "--daemonize", "no"), syscall.SIGTERM)
	if err != nil {
		return "", err
	}
	b.procs = append(b.procs, p)
	return addr, poll(ctx, p, "redis-server", func(ctx context.Context) error { return ping(ctx, addr) })
}

// ping sends Redis a PING and expects +PONG.
func ping(ctx context.Context, addr string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("redis answered PING with %q", line)
	}
	return nil
}

// startPostgres creates a throwaway cluster (trust authentication, user
// shop, no fsync), starts it on a free loopback port and returns that
// address once it accepts connections. As root it runs as progs.Owner:
// PostgreSQL refuses root.
func (b *Backends) startPostgres(ctx context.Context, progs pgtest.Programs) (string, error) {
	dataDir := filepath.Join(b.Dir, "pg")
	if err := progs.MakeDataDir(dataDir); err != nil {
		return "", err
	}
	initdb, err := startProcess(b.Dir, "initdb", progs.InitdbCmd(dataDir, "shop"), syscall.SIGTERM)
	if err != nil {
		return "", err
	}
	select {
	case <-initdb.done:
		if initdb.waitErr != nil {
			return "", fmt.Errorf("initdb: %w%s", initdb.waitErr, initdb.logTail())
		}
	case <-ctx.Done():
		initdb.stop(0)
		return "", fmt.Errorf("initdb: %w", context.Cause(ctx))
	}

	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	_, portText, _ := net.SplitHostPort(addr)
	port, err := strconv.Atoi(portText)
	if err != nil {
		return "", err
	}
	p, err := startProcess(b.Dir, "postgres", progs.PostgresCmd(dataDir, port), pgtest.StopSignal)
	if err != nil {
		return "", err
	}
	b.procs = append(b.procs, p)
	return addr, poll(ctx, p, "postgres", func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, pgtest.URL(addr, "shop", "postgres"))
		if err != nil {
			return err
		}
		return conn.Close(context.WithoutCancel(ctx))
	})
}

// createDatabase creates the database name (owned by shop) in the cluster
// at addr, and returns its URL.
func createDatabase(ctx context.Context, addr, name string) (string, error) {
	return pgtest.CreateDatabase(ctx, addr, "shop", name)
}
