package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// redisDatabases is how many Redis databases the backends' redis-server
// has: how many systems can share it.
const redisDatabases = 256

// Backends are a redis-server and a PostgreSQL cluster, which several
// systems can share (Options.Backends): each system gets a database and a
// Redis database number of its own, so that they stay independent while
// initdb and the servers' start-up are paid once. Faults are injected in
// each system's own proxies, so one system's fault never reaches another.
type Backends struct {
	// Dir holds the data and logs/NAME.log of both servers.
	Dir string
	// RedisAddr and PostgresAddr are the servers' host:port.
	RedisAddr, PostgresAddr string

	removeDir bool // Stop removes Dir
	procs     []*process

	mu      sync.Mutex // serializes tenant's CREATE DATABASE
	tenants int        // systems given a database so far
}

// StartBackends starts a redis-server and a throwaway PostgreSQL cluster
// in a new temporary directory; ctx bounds the start-up only. On error,
// whatever was started is stopped again. keepDir keeps the directory after
// Stop. It returns an error wrapping ErrMissing when either is not
// installed.
func StartBackends(ctx context.Context, keepDir bool) (*Backends, error) {
	if err := findServers(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "spof-shop-backends-")
	if err != nil {
		return nil, err
	}
	return startBackends(ctx, dir, !keepDir)
}

// findServers returns an error wrapping ErrMissing unless both
// redis-server and PostgreSQL are installed.
func findServers() error {
	if _, err := findRedis(); err != nil {
		return err
	}
	_, err := findPostgres()
	return err
}

// startBackends starts both servers in dir (which Stop removes if
// removeDir).
func startBackends(ctx context.Context, dir string, removeDir bool) (b *Backends, err error) {
	redisBin, err := findRedis()
	if err != nil {
		return nil, err
	}
	pg, err := findPostgres()
	if err != nil {
		return nil, err
	}
	b = &Backends{Dir: dir, removeDir: removeDir}
	defer func() {
		if err != nil {
			if stopErr := b.Stop(); stopErr != nil {
				err = fmt.Errorf("%w (and stopping: %v)", err, stopErr)
			}
			b = nil
		}
	}()
	if b.RedisAddr, err = b.startRedis(ctx, redisBin); err != nil {
		return nil, err
	}
	if b.PostgresAddr, err = b.startPostgres(ctx, pg); err != nil {
		return nil, err
	}
	return b, nil
}

// tenant gives a new system its database (shop, then shop_2, shop_3...)
// and Redis database number (0, 1, 2...).
func (b *Backends) tenant(ctx context.Context) (postgresURL string, redisDB int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tenants == redisDatabases {
		return "", 0, fmt.Errorf("the backends in %s serve %d systems already, as many as Redis has databases", b.Dir, redisDatabases)
	}
	name := "shop"
	if b.tenants > 0 {
		name = fmt.Sprintf("shop_%d", b.tenants+1)
	}
	url, err := createDatabase(ctx, b.PostgresAddr, name)
	if err != nil {
		return "", 0, err
	}
	redisDB = b.tenants
	b.tenants++
	return url, redisDB, nil
}

// Stop stops both servers and removes the directory StartBackends made
// unless it is to be kept. Stop them after the systems that use them. It
// may be called more than once.
func (b *Backends) Stop() error {
	var errs []error
	for i := len(b.procs) - 1; i >= 0; i-- {
		if err := b.procs[i].stop(10 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	b.procs = nil
	if b.removeDir {
		if err := os.RemoveAll(b.Dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// PIDs returns the process id of redis and postgres; each leads its own
// process group.
func (b *Backends) PIDs() map[string]int {
	pids := make(map[string]int, len(b.procs))
	for _, p := range b.procs {
		pids[p.name] = p.cmd.Process.Pid
	}
	return pids
}
