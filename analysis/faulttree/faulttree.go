// Package faulttree holds fault trees and the engine that analyses them:
// minimal cut sets (ZBDD, with an order limit), exact top-event
// probability (BDD), bounds (rare event, min-cut upper bound), importance
// measures, and a Monte Carlo cross-check. Trees come from a spof model
// (one per flow) or from Open-PSA MEF files (package mef).
//
// Like the rest of analysis it does no I/O: a Tree is a value.
package faulttree

import "fmt"

// Op is what a gate computes from its arguments.
type Op uint8

// Gate operators.
const (
	And     Op = iota // every argument true
	Or                // at least one argument true
	AtLeast           // at least K arguments true
	Not               // its single argument false
	Null              // passes its single argument through
)

func (o Op) String() string {
	switch o {
	case And:
		return "and"
	case Or:
		return "or"
	case AtLeast:
		return "atleast"
	case Not:
		return "not"
	case Null:
		return "null"
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// ArgKind says what an argument of a gate is.
type ArgKind uint8

// Argument kinds.
const (
	ArgGate  ArgKind = iota // Index is into Tree.Gates
	ArgEvent                // Index is into Tree.Events
	ArgHouse                // Index is into Tree.Houses
)

// Arg is one argument of a gate.
type Arg struct {
	Kind  ArgKind
	Index int32
}

// Gate is a named logic gate.
type Gate struct {
	Name string
	Op   Op
	K    int // AtLeast: how many arguments must be true
	Args []Arg
}

// Event is a basic event. P is its probability (unavailability), valid
// when HasP.
type Event struct {
	Name string
	P    float64
	HasP bool
}

// House is a house event: a constant true or false.
type House struct {
	Name  string
	State bool
}

// Tree is a fault tree: gates over basic and house events, and the gate
// whose failure is the top event. Gates may be shared (a DAG); they must
// not form a cycle.
type Tree struct {
	Name   string
	Top    int32 // index into Gates
	Gates  []Gate
	Events []Event
	Houses []House
}
