package faulttree

import (
	"errors"
	"testing"
	"time"
)

// TestTimeBudget: a diagram that takes longer than its Timeout stops with
// ErrTimeBudget, which is also ErrBudget (callers degrade to bounds on
// either), and says what to raise; a generous one changes nothing.
func TestTimeBudget(t *testing.T) {
	tr := generatedTree(200, 1)
	want, err := CutSets(tr, CutSetOptions{Order: 4, WithProbability: true})
	if err != nil {
		t.Fatal(err)
	}
	// The clock is read every 16,384 node operations: this tree needs
	// more than that, so a nanosecond always runs out.
	_, perr := Probability(tr, Options{Timeout: time.Nanosecond})
	_, cerr := CutSets(tr, CutSetOptions{Timeout: time.Nanosecond})
	_, berr := CutSets(tr, CutSetOptions{Timeout: time.Nanosecond, Method: BDD})
	for _, err := range []error{perr, cerr, berr} {
		if !errors.Is(err, ErrTimeBudget) || !errors.Is(err, ErrBudget) {
			t.Fatalf("error %v: want ErrTimeBudget and ErrBudget", err)
		}
		if !containsAll(err.Error(), "took longer than 1ns", "raise the timeout") {
			t.Errorf("error %q does not say what ran out and what to raise", err)
		}
	}
	got, err := CutSets(tr, CutSetOptions{Order: 4, WithProbability: true, Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if got.Count != want.Count || got.Probability != want.Probability {
		t.Errorf("with an hour: %d sets, P %v; without a timeout: %d, %v", got.Count, got.Probability, want.Count, want.Probability)
	}
}

// TestMaxSets: a listing longer than MaxSets stops before the sets are
// built, with an error saying how many there are.
func TestMaxSets(t *testing.T) {
	tr := generatedTree(200, 1)
	all, err := CutSets(tr, CutSetOptions{Order: 4})
	if err != nil || all.Count < 2 {
		t.Fatalf("%v sets, %v", all.Count, err)
	}
	if _, err := CutSets(tr, CutSetOptions{Order: 4, MaxSets: all.Count}); err != nil {
		t.Errorf("MaxSets = count: %v", err)
	}
	_, err = CutSets(tr, CutSetOptions{Order: 4, MaxSets: all.Count - 1})
	if !errors.Is(err, ErrBudget) || errors.Is(err, ErrTimeBudget) || !containsAll(err.Error(), "MaxSets", "lower order") {
		t.Errorf("MaxSets = count-1: error %v, want ErrBudget saying what to lower or raise", err)
	}
}
