//go:build linux

// Package netnstest gives tests network namespaces of their own, so that
// they can change firewall rules and send traffic without touching the
// host's: a namespace per test, a server inside it, and dials from inside.
package netnstest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// SkipOrFail skips the test, or fails it when CI=true: CI must not pass by
// skipping.
func SkipOrFail(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; CI=true, so this test must run", why)
	}
	t.Skip(why)
}

var seq atomic.Int64

// New creates a network namespace with lo up, deleted when the test ends.
// Without root, iptables or ip the test is skipped (failed under CI=true).
func New(t testing.TB) string {
	t.Helper()
	switch {
	case os.Geteuid() != 0:
		SkipOrFail(t, "not root: network namespaces and iptables need CAP_NET_ADMIN")
	case !OnPath("iptables"):
		SkipOrFail(t, "iptables is not installed")
	case !OnPath("ip"):
		SkipOrFail(t, "ip (iproute2) is not installed")
	}
	name := fmt.Sprintf("spof-test-%d-%d", os.Getpid(), seq.Add(1))
	Run(t, "ip", "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "delete", name).Run() })
	Run(t, "ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
	return name
}

// OnPath reports whether the program name is on PATH.
func OnPath(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// Run runs argv and returns its output; it fails the test if it fails.
func Run(t testing.TB, argv ...string) string {
	t.Helper()
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// In runs fn on an OS thread that has joined the named netns; sockets fn
// opens belong to it. The thread is never unlocked: it ends with the
// goroutine instead of going back to the scheduler in the wrong namespace.
func In(netns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- func() error {
			f, err := os.Open(filepath.Join("/run/netns", netns))
			if err != nil {
				return err
			}
			defer f.Close()
			if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
				return fmt.Errorf("setns %s: %w", netns, err)
			}
			return fn()
		}()
	}()
	return <-errc
}

// EchoServer echoes on a port of every address in netns (127.0.0.1, and
// ::1 where there is IPv6) until the test ends, and returns the port.
func EchoServer(t testing.TB, netns string) int {
	t.Helper()
	var ln net.Listener
	err := In(netns, func() (err error) {
		ln, err = net.Listen("tcp", ":0")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Go(func() {
				io.Copy(c, c)
				c.Close()
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
			})
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// Echo connects to addr from inside netns, sends a line and reads it back.
func Echo(netns, addr string, timeout time.Duration) error {
	return In(netns, func() error {
		c, err := net.DialTimeout("tcp", addr, timeout)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, "ping\n"); err != nil {
			return err
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || line != "ping\n" {
			return fmt.Errorf("echo: %q, %v", line, err)
		}
		return nil
	})
}
