package chaos

import (
	"context"
	"fmt"
	"strings"

	"github.com/spofhq/spof/chaos/inject"
	"github.com/spofhq/spof/model"
)

// An Orphan is a toxic named like spof chaos run's (spof-…) on one of the
// model's proxies that no open journal entry owns: left by a run whose
// journal was lost, emptied by hand, or kept in another state directory.
type Orphan struct {
	API, Proxy, Toxic string
}

func (o Orphan) String() string {
	return fmt.Sprintf("toxic %s on proxy %s (%s)", o.Toxic, o.Proxy, o.API)
}

// Orphans lists the orphan toxics on the proxies of m's proxy bindings.
// Every run journals its toxic before adding it and closes the entry only
// once it is gone, so a toxic of a run on this journal is never an orphan.
func Orphans(ctx context.Context, j FaultJournal, m *model.Model) ([]Orphan, error) {
	entries, err := j.Entries()
	if err != nil {
		return nil, err
	}
	owned := map[Orphan]bool{}
	for _, e := range entries {
		if api, p, t, ok := inject.ProxyToxic(e.Undo); ok {
			owned[Orphan{api, p, t}] = true
		}
	}
	api := m.Chaos.ProxyAPIOrDefault()
	var out []Orphan
	for _, c := range m.Components {
		if c.Chaos == nil || c.Chaos.Proxy == nil {
			continue
		}
		names, err := inject.Toxics(ctx, api, c.Chaos.Proxy.Name)
		if err != nil {
			return nil, fmt.Errorf("looking for orphan toxics: %w", err)
		}
		for _, n := range names {
			if o := (Orphan{api, c.Chaos.Proxy.Name, n}); strings.HasPrefix(n, ToxicPrefix) && !owned[o] {
				out = append(out, o)
			}
		}
	}
	return out, nil
}

// RemoveOrphan removes o's toxic and checks it is gone.
func RemoveOrphan(ctx context.Context, o Orphan) error {
	u := inject.Proxy{API: o.API, Proxy: o.Proxy, Toxic: o.Toxic}.Undo()
	if err := inject.Restore(ctx, u); err != nil {
		return err
	}
	if on, err := inject.Active(ctx, u); err != nil || on {
		return fmt.Errorf("%s still in place after its removal (%v)", o, err)
	}
	return nil
}
