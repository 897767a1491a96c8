// Package compose imports a docker compose project into a spof model.
//
// The files are read with compose-go, as docker compose reads them: several
// files merged in order (later ones override), include and extends
// followed, .env and ${VAR} interpolation, profiles. Each service becomes a
// component named after it; its image (or a spof.dev/kind label) gives its
// kind, deploy.replicas or scale its replicas. Addresses of other services
// in its environment, command, links and network_mode are edges needed
// while running; depends_on says what it needs to start (see Import for
// how conditions are read). Published ports are entry points.
//
// Nothing is fetched: no docker daemon, no registry, no remote include.
// The process environment is not read either: what interpolation sees is
// Options.Environ and the env files, so that an import gives the same
// model on every machine.
package compose

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
	"go.yaml.in/yaml/v3"
)

// Options steer an import.
type Options struct {
	// Profiles to enable, as docker compose --profile does ("*" enables
	// every one). Empty: the COMPOSE_PROFILES variable of the environment
	// below if set, else none, so that only the services without a
	// profile are imported (a note names the ones left out).
	Profiles []string
	// EnvFiles are read for interpolation, in order, as docker compose
	// --env-file does. Nil: the .env file next to the first compose file,
	// if there is one.
	EnvFiles []string
	// Environ is the environment interpolation sees, as "KEY=value"
	// strings; it wins over the env files, as the shell's environment
	// does for docker compose. The process environment is never read
	// implicitly: pass os.Environ() here to get docker compose's exact
	// behaviour, at the price of a model that depends on the shell.
	Environ []string
}

// Import reads the compose files at paths (the first is the main one, the
// others override it, as with docker compose -f a -f b) and adds their
// services to b.
//
// Edges: an address of another service in a service's environment (a URL,
// host:port, or a bare host in a *_HOST-like variable), command or
// entrypoint, a links entry and network_mode: service:X are needed while
// running. depends_on alone only says what must start first, so it gives
// an edge needed at startup (when: startup), except that waiting for a
// database, cache, queue or storage service is taken as using it (its
// address is most often compiled into the image, as in the voting app);
// service_completed_successfully names a one-shot job, needed at startup.
// Calls to telemetry, admin UIs and load generators, and to a feature-flag
// service (whose clients fall back to default values), degrade the caller
// rather than stop it.
//
// Malformed files give a *model.Error or a model.ErrorList with the file,
// line and column of the problem.
func Import(ctx context.Context, b *importer.Builder, paths []string, opts Options) error {
	if len(paths) == 0 {
		return errors.New("compose: no file given")
	}
	pos, contents, err := readSources(b, paths)
	if err != nil {
		return err
	}
	env, err := environment(paths[0], opts)
	if err != nil {
		return err
	}
	profiles := opts.Profiles
	if len(profiles) == 0 {
		for _, p := range strings.Split(env["COMPOSE_PROFILES"], ",") {
			if p = strings.TrimSpace(p); p != "" {
				profiles = append(profiles, p)
			}
		}
	}
	contents, blanks := dropBlankPorts(paths, contents, env)
	project, unset, err := load(ctx, paths, contents, env, profiles)
	if err != nil {
		return pos.explain(err)
	}
	for _, f := range pos.loaded {
		b.Source(f)
	}
	imp := &importState{b: b, pos: pos, project: project, first: paths[0]}
	for _, it := range blanks {
		b.Note(importer.Note{Pos: it.pos, Kind: importer.NoteAssumption, Subject: importer.Name(it.service),
			Msg:  fmt.Sprintf("%s item %q is empty once interpolated: left out (docker compose would refuse it)", it.attr, it.raw),
			Hint: "set its variables in an env file"})
	}
	for _, v := range unset {
		// A variable used with a default everywhere is the author's
		// choice, not a gap.
		if at, ok := pos.blankVariable(v); ok {
			b.Note(importer.Note{Pos: at, Kind: importer.NoteAssumption,
				Msg:  fmt.Sprintf("variable %s is not set: taken as an empty string", v),
				Hint: "set it in an env file or in Options.Environ"})
		}
	}
	if err := imp.resolveEnvironment(); err != nil {
		return pos.explain(err)
	}
	return imp.build()
}

// readSources parses the compose files, and the files they include or
// extend, for positions.
func readSources(b *importer.Builder, paths []string) (*positions, [][]byte, error) {
	base := filepath.Dir(paths[0])
	baseAbs, err := filepath.Abs(base)
	if err != nil {
		return nil, nil, err
	}
	display := func(abs string) string {
		rel, err := filepath.Rel(baseAbs, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return abs
		}
		return filepath.Join(base, rel)
	}
	pos := &positions{}
	seen := map[string]bool{}
	var contents [][]byte
	var main []*sourceFile
	var errs model.ErrorList
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, nil, err
		}
		data, err := b.ReadFile(p)
		if err != nil {
			return nil, nil, &model.Error{Pos: model.Pos{File: p}, Msg: "cannot read the compose file: " + describeIOError(err),
				Hint: "check the path given"}
		}
		contents = append(contents, data)
		f, err := parseSource(p, abs, data)
		if err != nil {
			errs = append(errs, asModelError(err, p))
			continue
		}
		seen[abs] = true
		main = append(main, f)
		pos.loaded = append(pos.loaded, p)
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	// Later -f files override earlier ones: they come first.
	for i := len(main) - 1; i >= 0; i-- {
		pos.files = append(pos.files, main[i])
	}
	// Included and extended files, breadth first, for positions only: a
	// file that cannot be read here is compose-go's to report.
	for i := 0; i < len(pos.files); i++ {
		f := pos.files[i]
		for _, ref := range referencedFiles(f) {
			if seen[ref] {
				continue
			}
			seen[ref] = true
			data, err := b.ReadFile(ref)
			if err != nil {
				if errors.Is(err, importer.ErrTooLarge) {
					return nil, nil, &model.Error{Pos: model.Pos{File: display(ref)}, Msg: err.Error()}
				}
				continue
			}
			name := display(ref)
			g, err := parseSource(name, ref, data)
			if err != nil {
				return nil, nil, err
			}
			pos.files = append(pos.files, g)
			pos.loaded = append(pos.loaded, name)
		}
	}
	return pos, contents, nil
}

// referencedFiles lists the local files a compose file includes or extends,
// as absolute paths. Paths holding variables are left out.
func referencedFiles(f *sourceFile) []string {
	dir := filepath.Dir(f.abs)
	var out []string
	add := func(p string) {
		if p == "" || strings.Contains(p, "$") || isRemote(p) {
			return
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		out = append(out, p)
	}
	if inc := mapValue(f.root, "include"); inc != nil && inc.Kind == yaml.SequenceNode {
		for _, it := range inc.Content {
			switch it.Kind {
			case yaml.ScalarNode:
				add(it.Value)
			case yaml.MappingNode:
				p := mapValue(it, "path")
				if p == nil {
					continue
				}
				if p.Kind == yaml.ScalarNode {
					add(p.Value)
				}
				for _, q := range p.Content {
					add(q.Value)
				}
			}
		}
	}
	names := make([]string, 0, len(f.services))
	for n := range f.services {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if ext := mapValue(f.services[n].value, "extends"); ext != nil && ext.Kind == yaml.MappingNode {
			if file := mapValue(ext, "file"); file != nil && file.Kind == yaml.ScalarNode {
				add(file.Value)
			}
		}
	}
	return out
}

func isRemote(p string) bool {
	return strings.Contains(p, "://") || strings.HasPrefix(p, "git@") || strings.HasPrefix(p, "oci:")
}

// environment is what interpolation sees: the env files, overridden by
// opts.Environ.
func environment(first string, opts Options) (types.Mapping, error) {
	env := types.Mapping{}
	for _, kv := range opts.Environ {
		k, v, _ := strings.Cut(kv, "=")
		if k != "" {
			env[k] = v
		}
	}
	files := opts.EnvFiles
	if files == nil {
		def := filepath.Join(filepath.Dir(first), ".env")
		if st, err := os.Stat(def); err == nil && st.Mode().IsRegular() {
			files = []string{def}
		}
	}
	fromFiles := types.Mapping{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, &model.Error{Pos: model.Pos{File: f}, Msg: "cannot read the env file: " + describeIOError(err),
				Hint: "check the path given"}
		}
		// A file may use what Environ and the files before it set.
		vars, err := dotenv.ParseWithLookup(bytes.NewReader(data), func(k string) (string, bool) {
			if v, ok := env[k]; ok {
				return v, true
			}
			v, ok := fromFiles[k]
			return v, ok
		})
		if err != nil {
			return nil, envFileError(f, err)
		}
		maps.Copy(fromFiles, vars) // later files override earlier ones
	}
	env.Merge(fromFiles) // Environ wins
	return env, nil
}

// load runs compose-go on the files: merged, included, extended,
// interpolated and normalised, with the services of inactive profiles in
// DisabledServices. It fetches nothing and checks no reference to files a
// build would need. unset lists the variables interpolation did not find.
func load(ctx context.Context, paths []string, contents [][]byte, env types.Mapping, profiles []string) (project *types.Project, unset []string, err error) {
	// compose-go panics on some malformed files (env_file: [{path: null}]):
	// that is bad input, not a crash.
	defer func() {
		if r := recover(); r != nil {
			project, unset = nil, nil
			err = &model.Error{Pos: model.Pos{File: paths[0], Line: 1, Col: 1},
				Msg:  fmt.Sprintf("compose-go could not read this project: %v", r),
				Hint: "a key has a value of the wrong shape (null, or a list where a string is expected); check it against the compose specification"}
		}
	}()
	quietOnce.Do(func() { logrus.StandardLogger().SetOutput(io.Discard) })
	wd, err := filepath.Abs(filepath.Dir(paths[0]))
	if err != nil {
		return nil, nil, err
	}
	details := types.ConfigDetails{WorkingDir: wd, Environment: env}
	for i, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, nil, err
		}
		details.ConfigFiles = append(details.ConfigFiles, types.ConfigFile{Filename: abs, Content: contents[i]})
	}
	name := loader.NormalizeProjectName(filepath.Base(wd))
	if name == "" {
		name = "compose"
	}
	blank := map[string]bool{}
	project, err = loader.LoadWithContext(ctx, details, func(o *loader.Options) {
		o.SetProjectName(name, false)
		o.Profiles = profiles
		// Consistency is checked here, leniently: a dangling reference
		// is a note, not a failure.
		o.SkipConsistencyCheck = true
		o.SkipResolveEnvironment = true
		o.SkipResolveLabels = true
		o.ResourceLoaders = []loader.ResourceLoader{remoteRefused{}}
		if o.Interpolate != nil {
			lookup := o.Interpolate.LookupValue
			o.Interpolate.LookupValue = func(k string) (string, bool) {
				v, ok := lookup(k)
				if !ok {
					blank[k] = true
				}
				return v, ok
			}
			o.Interpolate.Substitute = func(s string, m template.Mapping) (string, error) {
				return template.SubstituteWithOptions(s, m, template.WithoutLogging)
			}
		}
	})
	if err != nil {
		return nil, nil, err
	}
	for k := range blank {
		if _, ok := env[k]; !ok && k != "COMPOSE_PROJECT_NAME" {
			unset = append(unset, k)
		}
	}
	slices.Sort(unset)
	return project, unset, nil
}

// quietOnce silences compose-go's logger, which warns on standard error
// of what docker compose deprecates (the obsolete version: key, yes/no
// booleans, external.name): nothing there bears on what depends on what,
// and spof reports through notes. spof logs nothing through logrus.
var quietOnce sync.Once

// remoteRefused stands for the git and OCI loaders docker compose has:
// spof reads no network, so a remote include or extends is an error that
// says what to do.
type remoteRefused struct{}

func (remoteRefused) Accept(p string) bool { return isRemote(p) }

func (remoteRefused) Load(_ context.Context, p string) (string, error) {
	return "", fmt.Errorf("remote resource %s: not fetched: spof reads no network", p)
}

func (remoteRefused) Dir(p string) string { return p }

// resolveEnvironment fills each service's environment from its env_file
// entries and the project environment, as docker compose does; env files
// that do not exist are left out with a note, not an error, since they
// often hold secrets kept out of the repository.
func (s *importState) resolveEnvironment() error {
	for name, svc := range s.project.Services {
		kept := svc.EnvFiles[:0]
		for _, ef := range svc.EnvFiles {
			if st, err := os.Stat(ef.Path); err != nil || !st.Mode().IsRegular() {
				if !bool(ef.Required) {
					continue // the file says it may be missing
				}
				s.b.Note(importer.Note{Pos: s.pos.entry(name, "env_file", ""), Kind: importer.NoteAssumption, Subject: importer.Name(name),
					Msg:  fmt.Sprintf("env_file %s not found: the addresses it may hold are unknown", s.display(ef.Path)),
					Hint: "import from a checkout that has it, or declare the edges with spof.dev/depends-on"})
				continue
			}
			kept = append(kept, ef)
		}
		svc.EnvFiles = kept
		s.project.Services[name] = svc
	}
	p, err := s.project.WithServicesEnvironmentResolved(false)
	if err != nil {
		return err
	}
	s.project = p
	return nil
}

// display shows an absolute path relative to the first file's directory,
// as the user would write it.
func (s *importState) display(abs string) string {
	base := filepath.Dir(s.first)
	baseAbs, err := filepath.Abs(base)
	if err != nil {
		return abs
	}
	rel, err := filepath.Rel(baseAbs, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return abs
	}
	return filepath.Join(base, rel)
}

func describeIOError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func asModelError(err error, file string) *model.Error {
	var me *model.Error
	if errors.As(err, &me) {
		return me
	}
	return &model.Error{Pos: model.Pos{File: file}, Msg: err.Error()}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare)
	return keys
}

var envLineRe = regexp.MustCompile(`^line (\d+): (.*)$`)

// envFileError positions a .env parse error on its line.
func envFileError(file string, err error) error {
	e := &model.Error{Pos: model.Pos{File: file}, Msg: err.Error(),
		Hint: "write KEY=value, one a line; quote values with spaces"}
	if m := envLineRe.FindStringSubmatch(err.Error()); m != nil {
		e.Pos.Line, _ = strconv.Atoi(m[1])
		e.Pos.Col = 1
		e.Msg = m[2]
	}
	return e
}
