package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"

	"github.com/jackc/pgx/v5"
)

// ErrNotInstalled is returned (wrapped) by Find when PostgreSQL's server
// programs are nowhere to be found; scripts/test-deps.sh installs them.
var ErrNotInstalled = errors.New("not installed")

// StopSignal is the signal that stops postgres quickly and cleanly (fast
// shutdown: clients are disconnected, nothing is left in shared memory).
const StopSignal = syscall.SIGINT

// Programs are PostgreSQL's server programs and the user that runs them.
type Programs struct {
	Initdb, Postgres string
	// Owner runs them and owns the cluster's files: nil for the current
	// user. PostgreSQL refuses to run as root, so as root it is the
	// postgres user's, or nobody's.
	Owner *syscall.Credential
}

// Find looks for initdb and postgres on PATH, then in Debian's
// /usr/lib/postgresql/VERSION/bin (newest version first), which is not on
// PATH.
func Find() (Programs, error) {
	p, err := findPrograms()
	if err != nil {
		return Programs{}, err
	}
	if p.Owner, err = owner(); err != nil {
		return Programs{}, err
	}
	return p, nil
}

func findPrograms() (Programs, error) {
	initdb, err1 := exec.LookPath("initdb")
	postgres, err2 := exec.LookPath("postgres")
	if err1 == nil && err2 == nil {
		return Programs{Initdb: initdb, Postgres: postgres}, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, d := range dirs {
		p := Programs{Initdb: filepath.Join(d, "initdb"), Postgres: filepath.Join(d, "postgres")}
		if isExecutable(p.Initdb) && isExecutable(p.Postgres) {
			return p, nil
		}
	}
	return Programs{}, fmt.Errorf("postgres and initdb: %w: neither on PATH nor in /usr/lib/postgresql/*/bin (run scripts/test-deps.sh as root, or apt-get install postgresql)", ErrNotInstalled)
}

// versionOf is the major version of a /usr/lib/postgresql/VERSION/bin.
func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// owner is nil unless we are root; then it is the postgres user's
// credential, or nobody's.
func owner() (*syscall.Credential, error) {
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
	return nil, errors.New("running as root, and PostgreSQL refuses root: found neither a postgres nor a nobody user to run it as")
}

// MakeDataDir creates dataDir for a cluster, owned by p.Owner. With an
// Owner other than us, the owner must reach dataDir through its parent,
// which is made traversable (mode 0711) for that: give each cluster a
// parent of its own, such as a new temporary directory.
func (p Programs) MakeDataDir(dataDir string) error {
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		return err
	}
	if p.Owner == nil {
		return nil
	}
	if err := os.Chmod(filepath.Dir(dataDir), 0o711); err != nil {
		return err
	}
	return os.Chown(dataDir, int(p.Owner.Uid), int(p.Owner.Gid))
}

// InitdbCmd is the command that creates a throwaway cluster in dataDir (made
// by MakeDataDir) with the superuser superuser: trust authentication, UTF8,
// the C locale, nothing synced to disk.
func (p Programs) InitdbCmd(dataDir, superuser string) *exec.Cmd {
	return p.asOwner(exec.Command(p.Initdb,
		"-D", dataDir, "-U", superuser, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"))
}

// PostgresCmd is the command that runs the cluster in dataDir on
// 127.0.0.1:port, its Unix socket in dataDir, with durability off (fsync,
// synchronous commits and full-page writes): data that must outlive a
// crash of the machine has no place in a throwaway cluster. Stop it with
// StopSignal.
func (p Programs) PostgresCmd(dataDir string, port int) *exec.Cmd {
	return p.asOwner(exec.Command(p.Postgres,
		"-D", dataDir, "-p", strconv.Itoa(port), "-h", "127.0.0.1", "-k", dataDir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200"))
}

func (p Programs) asOwner(cmd *exec.Cmd) *exec.Cmd {
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	if p.Owner != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.Owner}
	}
	return cmd
}

// URL is the URL of database db of the cluster at addr (host:port), as
// user, without TLS (loopback).
func URL(addr, user, db string) string {
	return fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable&connect_timeout=5", user, addr, db)
}

// CreateDatabase creates database name, owned by user, in the cluster at
// addr, connecting to its postgres database as user, and returns the new
// database's URL.
func CreateDatabase(ctx context.Context, addr, user, name string) (string, error) {
	conn, err := pgx.Connect(ctx, URL(addr, user, "postgres"))
	if err != nil {
		return "", fmt.Errorf("creating database %s: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("creating database %s: %w", name, err)
	}
	return URL(addr, user, name), nil
}
