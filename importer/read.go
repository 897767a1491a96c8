package importer

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// DefaultMaxFileSize bounds each file an import reads, unless the
// Builder is given another bound (spof's --max-input-size).
const DefaultMaxFileSize = 256 << 20

// ErrTooLarge is the error of ReadFile for a file over the bound.
var ErrTooLarge = errors.New("too large")

// SetMaxFileSize bounds each file the importers read through ReadFile;
// 0 means DefaultMaxFileSize.
func (b *Builder) SetMaxFileSize(n int64) { b.maxFileSize = n }

// ReadFile reads a source file, and refuses one larger than the bound
// (SetMaxFileSize), or a device or pipe that goes on past it, rather than
// run out of memory.
func (b *Builder) ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := b.ReadAll(f)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	return data, nil
}

// ReadAll reads r to its end, within the bound.
func (b *Builder) ReadAll(r io.Reader) ([]byte, error) {
	limit := b.maxFileSize
	if limit <= 0 {
		limit = DefaultMaxFileSize
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: more than %s (--max-input-size raises the limit)", ErrTooLarge, sizeText(limit))
	}
	return data, nil
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Files expands paths: a file stays as it is; a directory gives the files
// under it whose extension (lower case, with its dot) is one of exts,
// sorted, hidden directories (.git) left out. Errors name the path.
func Files(paths []string, exts ...string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case d.IsDir() && path != p && strings.HasPrefix(d.Name(), "."):
				return filepath.SkipDir
			case !d.IsDir() && slices.Contains(exts, strings.ToLower(filepath.Ext(path))):
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		slices.Sort(found)
		out = append(out, found...)
	}
	return out, nil
}
