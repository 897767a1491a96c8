package chaos

import (
	"context"
	"fmt"

	"github.com/spofhq/spof/chaos/inject"
	"github.com/spofhq/spof/model"
)

// InjectorFor returns the injector of x's target binding. dir is the
// model's directory, where command bindings run.
func InjectorFor(m *model.Model, x Experiment, dir string) (Injector, error) {
	c := m.Component(x.Target)
	if c == nil || c.Chaos == nil {
		return nil, fmt.Errorf("%s: %s has no chaos: binding", x.Name, x.Target)
	}
	b := c.Chaos
	switch {
	case b.Proxy != nil:
		return inject.Proxy{API: m.Chaos.ProxyAPIOrDefault(), Proxy: b.Proxy.Name, Toxic: "spof-" + x.Name}, nil
	case b.Process != nil:
		pr := inject.Process{PIDFile: b.Process.PIDFile, PIDCmd: b.Process.PIDCmd, Signal: string(b.Process.Signal), Restart: b.Process.Restart, Dir: dir}
		undo, err := pr.Prepare(context.Background())
		if err != nil {
			return nil, fmt.Errorf("%s: finding the process of %s: %w", x.Name, x.Target, err)
		}
		return processInjector{undo}, nil
	case b.Command != nil:
		return commandInjector{inject.Command{Inject: b.Command.Inject, Restore: b.Command.Restore, Check: b.Command.Check, Dir: dir}}, nil
	case b.IPTables != nil:
		ipt := inject.IPTables{Port: b.IPTables.Port, Netns: b.IPTables.Netns, Action: b.IPTables.Action, Comment: "spof-" + x.Name}
		undo, err := ipt.Prepare()
		if err != nil {
			return nil, fmt.Errorf("%s: the iptables binding of %s: %w", x.Name, x.Target, err)
		}
		return preparedInjector{undo, func(ctx context.Context, _ inject.Undo) error { return ipt.Inject(ctx, inject.Fault{}) }}, nil
	case b.Docker != nil:
		undo, err := inject.Docker{Container: b.Docker.Container, Action: b.Docker.Action, Network: b.Docker.Network}.Prepare(context.Background())
		if err != nil {
			return nil, fmt.Errorf("%s: the docker binding of %s: %w", x.Name, x.Target, err)
		}
		return preparedInjector{undo, inject.InjectDocker}, nil
	case b.Kubectl != nil:
		undo, err := inject.Kubectl{Selector: b.Kubectl.Selector, Namespace: b.Kubectl.Namespace, Action: b.Kubectl.Action}.Prepare(context.Background())
		if err != nil {
			return nil, fmt.Errorf("%s: the kubectl binding of %s: %w", x.Name, x.Target, err)
		}
		return preparedInjector{undo, inject.InjectKubectl}, nil
	}
	return nil, fmt.Errorf("%s: %s has an empty chaos: binding", x.Name, x.Target)
}

// preparedInjector injects what an injector's Prepare found (a container's
// ID, the pods a selector picked), as its undo record says.
type preparedInjector struct {
	undo   inject.Undo
	inject func(context.Context, inject.Undo) error
}

func (pi preparedInjector) Prepare() inject.Undo { return pi.undo }

func (pi preparedInjector) Inject(ctx context.Context, _ inject.Fault) error {
	return pi.inject(ctx, pi.undo)
}

// commandInjector runs a command binding's inject command; the fault is
// whatever the command does.
type commandInjector struct{ c inject.Command }

func (ci commandInjector) Prepare() inject.Undo { return ci.c.Prepare() }

func (ci commandInjector) Inject(ctx context.Context, _ inject.Fault) error { return ci.c.Run(ctx) }

// processInjector signals the process found when the run was planned.
type processInjector struct{ undo inject.Undo }

func (pi processInjector) Prepare() inject.Undo { return pi.undo }

func (pi processInjector) Inject(context.Context, inject.Fault) error {
	return inject.SignalProcess(pi.undo)
}
