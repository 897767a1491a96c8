package chaos

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/chaos/inject"
	"github.com/spofhq/spof/model"
)

func shopModel(t *testing.T) *model.Model {
	t.Helper()
	data, err := os.ReadFile("testdata/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Parse("testdata/shop.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// states renders predicted flow states as "flow=state ...".
func states(outs []analysis.FlowOutcome) string {
	var b strings.Builder
	for _, o := range outs {
		b.WriteString(o.Flow + "=" + o.State.String() + " ")
	}
	return strings.TrimSpace(b.String())
}

func TestPlan(t *testing.T) {
	m := shopModel(t)
	xs, err := Plan(m, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		injector, states, exercises string
	}{
		// Sessions fall back to postgres: degraded, not down.
		"session-redis-down": {"proxy", "login=degraded browse=degraded checkout=degraded submit=up",
			"shop → session-redis (fallback to postgres)"},
		"payments-down": {"proxy", "login=up browse=up checkout=degraded submit=up",
			"shop → payments (fallback: order accepted as pending_payment, charged later)"},
		// Needed at start-up only, says the model: every flow up. (The
		// shop's planted dependency makes this prediction wrong.)
		"config-down": {"command", "login=up browse=up checkout=up submit=up", ""},
	}
	if len(xs) != len(want) {
		t.Fatalf("plan has %d experiments, want %d: %+v", len(xs), len(want), xs)
	}
	for _, x := range xs {
		w, ok := want[x.Name]
		if !ok {
			t.Errorf("unexpected experiment %s", x.Name)
			continue
		}
		if x.Injector != w.injector || states(x.Predicted) != w.states || strings.Join(x.Exercises, "; ") != w.exercises {
			t.Errorf("%s: injector %s, predicted %q, exercises %q; want %s, %q, %q",
				x.Name, x.Injector, states(x.Predicted), x.Exercises, w.injector, w.states, w.exercises)
		}
	}
}

func TestPlanOptions(t *testing.T) {
	m := shopModel(t)
	xs, err := Plan(m, PlanOptions{Target: "payments", Faults: []inject.Fault{{Kind: inject.Blackhole}, {Kind: inject.Reset}}})
	if err != nil || len(xs) != 2 || xs[0].Name != "payments-blackhole" || xs[1].Name != "payments-reset" {
		t.Fatalf("Plan = %+v, %v", xs, err)
	}
	for _, tc := range []struct {
		opts PlanOptions
		want string
	}{
		{PlanOptions{Target: "paymnts"}, `--target paymnts: no such component (did you mean "payments"?)`},
		{PlanOptions{Target: "postgres"}, "--target postgres: the component has no chaos: binding"},
		{PlanOptions{Faults: []inject.Fault{{Kind: inject.Bandwidth, Rate: 10}}}, "fault bandwidth:10KB/s: the model cannot predict its effect (it predicts down, blackhole, reset, latency)"},
	} {
		if _, err := Plan(m, tc.opts); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Plan(%+v): %v, want %q", tc.opts, err, tc.want)
		}
	}
}

func TestPlanLatency(t *testing.T) {
	m := shopModel(t)
	xs, err := Plan(m, PlanOptions{Target: "payments", Faults: []inject.Fault{{Kind: inject.Latency, Latency: time.Second}, {Kind: inject.Latency, Latency: 3 * time.Second}}})
	if err != nil || len(xs) != 2 {
		t.Fatalf("Plan = %+v, %v", xs, err)
	}
	// Under the breaker's 2s timeout checkout waits; over it, the fallback
	// takes over, and the experiment exercises it.
	if xs[0].Name != "payments-latency-1s" || !strings.Contains(states(xs[0].Predicted), "checkout=up") || xs[0].Exercises != nil {
		t.Errorf("1s: %s %v %v", xs[0].Name, states(xs[0].Predicted), xs[0].Exercises)
	}
	if xs[1].Name != "payments-latency-3s" || !strings.Contains(states(xs[1].Predicted), "checkout=degraded") || len(xs[1].Edges) != 1 || xs[1].Edges[0] != "shop → payments" {
		t.Errorf("3s: %s %v %v", xs[1].Name, states(xs[1].Predicted), xs[1].Edges)
	}
	if xs[1].fault.Latency != 3*time.Second {
		t.Errorf("fault spec %+v", xs[1].fault)
	}
}

func TestParseFault(t *testing.T) {
	good := map[string]inject.Fault{
		"down":            {Kind: inject.Down},
		"blackhole":       {Kind: inject.Blackhole},
		"reset":           {Kind: inject.Reset},
		"latency:500ms":   {Kind: inject.Latency, Latency: 500 * time.Millisecond},
		"slow_close:1s":   {Kind: inject.SlowClose, Delay: time.Second},
		"bandwidth:64":    {Kind: inject.Bandwidth, Rate: 64},
		"limit_data:1024": {Kind: inject.LimitData, Bytes: 1024},
	}
	for s, want := range good {
		f, err := ParseFault(s)
		if err != nil || f != want {
			t.Errorf("ParseFault(%q) = %+v, %v; want %+v", s, f, err, want)
		}
		if f.String() != s && !strings.HasPrefix(s, "bandwidth") && !strings.HasPrefix(s, "limit_data") {
			t.Errorf("%+v.String() = %q, want %q", f, f.String(), s)
		}
	}
	bad := map[string]string{
		"dwon":           `unknown fault "dwon" (did you mean "down"?)`,
		"flood":          `unknown fault "flood" (want one of: down, blackhole, reset, latency, bandwidth, slow_close, limit_data)`,
		"down:5s":        `fault "down:5s": down takes no argument`,
		"latency":        `fault "latency": want a positive duration (e.g. latency:500ms)`,
		"latency:-1s":    `fault "latency:-1s": want a positive duration (e.g. latency:500ms)`,
		"latency:1ns":    `fault "latency:1ns": want whole milliseconds, the proxy's resolution (1ns would be injected as 0s) (e.g. latency:500ms)`,
		"latency:1.5ms":  `fault "latency:1.5ms": want whole milliseconds, the proxy's resolution (1.5ms would be injected as 1ms) (e.g. latency:500ms)`,
		"slow_close:25h": `fault "slow_close:25h": want at most 24h, the proxy's limit (e.g. slow_close:500ms)`,
		"bandwidth:0":    `fault "bandwidth:0": want a positive whole number (e.g. bandwidth:64)`,
		"limit_data:1k":  `fault "limit_data:1k": want a positive whole number (e.g. limit_data:64)`,
	}
	for s, want := range bad {
		if _, err := ParseFault(s); err == nil || err.Error() != want {
			t.Errorf("ParseFault(%q) = %v, want %q", s, err, want)
		}
	}
}
