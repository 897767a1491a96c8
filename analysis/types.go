package analysis

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spofhq/spof/model"
)

// EventKind is the kind of a basic event: what can fail on its own.
type EventKind uint8

// Event kinds, in the order reports list them when nothing else ranks them.
const (
	EventComponent EventKind = iota // component:X, a component with one replica
	EventInstance                   // instance:X/i, replica i of a replicated component
	EventZone                       // zone:Z
	EventRegion                     // region:R
	EventProvider                   // provider:P
	EventHazard                     // hazard:H
	EventPerson                     // person:P
)

var eventKindNames = [...]string{"component", "instance", "zone", "region", "provider", "hazard", "person"}

func (k EventKind) String() string {
	if int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return "event(" + strconv.Itoa(int(k)) + ")"
}

// Event is a basic event. Instance is the replica index for EventInstance.
type Event struct {
	Kind     EventKind
	Name     string
	Instance int
}

// String formats the event as in reports and on the command line:
// component:X, instance:X/i, zone:Z, region:R, provider:P, hazard:H, person:P.
func (e Event) String() string {
	if e.Kind == EventInstance {
		return "instance:" + e.Name + "/" + strconv.Itoa(e.Instance)
	}
	return e.Kind.String() + ":" + e.Name
}

// ParseEvent parses the String form of an event. It checks the syntax only;
// Resolve checks that the event names something in a model.
func ParseEvent(s string) (Event, error) {
	kind, name, ok := strings.Cut(s, ":")
	if !ok || name == "" {
		return Event{}, fmt.Errorf("event %q: want KIND:NAME, e.g. component:redis, instance:app/0, zone:us-east-1a, region:R, provider:P, hazard:H or person:P", s)
	}
	for i, n := range eventKindNames {
		if n != kind {
			continue
		}
		e := Event{Kind: EventKind(i), Name: name}
		if e.Kind == EventInstance {
			comp, idx, ok := strings.Cut(name, "/")
			n, err := strconv.Atoi(idx)
			if !ok || comp == "" || err != nil || n < 0 {
				return Event{}, fmt.Errorf("event %q: want instance:COMPONENT/INDEX with INDEX counted from 0, e.g. instance:app/0", s)
			}
			e.Name, e.Instance = comp, n
		}
		return e, nil
	}
	return Event{}, fmt.Errorf("event %q: unknown kind %q (want one of %s)", s, kind, strings.Join(eventKindNames[:], ", "))
}

// State is the state of a component or a flow under some failures.
type State uint8

// States, best first, so that the worse of two states is the larger.
const (
	Up State = iota
	Degraded
	Down
)

func (s State) String() string {
	switch s {
	case Up:
		return "up"
	case Degraded:
		return "degraded"
	case Down:
		return "down"
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText encodes the state as "up", "degraded" or "down".
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads what MarshalText writes, for records read back (the
// chaos history).
func (s *State) UnmarshalText(b []byte) error {
	for _, c := range []State{Up, Degraded, Down} {
		if c.String() == string(b) {
			*s = c
			return nil
		}
	}
	return fmt.Errorf("invalid flow state %q (want up, degraded or down)", b)
}

// Category says what kind of single point of failure a finding is.
type Category string

// Finding categories. See docs/model.md.
const (
	CategorySPOF        Category = "spof"        // stops a flow
	CategoryDegradation Category = "degradation" // stops no flow, degrades one
	CategoryRecovery    Category = "recovery"    // blocks start-up, deploy or recovery
	CategoryOperational Category = "operational" // a person with bus factor 1
)

// Categories lists the categories in rank order.
var Categories = []Category{CategorySPOF, CategoryRecovery, CategoryOperational, CategoryDegradation}

func (c Category) rank() int {
	for i, x := range Categories {
		if x == c {
			return i
		}
	}
	return len(Categories)
}

// Finding is one basic event that hurts at least one flow, explained.
//
// Its JSON form is a stable contract: see docs/json.md.
type Finding struct {
	// ID is a stable hash of the event and the sorted flow names, so a
	// baseline can recognise the same finding in a later run.
	ID       string            `json:"id"`
	Event    string            `json:"event"`
	Category Category          `json:"category"`
	Severity model.Criticality `json:"severity"`
	Flows    []string          `json:"flows"` // sorted
	// Components are the blast radius: every component not up when the
	// event happens, sorted, the first MaxComponents of them (for
	// operational: the components only that person knows); BlastRadius
	// counts them all.
	Components  []string `json:"components"`
	BlastRadius int      `json:"blast_radius"`
	Chain       []string `json:"chain"` // human-readable steps; the last names a flow
	Fix         string   `json:"fix"`
	// Location is where the event is declared in the model (for SARIF).
	Location model.Pos `json:"location"`
}

// Status is the outcome of a checklist item.
type Status string

// Checklist statuses.
const (
	Pass    Status = "pass"
	Fail    Status = "fail"
	Unknown Status = "unknown"
)

// ChecklistItem is one of the seven items of the SPOF elimination checklist.
type ChecklistItem struct {
	Item     int      `json:"item"` // 1–7
	Title    string   `json:"title"`
	Status   Status   `json:"status"`
	Evidence []string `json:"evidence"`
}

// FlowSummary describes one flow for reports: its dependency chain as the
// model declares it, and its state with nothing failed.
type FlowSummary struct {
	Name        string            `json:"name"`
	Criticality model.Criticality `json:"criticality"`
	Steps       []string          `json:"steps"`
	// Dependencies lists every component the flow needs while running,
	// in the order a depth-first walk from its steps meets them.
	Dependencies []string `json:"dependencies"`
	SPOFs        int      `json:"spofs"` // findings of category spof that stop it
}

// Result is what `spof check` reports.
type Result struct {
	System    string          `json:"system"`
	Flows     []FlowSummary   `json:"flows"`
	Findings  []Finding       `json:"findings"`
	Checklist []ChecklistItem `json:"checklist"`
}

// FlowOutcome is a flow's state under a set of failures, and why.
type FlowOutcome struct {
	Flow        string            `json:"flow"`
	Criticality model.Criticality `json:"criticality"`
	State       State             `json:"state"`
	Chain       []string          `json:"chain,omitempty"` // why it is not up
}

// Impact is the effect of one component's loss: its blast radius.
type Impact struct {
	Component string `json:"component"`
	// Dependents are the components that need it, directly or not, with the
	// state each is left in when it is down.
	Dependents []DependentImpact `json:"dependents"`
	Flows      []FlowOutcome     `json:"flows"`
	// NeededFor lists the components that need it only to start, deploy or
	// recover (when: edges), as "app (startup)".
	NeededFor []string `json:"needed_for,omitempty"`
}

// DependentImpact is one component in a blast radius.
type DependentImpact struct {
	Component string `json:"component"`
	State     State  `json:"state"`
	Via       string `json:"via"` // the edge: "app → session-redis (fallback to postgres)"
}
