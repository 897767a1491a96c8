package chaos

import (
	"context"
	"fmt"

	"github.com/spofhq/spof/chaos/inject"
	"github.com/spofhq/spof/model"
)

// An Injector is how a binding puts a fault in. Prepare runs just before
// the fault, after the steady state holds: it finds what the fault acts on
// (a pid, a container, the pods a selector picks, the proxy as the model
// describes it) and describes how to undo it, for the journal. Inject then
// puts in the fault that record describes; bindings that have one action
// (all but the proxy) put in theirs whatever f says. Taking it out, and
// checking that it is still in place, go through the journalled record
// (inject.Restore, inject.Present), the same path as recovery.
type Injector interface {
	Prepare(ctx context.Context) (inject.Undo, error)
	Inject(ctx context.Context, u inject.Undo, f inject.Fault) error
}

// Every injector of chaos/inject is one.
var (
	_ Injector = inject.Proxy{}
	_ Injector = inject.Process{}
	_ Injector = inject.Command{}
	_ Injector = inject.IPTables{}
	_ Injector = inject.Docker{}
	_ Injector = inject.Kubectl{}
)

// ToxicPrefix starts the name of every toxic spof chaos run adds, so that
// spof chaos recover --orphans can tell them from others.
const ToxicPrefix = "spof-"

// InjectorFor returns the injector of x's target binding for the run
// runID. dir is the model's directory, where command bindings run. A
// proxy fault's toxic, and an iptables rule's comment, are named
// spof-<experiment>-<run ID>: unique per run, so that a run's restore
// removes its own fault and never another's.
// Only proxy bindings tell the faults apart; the others put in their
// binding's action.
func InjectorFor(m *model.Model, x Experiment, dir, runID string) (Injector, error) {
	c := m.Component(x.Target)
	if c == nil || c.Chaos == nil {
		return nil, fmt.Errorf("%s: %s has no chaos: binding", x.Name, x.Target)
	}
	b := c.Chaos
	switch {
	case b.Proxy != nil:
		return inject.Proxy{API: m.Chaos.ProxyAPIOrDefault(), Proxy: b.Proxy.Name, Toxic: ToxicPrefix + x.Name + "-" + runID,
			Listen: b.Proxy.Listen, Upstream: b.Proxy.Upstream}, nil
	case b.Process != nil:
		return inject.Process{PIDFile: b.Process.PIDFile, PIDCmd: b.Process.PIDCmd, Signal: string(b.Process.Signal), Restart: b.Process.Restart, Dir: dir}, nil
	case b.Command != nil:
		return inject.Command{InjectCmd: b.Command.Inject, RestoreCmd: b.Command.Restore, CheckCmd: b.Command.Check, Dir: dir}, nil
	case b.IPTables != nil:
		return inject.IPTables{Port: b.IPTables.Port, Netns: b.IPTables.Netns, Action: b.IPTables.Action, Comment: ToxicPrefix + x.Name + "-" + runID}, nil
	case b.Docker != nil:
		return inject.Docker{Container: b.Docker.Container, Action: b.Docker.Action, Network: b.Docker.Network}, nil
	case b.Kubectl != nil:
		return inject.Kubectl{Selector: b.Kubectl.Selector, Namespace: b.Kubectl.Namespace, Action: b.Kubectl.Action}, nil
	}
	return nil, fmt.Errorf("%s: %s has an empty chaos: binding", x.Name, x.Target)
}
