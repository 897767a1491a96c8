package compose

import (
	"errors"
	"regexp"
	"strings"

	"github.com/spofhq/spof/model"
)

var (
	// A compose path in a compose-go message: services.web.ports.0,
	// volumes.data, include.0 ...
	composePathRe = regexp.MustCompile(`\b((?:services|networks|volumes|configs|secrets|include|models|jobs)(?:\.[A-Za-z0-9_\-.\[\]]*[A-Za-z0-9_\-\]])?)`)
	// service "web" (consistency and extends messages).
	quotedServiceRe = regexp.MustCompile(`service "([^"]+)"`)
	// Circular reference:\n  a in f\n  extends b in f
	extendsCycleRe = regexp.MustCompile(`(?m)^\s+(?:extends )?(\S+) in (\S+)$`)
	// additional properties 'imagee' not allowed
	extraPropRe = regexp.MustCompile(`additional propert(?:y|ies) '([^']+)'`)
	// required variable X is missing a value
	requiredVarRe = regexp.MustCompile(`required variable (\S+) is missing a value`)
)

// explain turns a compose-go error into a positioned one: the compose path
// or service it names is looked up in the files. What cannot be placed is
// reported on the first file.
func (p *positions) explain(err error) error {
	var me *model.Error
	var ml model.ErrorList
	if errors.As(err, &me) || errors.As(err, &ml) {
		return err
	}
	msg := err.Error()
	for _, f := range p.files {
		msg = strings.ReplaceAll(msg, f.abs, f.name)
	}
	e := &model.Error{Msg: msg, Hint: hintFor(msg)}
	if len(p.files) > 0 {
		e.Pos = model.Pos{File: p.loaded[0]}
	}
	// "validating FILE: path ...": the message names its file first.
	if rest, ok := strings.CutPrefix(msg, "validating "); ok {
		if file, detail, ok := strings.Cut(rest, ": "); ok {
			e.Pos = model.Pos{File: file}
			e.Msg = detail
			msg = detail
		}
	}
	path := ""
	if m := composePathRe.FindStringSubmatch(msg); m != nil {
		path = strings.TrimRight(m[1], ".")
	} else if m := extendsCycleRe.FindAllStringSubmatch(msg, -1); m != nil {
		path = "services." + m[0][1] + ".extends"
	} else if m := quotedServiceRe.FindStringSubmatch(msg); m != nil {
		path = "services." + m[1]
	}
	if path != "" {
		if m := extraPropRe.FindStringSubmatch(msg); m != nil {
			path += "." + m[1]
		}
		if pos, ok := p.locateIn(e.Pos.File, path); ok {
			e.Pos = pos
		}
	}
	if e.Pos.File != "" && e.Pos.Line == 0 {
		e.Pos.Line, e.Pos.Col = 1, 1
	}
	return e
}

// locateIn looks a path up in the named file first, then in every file.
func (p *positions) locateIn(file, path string) (model.Pos, bool) {
	for _, f := range p.files {
		if f.name != file {
			continue
		}
		if n, ok := f.path(path); ok || (n != nil && n != f.root) {
			return nodePos(f.name, n), true
		}
	}
	return p.locate(path)
}

// hintFor says what to do about a compose-go message.
func hintFor(msg string) string {
	switch {
	case extraPropRe.MatchString(msg):
		return "a key the compose specification does not know: check its spelling and indentation"
	case requiredVarRe.MatchString(msg):
		return "set the variable in an env file or in Options.Environ"
	case strings.Contains(msg, "invalid interpolation"):
		return "write $$ for a literal $"
	case strings.Contains(msg, "Circular reference"), strings.Contains(msg, "cycle"):
		return "break the cycle of extends or include"
	case strings.Contains(msg, "remote resource"):
		return "vendor the remote file and include it by path"
	case strings.Contains(msg, "no such file"), strings.Contains(msg, "not found"), strings.Contains(msg, "couldn't find"):
		return "check the path, relative to the file that names it"
	case strings.Contains(msg, " must be "):
		return "see the compose specification for this key's type"
	}
	return "see the compose specification: https://docs.docker.com/reference/compose-file/"
}
