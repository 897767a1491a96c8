// Package atomicfile writes files that survive a crash whole: a reader,
// or the next run after a power loss, finds either the old contents or the
// new ones, never a mix or a truncated file.
//
// Only a regular file (or a missing one) can be replaced that way. A
// device, a FIFO or /dev/stdout is written directly: renaming a file over
// /dev/null, as root, would replace the device with a regular file.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// maxLinks bounds the symbolic links followed to reach a file, as the
// kernel does (ELOOP).
const maxLinks = 40

// WriteFile writes data to path so that path holds either its old
// contents or all of data, even after a crash: temp file in the same
// directory, fsync, rename, fsync of the directory.
//
// A symbolic link is followed: the file it leads to is replaced and the
// link stays. When path is not a regular file (a device such as
// /dev/null, a FIFO, /dev/stdout or another of /proc's descriptor links),
// there is nothing to replace: data is written to it directly, and perm
// is not used.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	target, direct, err := destination(path)
	if err != nil {
		return err
	}
	if direct {
		return writeDirect(path, data)
	}
	return replace(target, data, perm)
}

// destination says where WriteFile writes: the file path leads to, after
// its symbolic links, to be replaced; or, direct, path itself, to be
// written in place.
func destination(path string) (target string, direct bool, err error) {
	fi, err := os.Stat(path)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		return path, true, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", false, err
	}
	// A regular file, or nothing yet (perhaps at the end of a dangling
	// link): follow the links one by one.
	target = path
	for range maxLinks {
		fi, err := os.Lstat(target)
		if errors.Is(err, fs.ErrNotExist) {
			return target, false, nil
		}
		if err != nil {
			return "", false, err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return target, false, nil
		}
		if isDescriptorLink(target) {
			// /proc/self/fd/N (what /dev/stdout leads to) names an open
			// descriptor, not a path: write through it.
			return path, true, nil
		}
		link, err := os.Readlink(target)
		if err != nil {
			return "", false, err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(target), link)
		}
		target = link
	}
	return "", false, &fs.PathError{Op: "write", Path: path, Err: syscall.ELOOP}
}

// isDescriptorLink reports whether path is in Linux's /proc, whose links
// lead to descriptions (pipe:[123], a deleted file) rather than paths, or
// in /dev/fd, whose entries stand for open descriptors.
func isDescriptorLink(path string) bool {
	path = filepath.Clean(path)
	return strings.HasPrefix(path, "/proc/") || strings.HasPrefix(path, "/dev/fd/")
}

// writeDirect writes data to the existing path in place, appending, as
// `>>` would: a device or a pipe does not mind, and the file behind
// /dev/stdout keeps what was written to it before.
func writeDirect(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// replace writes data to a temporary file beside path and renames it over
// path.
func replace(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	sweepStale(dir, filepath.Base(path))
	f, err := os.CreateTemp(dir, tempPrefix(filepath.Base(path), os.Getpid())+"*")
	if err != nil {
		// The temporary file's name means nothing to the user: say what
		// is wrong with the directory instead.
		var pe *os.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("cannot create a file in %s: %w", dir, pe.Err)
		}
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir makes the entries of dir (a file created or renamed there)
// durable. File systems that cannot sync a directory (EINVAL) are taken
// at their word.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// tempPrefix names the temporary files of a write to base by process pid:
// a writer killed before its rename (kill -9, a crash) leaves its file
// behind, and the next write to base removes it once pid is gone.
func tempPrefix(base string, pid int) string {
	return "." + base + ".tmp-" + strconv.Itoa(pid) + "-"
}

// sweepStale removes the temporary files that writers to base, in dir, left
// behind when they died. Files of live processes are left alone, and so is
// anything this process may not remove: sweeping is best effort.
func sweepStale(dir, base string) {
	prefix := "." + base + ".tmp-"
	matches, _ := filepath.Glob(filepath.Join(dir, globEscape(prefix)+"*"))
	for _, m := range matches {
		rest := strings.TrimPrefix(filepath.Base(m), prefix)
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.Remove(m)
		}
	}
}

// globEscape quotes the characters filepath.Match treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
