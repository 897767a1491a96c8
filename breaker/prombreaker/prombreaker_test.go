package prombreaker_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/spofhq/spof/breaker"
	"github.com/spofhq/spof/breaker/prombreaker"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	obs, err := prombreaker.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := breaker.New("payments", breaker.Options{
		VolumeThreshold: 2, ErrorThreshold: 50, ResetTimeout: time.Minute,
		Clock: func() time.Time { return now }, Observer: obs,
	})
	obs.Init(b.Name())

	ctx := context.Background()
	ok := func(context.Context) (int, error) { return 1, nil }
	fail := func(context.Context) (int, error) { return 0, errors.New("503") }
	breaker.Do(ctx, b, ok)
	breaker.Do(ctx, b, fail) // 1 failure of 2 calls, 50%: opens
	for range 2 {
		if _, err := breaker.Do(ctx, b, ok); !errors.Is(err, breaker.ErrOpen) {
			t.Fatalf("call while open: %v, want ErrOpen", err)
		}
	}
	now = now.Add(time.Minute)
	breaker.Do(ctx, b, ok) // the half-open trial succeeds: closes

	want := `
# HELP spof_breaker_calls_total Calls through a circuit breaker, by result (success, failure, timeout, canceled, rejected, too_many_trials).
# TYPE spof_breaker_calls_total counter
spof_breaker_calls_total{breaker="payments",result="failure"} 1
spof_breaker_calls_total{breaker="payments",result="rejected"} 2
spof_breaker_calls_total{breaker="payments",result="success"} 2
# HELP spof_breaker_state Circuit breaker state: 1 for the current state (closed, open, half-open), 0 for the others.
# TYPE spof_breaker_state gauge
spof_breaker_state{breaker="payments",state="closed"} 1
spof_breaker_state{breaker="payments",state="half-open"} 0
spof_breaker_state{breaker="payments",state="open"} 0
# HELP spof_breaker_state_changes_total Changes of state of a circuit breaker.
# TYPE spof_breaker_state_changes_total counter
spof_breaker_state_changes_total{breaker="payments",from="closed",to="open"} 1
spof_breaker_state_changes_total{breaker="payments",from="half-open",to="closed"} 1
spof_breaker_state_changes_total{breaker="payments",from="open",to="half-open"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestRegisterTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := prombreaker.New(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := prombreaker.New(reg); err == nil {
		t.Error("registering the metrics twice in one registry: no error")
	}
}
