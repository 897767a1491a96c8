package chaos

import (
	"context"
	"fmt"
	"time"
)

// MaxTTLFunc returns the longest the fault proxy whose API is at api lets
// a fault live (0: no cap), as its API reports it.
type MaxTTLFunc func(ctx context.Context, api string) (time.Duration, error)

// CheckTTL refuses, before anything is injected, experiments whose fault
// must last longer than the proxy at api lets it live: their toxic would
// be gone before the end, and the run would judge the model on samples
// taken without the fault. A fault must last its settle, duration and
// recovery window. Only proxy faults have such a cap; an error asking for
// it is left to the run itself, which reports the proxy unreachable.
func CheckTTL(ctx context.Context, xs []Experiment, api string, opts RunOptions, maxTTL MaxTTLFunc) error {
	if maxTTL == nil {
		return nil
	}
	needs := opts.Settle + opts.Duration + opts.Recovery
	for _, x := range xs {
		if x.Injector != "proxy" {
			continue
		}
		limit, err := maxTTL(ctx, api)
		if err != nil || limit == 0 || needs <= limit {
			return nil
		}
		return fmt.Errorf("%s: the fault must last %v (--settle %v + --duration %v + --recovery %v), but the proxy at %s removes every fault after %v (its --max-ttl): shorten the run, or restart the proxy with a longer --max-ttl",
			x.Name, needs, opts.Settle, opts.Duration, opts.Recovery, api, limit)
	}
	return nil
}
