// Package probe samples a model.Probe once: an HTTP request, a TCP connect
// or a shell command, judged Up, Degraded or Down. Callers that watch a
// flow over time call Run every Probe.IntervalOrDefault.
//
// It also looks at what a model cannot see from inside: DNS checks a
// domain's name servers (providers, SOA serials) and TLS the certificates
// served at addresses (expiry, chain, host name). Both return reports with
// findings and suggest model components and hazards.
package probe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
)

// DefaultTimeout bounds a sample whose probe sets no MaxLatency. A probe
// with MaxLatency gets twice that, so a slow answer is still seen as slow
// (with its latency) rather than as a timeout.
const DefaultTimeout = 5 * time.Second

// Sizes of what a Result quotes and of what an HTTP probe reads.
const (
	maxBody   = 1 << 20 // response bytes read; a body_contains beyond this is not seen
	maxQuoted = 200     // body bytes (head) or command output bytes (tail) in Detail
)

// A Result is one sample of a probe.
type Result struct {
	State   analysis.State // Up, Degraded or Down
	Detail  string         // why, e.g. "200 OK in 12ms" or "exit status 1: <output>"
	Latency time.Duration  // from the start of the sample to its answer
	At      time.Time      // when the sample started
}

// Options are what Run needs from its caller. The zero value works.
type Options struct {
	// Client sends HTTP probes; nil means a client without keep-alives, so
	// every sample opens its own connection. Run never follows redirects,
	// whichever client it uses: a probe checks one endpoint.
	Client *http.Client
	// Dir is the working directory of command probes; "" means the
	// current directory.
	Dir string
	// Now is the clock for At and Latency; nil means time.Now.
	Now func() time.Time
}

// Run takes one sample of p. It never panics on bad input and always
// returns a Result, Down with the reason on any failure. ctx bounds it, and
// so does a timeout of DefaultTimeout, or 2*p.MaxLatency when that is set.
//
// MaxLatency applies to every kind of probe: a slower sample is Down.
func Run(ctx context.Context, p *model.Probe, opts Options) Result {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	if p == nil {
		return Result{State: analysis.Down, Detail: "no probe", At: start}
	}

	timeout := DefaultTimeout
	if p.MaxLatency > 0 {
		timeout = 2 * p.MaxLatency
	}
	sampleCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var v verdict
	switch kinds := countKinds(p); {
	case kinds == 0:
		v = down("probe sets none of http, tcp and command")
	case kinds > 1:
		v = down("probe sets more than one of http, tcp and command")
	case p.HTTP != "":
		v = runHTTP(sampleCtx, p, opts.Client)
	case p.TCP != "":
		v = runTCP(sampleCtx, p.TCP)
	default:
		v = runCommand(sampleCtx, p.Command, opts.Dir)
	}
	latency := now().Sub(start)

	if v.err != nil {
		v = down(describeErr(ctx, v.err, timeout))
	}
	if v.state != analysis.Down && p.MaxLatency > 0 && latency > p.MaxLatency {
		v = down(fmt.Sprintf("took %s, more than max_latency %s", roundLatency(latency), p.MaxLatency))
	}
	if v.state == analysis.Up {
		v.detail = strings.TrimSpace(v.detail + " in " + roundLatency(latency).String())
	}
	return Result{State: v.state, Detail: v.detail, Latency: latency, At: start}
}

// A verdict is what one kind of probe found. A non-nil err means Down;
// Run words it, since only Run knows whether a deadline was its own.
// Run appends " in <latency>" to the detail of an Up verdict.
type verdict struct {
	state  analysis.State
	detail string
	err    error
}

func down(detail string) verdict { return verdict{state: analysis.Down, detail: detail} }

func countKinds(p *model.Probe) int {
	n := 0
	for _, s := range []string{p.HTTP, p.TCP, p.Command} {
		if s != "" {
			n++
		}
	}
	return n
}

// describeErr words a failure, saying "timed out" when the sample's own
// timeout, not the caller's ctx, ended it.
func describeErr(parent context.Context, err error, timeout time.Duration) string {
	if errors.Is(err, context.DeadlineExceeded) && parent.Err() == nil {
		return fmt.Sprintf("timed out after %s: %v", timeout, err)
	}
	return err.Error()
}

// roundLatency keeps three significant-ish digits: 12ms, 1.2s, 350µs.
func roundLatency(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	default:
		return d.Round(time.Microsecond)
	}
}
