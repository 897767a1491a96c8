package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "journal.json")
	for _, data := range []string{"first", "second, longer than the first", "3"} {
		if err := WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != data {
			t.Fatalf("after writing %q: read %q, %v", data, got, err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want only journal.json (no temporary file left)", len(entries))
	}
}

func TestWriteFileMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nodir", "x")
	err := WriteFile(path, []byte("x"), 0o644)
	if err == nil || !strings.Contains(err.Error(), "cannot create a file in") || strings.Contains(err.Error(), ".tmp") {
		t.Errorf("error %v: want one that names the directory, not the temporary file", err)
	}
}

// TestWriteFileFIFO: a named pipe is written to, not replaced by a
// regular file.
func TestWriteFileFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	read := make(chan string, 1)
	go func() {
		// Opening blocks until WriteFile opens the other end; a WriteFile
		// that renames instead never does: the test's deadline says so.
		f, err := os.Open(path)
		if err != nil {
			read <- err.Error()
			return
		}
		defer f.Close()
		data, _ := io.ReadAll(f)
		read <- string(data)
	}()
	if err := WriteFile(path, []byte("report\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-read:
		if got != "report\n" {
			t.Errorf("read %q from the FIFO, want the report", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing read from the FIFO: it was not written to")
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("after WriteFile: %v, %v; want the FIFO still there", fi.Mode(), err)
	}
}

// TestWriteFileDevNull: /dev/null stays a character device. (As root, a
// rename would have replaced it with a regular file.)
func TestWriteFileDevNull(t *testing.T) {
	if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
		t.Skipf("%s is not a character device here: %v", os.DevNull, err)
	}
	if err := WriteFile(os.DevNull, []byte("report\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(os.DevNull); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
		t.Fatalf("%s after WriteFile: %v, %v; want a character device", os.DevNull, fi.Mode(), err)
	}
	if entries, _ := filepath.Glob("/dev/.null.tmp*"); len(entries) > 0 {
		t.Errorf("temporary files left in /dev: %v", entries)
	}
}

// TestWriteFileDescriptor: /proc/self/fd/N, which /dev/stdout leads to,
// is written through, after what the descriptor's file already holds.
func TestWriteFileDescriptor(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	link := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	if _, err := os.Lstat(link); err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if _, err := f.WriteString("before\n"); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, []byte("report\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil || string(got) != "before\nreport\n" {
		t.Errorf("the file holds %q, %v; want the report after what was there", got, err)
	}
}

// TestWriteFileSymlink: the file a link leads to (through a chain of
// relative and absolute links) is replaced; the links stay links. A
// dangling link gets its file created.
func TestWriteFileSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "reports", "real.json")
	if err := os.Mkdir(filepath.Dir(real), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	// out.json -> middle.json -> reports/real.json (absolute)
	mustSymlink(t, "middle.json", filepath.Join(dir, "out.json"))
	mustSymlink(t, real, filepath.Join(dir, "middle.json"))
	for _, data := range []string{"new", "newer"} {
		if err := WriteFile(filepath.Join(dir, "out.json"), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(real); err != nil || string(got) != data {
			t.Errorf("the linked file holds %q, %v; want %q", got, err, data)
		}
	}
	for _, name := range []string{"out.json", "middle.json"} {
		if fi, err := os.Lstat(filepath.Join(dir, name)); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("%s after WriteFile: %v, %v; want the link kept", name, fi.Mode(), err)
		}
	}

	dangling := filepath.Join(dir, "dangling.json")
	mustSymlink(t, "reports/new.json", dangling)
	if err := WriteFile(dangling, []byte("created"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "reports", "new.json")); err != nil || string(got) != "created" {
		t.Errorf("the dangling link's file holds %q, %v", got, err)
	}
	if fi, err := os.Lstat(dangling); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the dangling link after WriteFile: %v, %v; want it kept", fi.Mode(), err)
	}

	loop := filepath.Join(dir, "loop")
	mustSymlink(t, "loop", loop)
	if err := WriteFile(loop, []byte("x"), 0o644); err == nil {
		t.Error("writing through a link to itself: no error")
	}
}

func mustSymlink(t *testing.T, oldname, newname string) {
	t.Helper()
	if err := os.Symlink(oldname, newname); err != nil {
		t.Fatal(err)
	}
}

// TestStaleTempRemoved: a writer killed with kill -9 between creating its
// temporary file and renaming it leaves the file behind; the next write to
// the same target removes it, and leaves the files of live writers (and
// of other targets) alone.
func TestStaleTempRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report[1].txt")
	// A process that has exited: its PID names no process now (unless
	// reused at once, which this test would then miss, not fail on).
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	stale := filepath.Join(dir, tempPrefix("report[1].txt", dead.Process.Pid)+"123")
	live := filepath.Join(dir, tempPrefix("report[1].txt", os.Getppid())+"456")
	other := filepath.Join(dir, tempPrefix("other.txt", dead.Process.Pid)+"789")
	for _, f := range []string{stale, live, other} {
		if err := os.WriteFile(f, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteFile(path, []byte("whole"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the dead writer's temporary file is still there (%v)", err)
	}
	for _, f := range []string{live, other} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s: removed (%v), want kept", filepath.Base(f), err)
		}
	}
}
