package demo

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
)

// postgresBins are the PostgreSQL server programs Start needs.
type postgresBins struct{ initdb, postgres string }

func findRedis() (string, error) {
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("redis-server: %w (run scripts/test-deps.sh as root, or apt-get install redis-server)", ErrMissing)
}

// findPostgres looks on PATH, then in Debian's /usr/lib/postgresql/VERSION/bin
// (newest version first), which is not on PATH.
func findPostgres() (postgresBins, error) {
	initdb, err1 := exec.LookPath("initdb")
	postgres, err2 := exec.LookPath("postgres")
	if err1 == nil && err2 == nil {
		return postgresBins{initdb, postgres}, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, d := range dirs {
		b := postgresBins{filepath.Join(d, "initdb"), filepath.Join(d, "postgres")}
		if isExecutable(b.initdb) && isExecutable(b.postgres) {
			return b, nil
		}
	}
	return postgresBins{}, fmt.Errorf("postgres and initdb: %w (run scripts/test-deps.sh as root, or apt-get install postgresql)", ErrMissing)
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
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
// address once it accepts connections. PostgreSQL refuses to run as root,
// so as root it runs as the postgres user, or nobody.
func (b *Backends) startPostgres(ctx context.Context, bins postgresBins) (string, error) {
	dataDir := filepath.Join(b.Dir, "pg")
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		return "", err
	}
	cred, err := postgresCredential()
	if err != nil {
		return "", err
	}
	if cred != nil {
		// The cluster's owner must reach its directory through ours.
		if err := os.Chmod(b.Dir, 0o711); err != nil {
			return "", err
		}
		if err := os.Chown(dataDir, int(cred.Uid), int(cred.Gid)); err != nil {
			return "", err
		}
	}
	asOwner := func(cmd *exec.Cmd) *exec.Cmd {
		cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		return cmd
	}

	initdb, err := startProcess(b.Dir, "initdb", asOwner(exec.Command(bins.initdb,
		"-D", dataDir, "-U", "shop", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")), syscall.SIGTERM)
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
	_, port, _ := net.SplitHostPort(addr)
	// SIGINT is PostgreSQL's fast shutdown: clients are disconnected.
	p, err := startProcess(b.Dir, "postgres", asOwner(exec.Command(bins.postgres,
		"-D", dataDir, "-p", port, "-h", "127.0.0.1", "-k", dataDir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")), syscall.SIGINT)
	if err != nil {
		return "", err
	}
	b.procs = append(b.procs, p)
	err = poll(ctx, p, "postgres", func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, adminURL(addr))
		if err != nil {
			return err
		}
		return conn.Close(context.WithoutCancel(ctx))
	})
	if err != nil {
		return "", err
	}
	return addr, nil
}

// adminURL is the URL of the cluster's postgres database, for creating
// the others.
func adminURL(addr string) string {
	return fmt.Sprintf("postgres://shop@%s/postgres?sslmode=disable&connect_timeout=2", addr)
}

// createDatabase creates the database name (owned by shop) in the cluster
// at addr, and returns its URL.
func createDatabase(ctx context.Context, addr, name string) (string, error) {
	conn, err := pgx.Connect(ctx, adminURL(addr))
	if err != nil {
		return "", fmt.Errorf("creating database %s: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("creating database %s: %w", name, err)
	}
	return fmt.Sprintf("postgres://shop@%s/%s?sslmode=disable&connect_timeout=2", addr, name), nil
}

// postgresCredential is nil unless we are root; then it is the postgres
// user's, or nobody's.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, fmt.Errorf("running as root, and PostgreSQL refuses root: found neither a postgres nor a nobody user to run it as")
}
