package chaos

import (
	"context"
	"fmt"

	"github.com/spofhq/spof/chaos/inject"
	"github.com/spofhq/spof/model"
)

// An Injector is how a binding puts a fault in. Prepare runs just before
// the fault, after the steady state holds: it finds what the fault acts on
// (a pid, a container, the pods a selector picks) and describes how to
// undo it, for the journal. Inject then puts in the fault that record
// describes. Taking it out goes through the journalled record
// (inject.Restore), the same path as recovery.
type Injector struct {
	Prepare func(ctx context.Context) (inject.Undo, error)
	Inject  func(ctx context.Context, u inject.Undo, f inject.Fault) error
}

// ToxicPrefix starts the name of every toxic spof chaos run adds, so that
// spof chaos recover --orphans can tell them from others.
const ToxicPrefix = "spof-"

// ProxyInjector injects faults as toxics on a proxy of the fault proxy,
// once Check finds it as the model describes it.
func ProxyInjector(p inject.Proxy) Injector {
	return Injector{
		Prepare: func(ctx context.Context) (inject.Undo, error) { return p.Prepare(), p.Check(ctx) },
		Inject:  func(ctx context.Context, _ inject.Undo, f inject.Fault) error { return p.Inject(ctx, f) },
	}
}

// InjectorFor returns the injector of x's target binding for the run
// runID. dir is the model's directory, where command bindings run. A
// proxy fault's toxic is named spof-<experiment>-<run ID>: unique per
// run, so that a run's restore removes its own toxic and never another's. Only proxy bindings tell
// the faults apart; the others put in their binding's action.
func InjectorFor(m *model.Model, x Experiment, dir, runID string) (Injector, error) {
	c := m.Component(x.Target)
	if c == nil || c.Chaos == nil {
		return Injector{}, fmt.Errorf("%s: %s has no chaos: binding", x.Name, x.Target)
	}
	b := c.Chaos
	switch {
	case b.Proxy != nil:
		return ProxyInjector(inject.Proxy{API: m.Chaos.ProxyAPIOrDefault(), Proxy: b.Proxy.Name, Toxic: ToxicPrefix + x.Name + "-" + runID,
			Listen: b.Proxy.Listen, Upstream: b.Proxy.Upstream}), nil
	case b.Process != nil:
		pr := inject.Process{PIDFile: b.Process.PIDFile, PIDCmd: b.Process.PIDCmd, Signal: string(b.Process.Signal), Restart: b.Process.Restart, Dir: dir}
		return Injector{
			Prepare: pr.Prepare,
			Inject:  func(_ context.Context, u inject.Undo, _ inject.Fault) error { return inject.SignalProcess(u) },
		}, nil
	case b.Command != nil:
		cmd := inject.Command{Inject: b.Command.Inject, Restore: b.Command.Restore, Check: b.Command.Check, Dir: dir}
		return Injector{
			Prepare: func(context.Context) (inject.Undo, error) { return cmd.Prepare(), nil },
			Inject:  func(ctx context.Context, _ inject.Undo, _ inject.Fault) error { return cmd.Run(ctx) },
		}, nil
	case b.IPTables != nil:
		ipt := inject.IPTables{Port: b.IPTables.Port, Netns: b.IPTables.Netns, Action: b.IPTables.Action, Comment: "spof-" + x.Name}
		return Injector{
			Prepare: func(context.Context) (inject.Undo, error) { return ipt.Prepare() },
			Inject:  func(ctx context.Context, _ inject.Undo, f inject.Fault) error { return ipt.Inject(ctx, f) },
		}, nil
	case b.Docker != nil:
		d := inject.Docker{Container: b.Docker.Container, Action: b.Docker.Action, Network: b.Docker.Network}
		return Injector{Prepare: d.Prepare, Inject: ignoreFault(inject.InjectDocker)}, nil
	case b.Kubectl != nil:
		k := inject.Kubectl{Selector: b.Kubectl.Selector, Namespace: b.Kubectl.Namespace, Action: b.Kubectl.Action}
		return Injector{Prepare: k.Prepare, Inject: ignoreFault(inject.InjectKubectl)}, nil
	}
	return Injector{}, fmt.Errorf("%s: %s has an empty chaos: binding", x.Name, x.Target)
}

// ignoreFault adapts an injector that puts in what its undo record says.
func ignoreFault(fn func(context.Context, inject.Undo) error) func(context.Context, inject.Undo, inject.Fault) error {
	return func(ctx context.Context, u inject.Undo, _ inject.Fault) error { return fn(ctx, u) }
}
