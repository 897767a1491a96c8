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
	}
	return nil, fmt.Errorf("%s: the %s binding of %s is not supported by spof chaos run yet (proxy, process and command are)", x.Name, b.Kind(), x.Target)
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
