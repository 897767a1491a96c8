//go:build linux

package chaos

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/internal/netnstest"
	"github.com/spofhq/spof/model"
)

// TestIPTablesExperiment runs a whole experiment through an iptables
// binding, from the model: a service in a network namespace of the test's
// own needs a dependency on a port there; the plan predicts the flow down
// when the dependency is, the run rejects the port, observes the flow
// down, removes the rule, and sees it up again.
func TestIPTablesExperiment(t *testing.T) {
	ns := netnstest.New(t)
	port := netnstest.EchoServer(t, ns)
	src := fmt.Sprintf(`version: 1
system: lab
environment: test
components:
  app: {kind: service, depends_on: [dep]}
  dep:
    kind: database
    chaos: {iptables: {port: %d, netns: %s, action: reject}}
flows:
  use: {criticality: high, steps: [app], probe: {tcp: "127.0.0.1:%d"}}
`, port, ns, port)
	m, err := model.Parse("lab.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	x, err := PlanExperiment(m, "dep-down")
	if err != nil {
		t.Fatal(err)
	}
	if x.Injector != "iptables" || x.Predicted[0].State != analysis.Down {
		t.Fatalf("plan: %+v", x)
	}
	inj, err := InjectorFor(m, x, t.TempDir(), "run1")
	if err != nil {
		t.Fatal(err)
	}
	// The flow's probe, inside the namespace: the rule is there.
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	probe := func(ctx context.Context, flow string) Sample {
		s := Sample{State: analysis.Up, At: time.Now()}
		if err := netnstest.Echo(ns, addr, 300*time.Millisecond); err != nil {
			s.State, s.Detail = analysis.Down, err.Error()
		}
		return s
	}
	j, err := OpenJournal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	res := Run(context.Background(), x, inj, probe, []string{"use"}, j, quick)
	if res.Verdict != Passed || res.Flows[0].Observed != analysis.Down {
		t.Fatalf("verdict %s (%s), flows %+v", res.Verdict, res.Reason, res.Flows)
	}
	if rules := netnstest.Run(t, "ip", "netns", "exec", ns, "iptables", "-S", "INPUT"); strings.Contains(rules, "spof-dep-down") {
		t.Errorf("rule left after the experiment:\n%s", rules)
	}
	if es, _ := j.Entries(); len(es) != 0 {
		t.Errorf("journal entries left: %+v", es)
	}
}
