// Package prombreaker exports what circuit breakers do as Prometheus
// metrics: the state of each breaker, its calls by result and its changes
// of state.
//
//	obs, err := prombreaker.New(prometheus.DefaultRegisterer)
//	if err != nil { ... }
//	b := breaker.New("payments", breaker.Options{Observer: obs})
//	obs.Init(b.Name()) // the state gauge says closed before the first change
//
// The metrics, labelled by breaker name:
//
//	spof_breaker_state{breaker, state}                gauge: 1 for the current state, 0 for the others
//	spof_breaker_calls_total{breaker, result}         counter: success, failure, timeout, canceled, rejected, too_many_trials
//	spof_breaker_state_changes_total{breaker, from, to} counter
package prombreaker

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spofhq/spof/breaker"
)

// Observer is a breaker.Observer that updates Prometheus metrics. One
// Observer serves any number of breakers.
type Observer struct {
	state   *prometheus.GaugeVec
	calls   *prometheus.CounterVec
	changes *prometheus.CounterVec
}

var states = []breaker.State{breaker.StateClosed, breaker.StateOpen, breaker.StateHalfOpen}

// New creates the metrics and registers them with reg.
func New(reg prometheus.Registerer) (*Observer, error) {
	o := &Observer{
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "spof_breaker_state",
			Help: "Circuit breaker state: 1 for the current state (closed, open, half-open), 0 for the others.",
		}, []string{"breaker", "state"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spof_breaker_calls_total",
			Help: "Calls through a circuit breaker, by result (success, failure, timeout, canceled, rejected, too_many_trials).",
		}, []string{"breaker", "result"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spof_breaker_state_changes_total",
			Help: "Changes of state of a circuit breaker.",
		}, []string{"breaker", "from", "to"}),
	}
	for _, c := range []prometheus.Collector{o.state, o.calls, o.changes} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// Init shows breaker name as closed, as a new breaker is, before its first
// change of state.
func (o *Observer) Init(name string) { o.setState(name, breaker.StateClosed) }

// OnStateChange implements breaker.Observer.
func (o *Observer) OnStateChange(name string, from, to breaker.State) {
	o.setState(name, to)
	o.changes.WithLabelValues(name, from.String(), to.String()).Inc()
}

// OnCall implements breaker.Observer.
func (o *Observer) OnCall(name string, r breaker.Result) {
	o.calls.WithLabelValues(name, r.String()).Inc()
}

func (o *Observer) setState(name string, current breaker.State) {
	for _, s := range states {
		v := 0.0
		if s == current {
			v = 1
		}
		o.state.WithLabelValues(name, s.String()).Set(v)
	}
}
