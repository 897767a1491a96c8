// Package inject holds the injectors that put faults into running
// systems and take them out again: through spof's fault proxy, or with
// shell commands. Each injector can describe how to undo its fault
// before it injects it, so that the description is journalled first and
// another process can restore after a crash.
package inject

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Fault kinds, as spof.yaml and `spof chaos plan --fault` name them.
const (
	Down      = "down"      // the dependency refuses and cuts connections
	Blackhole = "blackhole" // it accepts but never answers
	Latency   = "latency"   // it answers late
	Reset     = "reset"     // it resets connections (TCP RST)
	Bandwidth = "bandwidth" // it answers slowly
	SlowClose = "slow_close"
	LimitData = "limit_data" // it cuts connections after some bytes
)

// A Fault is what to do to a dependency.
type Fault struct {
	Kind    string
	Latency time.Duration // Latency
	Jitter  time.Duration // Latency
	Rate    int64         // Bandwidth, KB/s
	Bytes   int64         // LimitData
	Delay   time.Duration // SlowClose
	// TTL bounds the fault where the injector can (the proxy removes it by
	// itself after TTL): a dead man's switch for when nobody restores.
	TTL time.Duration
}

func (f Fault) String() string {
	switch f.Kind {
	case Latency:
		if f.Jitter > 0 {
			return fmt.Sprintf("latency:%v±%v", f.Latency, f.Jitter)
		}
		return fmt.Sprintf("latency:%v", f.Latency)
	case Bandwidth:
		return fmt.Sprintf("bandwidth:%dKB/s", f.Rate)
	case LimitData:
		return fmt.Sprintf("limit_data:%dB", f.Bytes)
	case SlowClose:
		return fmt.Sprintf("slow_close:%v", f.Delay)
	}
	return f.Kind
}

// An Undo is a journalled record of how to take a fault out: the kind of
// injector and its own data.
type Undo struct {
	Injector string          `json:"injector"`
	Data     json.RawMessage `json:"data"`
}

// Restore takes out the fault that u describes, from any process: it is
// what `spof chaos recover` calls. Restoring a fault that is already gone
// succeeds.
func Restore(ctx context.Context, u Undo) error {
	d, err := decodeUndo(u)
	if err != nil {
		return err
	}
	return d.restore(ctx)
}

// Active reports whether the fault that u describes is still in place.
func Active(ctx context.Context, u Undo) (bool, error) {
	d, err := decodeUndo(u)
	if err != nil {
		return false, err
	}
	return d.active(ctx)
}

// Present reports whether the fault that u describes is still in place,
// as far as its injector can tell, for the check that runs with every
// sample: unlike Active it answers true when the injector cannot tell (a
// command binding without a check command), so that only a fault seen gone
// ends an experiment as lost.
func Present(ctx context.Context, u Undo) (bool, error) {
	d, err := decodeUndo(u)
	if err != nil {
		return false, err
	}
	if b, ok := d.(interface{ blind() bool }); ok && b.blind() {
		return true, nil
	}
	return d.active(ctx)
}

// Heals reports whether the fault u describes is one the system may end
// by itself, as a real one would be: pods deleted are replaced by their
// controller, a killed process may be restarted by its supervisor. Its
// going away during an experiment is then the system at work, not a lost
// fault.
func Heals(u Undo) bool {
	d, err := decodeUndo(u)
	if err != nil {
		return false
	}
	h, ok := d.(interface{ heals() bool })
	return ok && h.heals()
}

// RestoreTimeout is how long restoring u may take, retries included:
// 30s, or 5 minutes for kubectl, whose restore waits for the replacement
// pods to be Ready. spof chaos run and spof chaos recover both allow it.
func RestoreTimeout(u Undo) time.Duration {
	if u.Injector == "kubectl" {
		return 5 * time.Minute
	}
	return 30 * time.Second
}

// undoer is an injector's undo record, decoded.
type undoer interface {
	restore(ctx context.Context) error
	active(ctx context.Context) (bool, error)
}

// ErrBadUndo: the undo record cannot be read (an injector this spof does
// not know, data that does not parse). Retrying cannot help: a human must
// restore the fault it describes.
var ErrBadUndo = errors.New("unusable undo record")

func decodeUndo(u Undo) (undoer, error) {
	var d undoer
	switch u.Injector {
	case "proxy":
		d = &proxyUndo{}
	case "command":
		d = &commandUndo{}
	case "process":
		d = &processUndo{}
	case "iptables":
		d = &iptablesUndo{}
	case "docker":
		d = &dockerUndo{}
	case "kubectl":
		d = &kubectlUndo{}
	default:
		return nil, fmt.Errorf("%w: unknown injector %q (this spof knows proxy, command, process, iptables, docker, kubectl)", ErrBadUndo, u.Injector)
	}
	if err := json.Unmarshal(u.Data, d); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadUndo, u.Injector, err)
	}
	return d, nil
}

func marshalUndo(injector string, v any) Undo {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs of strings: cannot fail
	}
	return Undo{Injector: injector, Data: data}
}
