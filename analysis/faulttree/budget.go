package faulttree

import (
	"errors"
	"fmt"
	"time"
)

// ErrBudget is returned (wrapped, saying what to raise) when an analysis
// needs more decision-diagram nodes than its budget allows, or more time
// (then the error is also ErrTimeBudget).
var ErrBudget = errors.New("budget exceeded")

// ErrTimeBudget is returned (wrapped) when building a decision diagram
// takes longer than its Timeout. errors.Is(err, ErrBudget) holds for it
// too: callers that degrade to bounds need not tell the two apart.
var ErrTimeBudget error = timeBudgetError{}

type timeBudgetError struct{}

func (timeBudgetError) Error() string        { return "time budget exceeded" }
func (timeBudgetError) Is(target error) bool { return target == ErrBudget }

// DefaultMaxNodes is the node budget when none is given: about 350 MB of
// decision diagram (CEA9601's BDD has 4.5M nodes).
const DefaultMaxNodes = 1 << 23

// budget bounds one decision diagram: its number of nodes, and the time to
// build it. Its memory is bounded by the nodes: the unique table and the
// computed table grow with the node table, the latter up to 4M entries.
type budget struct {
	maxNodes int
	timeout  time.Duration // 0: none
	deadline time.Time
	ticks    uint32
	late     bool // the deadline passed (and the diagram is over budget)
}

func newBudget(maxNodes int, timeout time.Duration) budget {
	if maxNodes <= 0 {
		maxNodes = DefaultMaxNodes
	}
	g := budget{maxNodes: maxNodes, timeout: timeout}
	if timeout > 0 {
		g.deadline = time.Now().Add(timeout)
	}
	return g
}

// expired is called once per node operation; it looks at the clock every
// 16,384 calls (well under a millisecond of work).
func (g *budget) expired() bool {
	g.ticks++
	if g.ticks&(1<<14-1) != 0 || g.timeout <= 0 {
		return false
	}
	if time.Now().After(g.deadline) {
		g.late = true
	}
	return g.late
}

// exceeded is the error of a diagram over budget: what ran out, and what
// to raise.
func (g *budget) exceeded(what string, name string, lower string) error {
	if g.late {
		return fmt.Errorf("%s of %q: building the decision diagram took longer than %v: %w (raise the timeout, or %s)", what, name, g.timeout, ErrTimeBudget, lower)
	}
	return fmt.Errorf("%s of %q: more than %d decision-diagram nodes: %w (raise MaxNodes, or %s)", what, name, g.maxNodes, ErrBudget, lower)
}
