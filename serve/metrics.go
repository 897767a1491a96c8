package serve

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
)

// metrics is /metrics: a collector that reads the current analyses (and
// the ledger, from the store) when scraped, and the runs this replica
// recorded.
type metrics struct {
	s    *Server
	reg  *prometheus.Registry
	runs *prometheus.CounterVec

	findings, checklist, version, verifiedAge, fallbacks *prometheus.Desc
}

func newMetrics(s *Server) *metrics {
	m := &metrics{s: s, reg: prometheus.NewRegistry()}
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "spof_runs_total", Help: "Chaos experiment runs this replica recorded, by system and verdict.",
	}, []string{"system", "verdict"})
	m.findings = prometheus.NewDesc("spof_findings", "Findings of the latest analysis, by system, severity and category.",
		[]string{"system", "severity", "category"}, nil)
	m.checklist = prometheus.NewDesc("spof_checklist_item", "Checklist items of the latest analysis: 1 for the item's status.",
		[]string{"system", "item", "status"}, nil)
	m.version = prometheus.NewDesc("spof_model_version", "The model version the latest analysis is of.", []string{"system"}, nil)
	m.verifiedAge = prometheus.NewDesc("spof_fallback_verified_age_seconds",
		"Seconds since an experiment last verified (passed) or failed (falsified) the fallback, by edge.",
		[]string{"system", "edge", "passed"}, nil)
	m.fallbacks = prometheus.NewDesc("spof_fallbacks_never_verified", "Fallback edges of the model no experiment has exercised yet.",
		[]string{"system"}, nil)
	m.reg.MustRegister(m, m.runs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Timeout: 10 * time.Second})
}

// Recorded counts a run this replica stored (the scheduler calls it).
func (m *metrics) Recorded(system, verdict string) {
	m.runs.WithLabelValues(system, verdict).Inc()
}

// Describe sends the descriptions of the metrics Collect computes.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.findings
	ch <- m.checklist
	ch <- m.version
	ch <- m.verifiedAge
	ch <- m.fallbacks
}

// Collect computes the metrics of every current analysis.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := m.s.now()
	for _, sys := range m.s.list() {
		type key struct{ severity, category string }
		counts := map[key]int{}
		for _, c := range model.Criticalities {
			for _, cat := range []analysis.Category{analysis.CategorySPOF, analysis.CategoryDegradation, analysis.CategoryRecovery, analysis.CategoryOperational} {
				counts[key{c.String(), string(cat)}] = 0
			}
		}
		for _, f := range sys.result.Findings {
			counts[key{f.Severity.String(), string(f.Category)}]++
		}
		for k, n := range counts {
			ch <- prometheus.MustNewConstMetric(m.findings, prometheus.GaugeValue, float64(n), sys.name, k.severity, k.category)
		}
		for _, it := range sys.result.Checklist {
			for _, st := range []analysis.Status{analysis.Pass, analysis.Fail, analysis.Unknown} {
				v := 0.0
				if it.Status == st {
					v = 1
				}
				ch <- prometheus.MustNewConstMetric(m.checklist, prometheus.GaugeValue, v, sys.name, strconv.Itoa(it.Item), string(st))
			}
		}
		ch <- prometheus.MustNewConstMetric(m.version, prometheus.GaugeValue, float64(sys.version), sys.name)
		verified, err := m.s.cfg.Store.Verifications(ctx, sys.name)
		if err != nil {
			m.s.log.Error("metrics: reading the ledger", "system", sys.name, "err", err)
			continue
		}
		never := 0
		for _, edge := range fallbackEdges(sys.model) {
			v, ok := verified[edge]
			if !ok {
				never++
				continue
			}
			ch <- prometheus.MustNewConstMetric(m.verifiedAge, prometheus.GaugeValue, now.Sub(v.At).Seconds(),
				sys.name, edge, strconv.FormatBool(v.Passed))
		}
		ch <- prometheus.MustNewConstMetric(m.fallbacks, prometheus.GaugeValue, float64(never), sys.name)
	}
}

// fallbackEdges are the model's edges that have a fallback to verify,
// named as the ledger names them: "from → to".
func fallbackEdges(m *model.Model) []string {
	var out []string
	for _, c := range m.Components {
		for _, e := range c.DependsOn {
			if e.Degrades() {
				out = append(out, c.Name+" → "+e.To)
			}
		}
	}
	return out
}
