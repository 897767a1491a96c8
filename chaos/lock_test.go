package chaos

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary play a second spof chaos run: with
// SPOF_TEST_HOLD_LOCK=DIR it takes the run lock of DIR, says so, and holds
// it until its stdin closes.
func TestMain(m *testing.M) {
	if dir := os.Getenv("SPOF_TEST_HOLD_LOCK"); dir != "" {
		l, err := LockRun(dir, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("locked")
		bufio.NewReader(os.Stdin).ReadString('\n')
		l.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestRunLock(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SPOF_TEST_HOLD_LOCK="+dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "locked\n" {
		t.Fatalf("holder said %q", line)
	}

	_, err := LockRun(dir, time.Now())
	want := fmt.Sprintf("another run holds %s (pid %d, since 2026-12-01T10:00:00Z)", dir, cmd.Process.Pid)
	if !errors.Is(err, ErrRunLocked) || !strings.Contains(err.Error(), want) {
		t.Fatalf("LockRun while another process holds it: %v, want %q", err, want)
	}

	// The holder ends (or dies: the kernel releases a flock with its
	// process): the next run takes the lock.
	stdin.Close()
	cmd.Wait()
	l, err := LockRun(dir, time.Now())
	if err != nil {
		t.Fatalf("LockRun after the holder ended: %v", err)
	}
	// Within one process too, a second lock is refused.
	if _, err := LockRun(dir, time.Now()); !errors.Is(err, ErrRunLocked) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("second LockRun in the same process: %v", err)
	}
	l.Close()
}

func TestNewRunID(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	for range 100 {
		id := NewRunID(now)
		if !strings.HasPrefix(id, "20261201T100000Z-") || seen[id] {
			t.Fatalf("run ID %q: want unique IDs starting with the time", id)
		}
		seen[id] = true
	}
}
