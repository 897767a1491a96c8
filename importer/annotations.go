package importer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spofhq/spof/model"
)

// AnnotationPrefix starts the keys of the annotations (Kubernetes) and
// labels (compose, Backstage) that say what the files cannot.
const AnnotationPrefix = "spof.dev/"

// The annotations, on a workload or a compose service:
const (
	// AnnotOptional: "adservice,recommendationservice": calls to these
	// have a fallback; losing them degrades the workload.
	AnnotOptional = AnnotationPrefix + "optional"
	// AnnotFallback: "payments=queue the order and charge later;
	// email=skip": like optional, saying what the workload does instead.
	AnnotFallback = AnnotationPrefix + "fallback"
	// AnnotCriticality: critical, high, medium or low: of the flow the
	// workload's entry point or background work gives.
	AnnotCriticality = AnnotationPrefix + "criticality"
	// AnnotDependsOn: "cart,checkout": edges the files cannot show (an
	// address compiled into the image).
	AnnotDependsOn = AnnotationPrefix + "depends-on"
	// AnnotKind: the component's kind, when the image does not say it.
	AnnotKind = AnnotationPrefix + "kind"
	// AnnotFailover: automatic, manual or none.
	AnnotFailover = AnnotationPrefix + "failover"
	// AnnotEntry: "true": an entry point, though nothing published shows it.
	AnnotEntry = AnnotationPrefix + "entry"
	// AnnotWorker: what the workload does in the background ("consume
	// orders"): a flow of its own, not a step of the user-facing ones.
	AnnotWorker = AnnotationPrefix + "worker"
	// AnnotIgnore: "true": leave the workload out of the model.
	AnnotIgnore = AnnotationPrefix + "ignore"
)

var annotationKeys = []string{AnnotOptional, AnnotFallback, AnnotCriticality, AnnotDependsOn, AnnotKind,
	AnnotFailover, AnnotEntry, AnnotWorker, AnnotIgnore}

// annotations are the parsed spof.dev/ annotations of one component.
type annotations struct {
	pos       model.Pos
	fallbacks map[string]string // target → what the component does without it
	dependsOn []string
}

// Ignored reports whether annotations ask to leave the workload out.
func Ignored(ann map[string]string) bool {
	return strings.EqualFold(strings.TrimSpace(ann[AnnotIgnore]), "true")
}

// Annotate applies the spof.dev/ annotations of component, found at pos.
// Kind, failover, entry, worker and criticality apply at once; fallbacks
// and depends-on when Finish runs, so that they also reach edges added
// after this call. A bad value is an error at pos, and an unknown
// spof.dev/ key too (with a did-you-mean).
func (b *Builder) Annotate(component string, ann map[string]string, pos model.Pos) error {
	c := b.byName[component]
	if c == nil {
		panic("importer: annotating unknown component " + component)
	}
	errorf := func(key, hint, format string, args ...any) error {
		return &model.Error{Pos: pos, Path: key, Msg: fmt.Sprintf(format, args...), Hint: hint}
	}
	keys := make([]string, 0, len(ann))
	for k := range ann {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	a := b.annot[component]
	if a == nil {
		a = &annotations{pos: pos, fallbacks: map[string]string{}}
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, AnnotationPrefix) {
			continue
		}
		v := strings.TrimSpace(ann[k])
		switch k {
		case AnnotOptional:
			for _, t := range splitList(v) {
				a.fallbacks[t] = "optional (" + AnnotOptional + ")"
			}
		case AnnotFallback:
			for _, item := range strings.Split(v, ";") {
				t, what, ok := strings.Cut(item, "=")
				t, what = strings.TrimSpace(t), strings.TrimSpace(what)
				if !ok || t == "" || what == "" {
					return errorf(k, `write "target=what it does instead", several separated by ";"`, "invalid value %q", v)
				}
				a.fallbacks[t] = what
			}
		case AnnotDependsOn:
			a.dependsOn = append(a.dependsOn, splitList(v)...)
		case AnnotCriticality:
			crit, ok := model.ParseCriticality(v)
			if !ok || crit == model.CriticalityNone {
				return errorf(k, "want critical, high, medium or low", "invalid value %q", v)
			}
			b.crit[component] = crit
		case AnnotKind:
			if !slices.Contains(model.Kinds, model.Kind(v)) {
				return errorf(k, "want one of: "+joinKinds(), "invalid kind %q", v)
			}
			c.Kind = model.Kind(v)
			if !c.FailoverSet {
				c.Failover = model.DefaultFailover(c.Kind)
			}
		case AnnotFailover:
			if !slices.Contains(model.Failovers, model.Failover(v)) {
				return errorf(k, "want automatic, manual or none", "invalid value %q", v)
			}
			c.Failover, c.FailoverSet = model.Failover(v), true
		case AnnotEntry:
			if strings.EqualFold(v, "true") {
				b.Entry(Entry{Component: component, Pos: pos, Description: "entry point (" + AnnotEntry + ")"})
			}
		case AnnotWorker:
			b.Worker(component, v)
		case AnnotIgnore:
		default:
			hint := "known: " + strings.Join(annotationKeys, ", ")
			if s := model.Closest(k, annotationKeys); s != "" {
				hint = fmt.Sprintf("did you mean %q?", s)
			}
			return errorf(k, hint, "unknown annotation")
		}
	}
	if b.annot == nil {
		b.annot = map[string]*annotations{}
	}
	b.annot[component] = a
	return nil
}

// applyAnnotations adds the annotated edges and marks the optional ones.
func (b *Builder) applyAnnotations() {
	for _, c := range b.components {
		a := b.annot[c.Name]
		if a == nil {
			continue
		}
		for _, t := range a.dependsOn {
			b.Edge(&model.Edge{From: c.Name, To: t, Pos: a.pos})
		}
		for _, e := range c.DependsOn {
			if what, ok := a.fallbacks[e.To]; ok && !e.Degrades() {
				e.Fallback = what
			}
		}
	}
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func joinKinds() string {
	var s []string
	for _, k := range model.Kinds {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}
