package prombreaker_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/spofhq/spof/breaker"
	"github.com/spofhq/spof/breaker/prombreaker"
)

func newObserver(t *testing.T) (*prombreaker.Observer, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	obs, err := prombreaker.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	return obs, reg
}

// stateGauge is the exposition of spof_breaker_state, its lines given as
// "breaker,state value".
func stateGauge(lines ...string) string {
	var b strings.Builder
	b.WriteString("# HELP spof_breaker_state Circuit breaker state: 1 for the current state (closed, open, half-open), 0 for the others.\n")
	b.WriteString("# TYPE spof_breaker_state gauge\n")
	for _, l := range lines {
		labels, value, _ := strings.Cut(l, " ")
		name, state, _ := strings.Cut(labels, ",")
		b.WriteString(`spof_breaker_state{breaker="` + name + `",state="` + state + `"} ` + value + "\n")
	}
	return b.String()
}

func TestMetrics(t *testing.T) {
	obs, reg := newObserver(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := breaker.New("payments", breaker.Options{
		VolumeThreshold: 2, ErrorThreshold: 50, ResetTimeout: time.Minute,
		Clock: func() time.Time { return now }, Observer: obs,
	})
	// Before its first call, the new breaker shows as closed.
	closed := stateGauge("payments,closed 1", "payments,half-open 0", "payments,open 0")
	if err := testutil.GatherAndCompare(reg, strings.NewReader(closed), "spof_breaker_state"); err != nil {
		t.Error(err)
	}

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
	open := stateGauge("payments,closed 0", "payments,half-open 0", "payments,open 1")
	if err := testutil.GatherAndCompare(reg, strings.NewReader(open), "spof_breaker_state"); err != nil {
		t.Error(err)
	}
	now = now.Add(time.Minute)
	breaker.Do(ctx, b, ok) // the half-open trial succeeds: closes

	want := `
# HELP spof_breaker_calls_total Calls through a circuit breaker, by result (success, failure, timeout, canceled, rejected, too_many_trials).
# TYPE spof_breaker_calls_total counter
spof_breaker_calls_total{breaker="payments",result="failure"} 1
spof_breaker_calls_total{breaker="payments",result="rejected"} 2
spof_breaker_calls_total{breaker="payments",result="success"} 2
# HELP spof_breaker_state_changes_total Changes of state of a circuit breaker.
# TYPE spof_breaker_state_changes_total counter
spof_breaker_state_changes_total{breaker="payments",from="closed",to="open"} 1
spof_breaker_state_changes_total{breaker="payments",from="half-open",to="closed"} 1
spof_breaker_state_changes_total{breaker="payments",from="open",to="half-open"} 1
` + closed
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// A state change reported late, after a later one, does not leave the gauge
// showing the older state.
func TestStateGaugeIgnoresLateEvents(t *testing.T) {
	obs, reg := newObserver(t)
	b := breaker.New("payments", breaker.Options{Observer: obs})
	// As if the goroutine that opened the breaker was descheduled before
	// reporting it, while another closed it again and reported first.
	obs.OnStateChange(b.Name(), breaker.StateHalfOpen, breaker.StateClosed)
	obs.OnStateChange(b.Name(), breaker.StateClosed, breaker.StateOpen)
	want := stateGauge("payments,closed 1", "payments,half-open 0", "payments,open 0")
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "spof_breaker_state"); err != nil {
		t.Error(err)
	}
}

// The per-host breakers a Transport creates show in the gauge.
func TestTransportBreakers(t *testing.T) {
	obs, reg := newObserver(t)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: &breaker.Transport{Base: base, Options: breaker.Options{VolumeThreshold: 1, Observer: obs}}}
	for _, u := range []string{down.URL, up.URL} {
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	host := func(u string) string {
		parsed, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		return parsed.Host
	}
	downHost, upHost := host(down.URL), host(up.URL)
	want := stateGauge(downHost+",closed 0", downHost+",half-open 0", downHost+",open 1",
		upHost+",closed 1", upHost+",half-open 0", upHost+",open 0")
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "spof_breaker_state"); err != nil {
		t.Error(err)
	}
}

// Two breakers of one name do not make the scrape fail: the later one shows.
func TestStateGaugeSameName(t *testing.T) {
	obs, reg := newObserver(t)
	first := breaker.New("cache", breaker.Options{VolumeThreshold: 1, Observer: obs})
	done, _ := first.Allow()
	done(errors.New("boom")) // first is open
	breaker.New("cache", breaker.Options{Observer: obs})
	want := stateGauge("cache,closed 1", "cache,half-open 0", "cache,open 0")
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "spof_breaker_state"); err != nil {
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
