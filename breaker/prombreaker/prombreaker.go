// Package prombreaker exports what circuit breakers do as Prometheus
// metrics: the state of each breaker, its calls by result and its changes
// of state.
//
//	obs, err := prombreaker.New(prometheus.DefaultRegisterer)
//	if err != nil { ... }
//	b := breaker.New("payments", breaker.Options{Observer: obs})
//
// The metrics, labelled by breaker name:
//
//	spof_breaker_state{breaker, state}                gauge: 1 for the current state, 0 for the others
//	spof_breaker_calls_total{breaker, result}         counter: success, failure, timeout, canceled, rejected, too_many_trials
//	spof_breaker_state_changes_total{breaker, from, to} counter
//
// The state gauge reads each breaker's State when scraped, rather than
// following state-change events, which may arrive out of order. It shows
// every breaker created with the Observer in its Options, the per-host
// breakers of a breaker.Transport included, from the moment it is created.
package prombreaker

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spofhq/spof/breaker"
)

// Observer is a breaker.Observer that updates Prometheus metrics. One
// Observer serves any number of breakers.
type Observer struct {
	state   *stateCollector
	calls   *prometheus.CounterVec
	changes *prometheus.CounterVec
}

// New creates the metrics and registers them with reg.
func New(reg prometheus.Registerer) (*Observer, error) {
	o := &Observer{
		state: &stateCollector{
			desc: prometheus.NewDesc("spof_breaker_state",
				"Circuit breaker state: 1 for the current state (closed, open, half-open), 0 for the others.",
				[]string{"breaker", "state"}, nil),
			breakers: map[string]*breaker.Breaker{},
		},
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

// Watch adds b to the state gauge. breaker.New calls it for each breaker
// whose Options.Observer is o; call it yourself only when o is reached
// through another Observer that forwards to it. Breakers are told apart by
// name: a breaker replaces an earlier one of the same name in the gauge.
func (o *Observer) Watch(b *breaker.Breaker) {
	o.state.mu.Lock()
	o.state.breakers[b.Name()] = b
	o.state.mu.Unlock()
}

// OnStateChange implements breaker.Observer.
func (o *Observer) OnStateChange(name string, from, to breaker.State) {
	o.changes.WithLabelValues(name, from.String(), to.String()).Inc()
}

// OnCall implements breaker.Observer.
func (o *Observer) OnCall(name string, r breaker.Result) {
	o.calls.WithLabelValues(name, r.String()).Inc()
}

var states = []breaker.State{breaker.StateClosed, breaker.StateOpen, breaker.StateHalfOpen}

// stateCollector is the state gauge: a prometheus.Collector that reads the
// state of each watched breaker when scraped.
type stateCollector struct {
	desc     *prometheus.Desc
	mu       sync.Mutex
	breakers map[string]*breaker.Breaker // by name
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	breakers := make([]*breaker.Breaker, 0, len(c.breakers))
	for _, b := range c.breakers {
		breakers = append(breakers, b)
	}
	c.mu.Unlock()
	for _, b := range breakers {
		name, current := b.Name(), b.State()
		for _, s := range states {
			v := 0.0
			if s == current {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, name, s.String())
		}
	}
}
