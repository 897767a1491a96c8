package inject

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sleeper starts a process to break, with its pidfile in dir.
func sleeper(t *testing.T, dir string) *exec.Cmd {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	os.WriteFile(filepath.Join(dir, "app.pid"), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644)
	return cmd
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 5s: %s", what)
		}
	}
}

func TestProcessStop(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cmd := sleeper(t, dir)
	u, err := Process{PIDFile: "app.pid", Signal: "STOP", Dir: dir}.Prepare(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := (Process{}).Inject(context.Background(), u, Fault{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the process is not stopped", func() bool { return stopped(cmd.Process.Pid) })
	if on, err := Active(ctx, u); err != nil || !on {
		t.Errorf("Active = %v, %v; want true", on, err)
	}
	if err := Restore(ctx, u); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the process is still stopped", func() bool { return !stopped(cmd.Process.Pid) })
	if on, _ := Active(ctx, u); on {
		t.Error("Active after restore")
	}
}

func TestProcessKillAndRestart(t *testing.T) {
	for name, restart := range map[string]string{
		"pidfile at once": "echo >> restarts; sleep 60 >/dev/null 2>&1 & echo $! > app.pid",
		// The service writes its pidfile only once it is up, after the
		// restart command returned: the restore waits, and restarts once.
		"pidfile later": "echo >> restarts; (sleep 0.5; sleep 60 & echo $! > app.pid) >/dev/null 2>&1 &",
	} {
		t.Run(name, func(t *testing.T) { testKillAndRestart(t, restart) })
	}
}

func testKillAndRestart(t *testing.T, restart string) {
	ctx := context.Background()
	dir := t.TempDir()
	cmd := sleeper(t, dir)
	u, err := Process{PIDCmd: "cat app.pid", Signal: "KILL", Restart: restart, Dir: dir}.Prepare(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := (Process{}).Inject(context.Background(), u, Fault{}); err != nil {
		t.Fatal(err)
	}
	cmd.Wait() // reap it, as its parent would
	if on, err := Active(ctx, u); err != nil || !on {
		t.Errorf("after KILL, Active = %v, %v; want true", on, err)
	}
	if err := Restore(ctx, u); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "app.pid"))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	t.Cleanup(func() {
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
		}
	})
	if pid == cmd.Process.Pid || !Alive(pid) {
		t.Fatalf("restart did not start a new process (pid %d)", pid)
	}
	if on, _ := Active(ctx, u); on {
		t.Error("Active after the restart")
	}
	if runs, _ := os.ReadFile(filepath.Join(dir, "restarts")); len(runs) != 1 {
		t.Errorf("the restart command ran %d times, want once", len(runs))
	}
}

func TestProcessErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, tc := range []struct {
		p    Process
		want string
	}{
		{Process{PIDFile: "missing.pid", Signal: "STOP", Dir: dir}, "pidfile: open"},
		{Process{PIDCmd: "echo notapid", Signal: "STOP", Dir: dir}, `"notapid" is not a process id`},
		{Process{PIDCmd: "echo 123", Signal: "KILL", Dir: dir}, "a restart command is needed"},
		{Process{PIDCmd: "echo 123", Signal: "HUP", Dir: dir}, `signal "HUP": want STOP, TERM or KILL`},
	} {
		if _, err := tc.p.Prepare(ctx); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.p, err, tc.want)
		}
	}
}
