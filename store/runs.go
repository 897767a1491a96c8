package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/spofhq/spof/analysis"
)

// Experiment runs, their samples, and the verification ledger they keep.

// Verdicts (chaos.Verdict) and triggers a run may have. Passed and
// falsified runs verify (or refute) their edges; the others verify
// nothing.
const (
	verdictPassed    = "passed"
	verdictFalsified = "falsified"
)

var (
	verdicts = []string{verdictPassed, verdictFalsified, "aborted", "not-applied", "restore-failed", "fault-lost"}
	triggers = []string{"schedule", "api", "ui", "cli"}
	states   = []string{"up", "degraded", "down"}
)

func (s *sqlStore) PutRun(ctx context.Context, r Run) (Run, error) {
	r, err := normRun(r)
	if err != nil {
		return Run{}, fmt.Errorf("storing a run: %w", err)
	}
	edges, err := json.Marshal(r.Edges)
	if err != nil {
		return Run{}, err
	}
	if r.Edges == nil {
		edges = []byte("[]")
	}
	err = s.db.write(ctx, func(q querier) error {
		if err := needSystem(ctx, q, r.System); err != nil {
			return err
		}
		err := q.queryRow(ctx, `INSERT INTO runs (system, experiment, fault, verdict, reason, triggered_by, node, batch, started, ended, edges, flows)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			r.System, r.Experiment, r.Fault, r.Verdict, r.Reason, r.Trigger, r.Node, r.Batch,
			s.timeArg(r.Started), s.timeArg(r.Ended), string(edges), jsonArg(r.Flows)).Scan(&r.ID)
		if err != nil {
			return err
		}
		samples := make([][]any, len(r.Samples))
		for i, x := range r.Samples {
			samples[i] = []any{r.ID, int64(i), s.timeArg(x.At), x.Flow, x.State, int64(x.Latency), x.Detail}
		}
		if err := q.insertRows(ctx, "samples", []string{"run_id", "seq", "at", "flow", "state", "latency", "detail"}, samples); err != nil {
			return err
		}
		if r.Verdict != verdictPassed && r.Verdict != verdictFalsified {
			return nil
		}
		// The ledger keeps the latest run per edge: an older run stored
		// late does not replace a newer one, and of two that ended at the
		// same time the one stored last wins (as chaos.Verifications
		// reads the history). Edges in order, so that concurrent runs
		// lock their rows in the same order.
		for _, e := range slices.Compact(slices.Sorted(slices.Values(r.Edges))) {
			if _, err := q.exec(ctx, `INSERT INTO verifications (system, edge, experiment, at, passed, run_id)
				VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (system, edge) DO UPDATE
				SET experiment = excluded.experiment, at = excluded.at, passed = excluded.passed, run_id = excluded.run_id
				WHERE excluded.at >= verifications.at`,
				r.System, e, r.Experiment, s.timeArg(r.Ended), r.Verdict == verdictPassed, r.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Run{}, fmt.Errorf("storing a run of %q: %w", r.System, err)
	}
	return r, nil
}

// normRun checks r and returns it as it will read back.
func normRun(r Run) (Run, error) {
	err := errors.Join(
		checkName("system", r.System),
		checkName("experiment", r.Experiment),
		checkOptionalName("fault", r.Fault),
		checkText("reason", r.Reason, maxText),
		checkOptionalName("node", r.Node),
		checkOptionalName("batch", r.Batch),
		checkJSON("flows", r.Flows),
	)
	if err != nil {
		return Run{}, err
	}
	if !slices.Contains(verdicts, r.Verdict) {
		return Run{}, invalid("verdict %q: want one of %v", r.Verdict, verdicts)
	}
	if !slices.Contains(triggers, r.Trigger) {
		return Run{}, invalid("trigger %q: want one of %v", r.Trigger, triggers)
	}
	if r.Started.IsZero() || r.Ended.IsZero() {
		return Run{}, invalid("a run needs its start and end times (started %v, ended %v)", r.Started, r.Ended)
	}
	if r.Started, err = normTime("started", r.Started); err != nil {
		return Run{}, err
	}
	if r.Ended, err = normTime("ended", r.Ended); err != nil {
		return Run{}, err
	}
	if r.Ended.Before(r.Started) {
		return Run{}, invalid("the run ended (%v) before it started (%v)", r.Ended, r.Started)
	}
	if len(r.Edges) > maxEdges {
		return Run{}, invalid("%d edges, over the limit of %d", len(r.Edges), maxEdges)
	}
	size := len(r.System) + len(r.Experiment) + len(r.Fault) + len(r.Reason) + len(r.Node) + len(r.Batch) + len(r.Flows)
	for i, e := range r.Edges {
		if err := checkName(fmt.Sprintf("edges[%d]", i), e); err != nil {
			return Run{}, err
		}
		size += len(e)
	}
	if len(r.Edges) == 0 {
		r.Edges = nil
	}
	if len(r.Samples) > maxSamples {
		return Run{}, invalid("%d samples, over the limit of %d", len(r.Samples), maxSamples)
	}
	samples := make([]Sample, len(r.Samples))
	for i, x := range r.Samples {
		field := fmt.Sprintf("samples[%d]", i)
		if x.At.IsZero() {
			return Run{}, invalid("%s has no time", field)
		}
		if x.At, err = normTime(field+".at", x.At); err != nil {
			return Run{}, err
		}
		if err := errors.Join(checkName(field+".flow", x.Flow), checkText(field+".detail", x.Detail, maxText)); err != nil {
			return Run{}, err
		}
		if !slices.Contains(states, x.State) {
			return Run{}, invalid("%s.state %q: want one of %v", field, x.State, states)
		}
		if x.Latency < 0 {
			return Run{}, invalid("%s.latency %v is negative", field, x.Latency)
		}
		samples[i] = x
		size += len(x.Flow) + len(x.Detail) + 32
	}
	if size > maxRun {
		return Run{}, invalid("the run is %d bytes long, over the limit of %d", size, maxRun)
	}
	r.ID, r.Samples, r.Flows = 0, samples, absent(r.Flows)
	return r, nil
}

// runColumns are what scanRun reads.
const runColumns = `id, system, experiment, fault, verdict, reason, triggered_by, node, batch, started, ended, edges, flows`

func scanRun(r row) (Run, error) {
	var run Run
	var edges string
	var flows sql.NullString
	err := r.Scan(&run.ID, &run.System, &run.Experiment, &run.Fault, &run.Verdict, &run.Reason, &run.Trigger, &run.Node, &run.Batch,
		timeDest{&run.Started}, timeDest{&run.Ended}, &edges, &flows)
	if err != nil {
		return Run{}, err
	}
	if err := json.Unmarshal([]byte(edges), &run.Edges); err != nil {
		return Run{}, fmt.Errorf("the edges of run %d: %w", run.ID, err)
	}
	if len(run.Edges) == 0 {
		run.Edges = nil
	}
	run.Flows = jsonValue(flows)
	return run, nil
}

func (s *sqlStore) Runs(ctx context.Context, rq RunQuery) ([]Run, error) {
	since, err := normSince(rq.Since)
	err = errors.Join(err, checkOptionalName("system", rq.System), checkOptionalName("experiment", rq.Experiment),
		checkOptionalName("batch", rq.Batch), checkLimit(rq.Limit))
	if err != nil {
		return nil, err
	}
	limit := rq.Limit
	if limit == 0 {
		limit = 100
	}
	query := `SELECT ` + runColumns + ` FROM runs WHERE 1 = 1`
	var args []any
	if rq.System != "" {
		args = append(args, rq.System)
		query += fmt.Sprintf(` AND system = $%d`, len(args))
	}
	if rq.Experiment != "" {
		args = append(args, rq.Experiment)
		query += fmt.Sprintf(` AND experiment = $%d`, len(args))
	}
	if rq.Batch != "" {
		args = append(args, rq.Batch)
		query += fmt.Sprintf(` AND batch = $%d`, len(args))
	}
	if !since.IsZero() {
		args = append(args, s.timeArg(since))
		query += fmt.Sprintf(` AND started >= $%d`, len(args))
	}
	args = append(args, limit)
	query += fmt.Sprintf(` ORDER BY started DESC, id DESC LIMIT $%d`, len(args))
	var out []Run
	err = s.db.read(ctx, func(q querier) error {
		rs, err := q.query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			run, err := scanRun(rs)
			if err != nil {
				return err
			}
			out = append(out, run)
		}
		if err := rs.Err(); err != nil {
			return err
		}
		if len(out) == 0 && rq.System != "" {
			return needSystem(ctx, q, rq.System)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	return out, nil
}

func (s *sqlStore) Run(ctx context.Context, id int64) (Run, error) {
	if id < 1 {
		return Run{}, invalid("run ID %d: IDs count from 1", id)
	}
	var run Run
	err := s.db.read(ctx, func(q querier) error {
		var err error
		run, err = scanRun(q.queryRow(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("run %d", id)
		}
		if err != nil {
			return err
		}
		rs, err := q.query(ctx, `SELECT at, flow, state, latency, detail FROM samples WHERE run_id = $1 ORDER BY seq`, id)
		if err != nil {
			return err
		}
		defer rs.Close()
		run.Samples = []Sample{}
		for rs.Next() {
			var x Sample
			var latency int64
			if err := rs.Scan(timeDest{&x.At}, &x.Flow, &x.State, &latency, &x.Detail); err != nil {
				return err
			}
			x.Latency = time.Duration(latency)
			run.Samples = append(run.Samples, x)
		}
		return rs.Err()
	})
	if err != nil {
		return Run{}, fmt.Errorf("reading run %d: %w", id, err)
	}
	return run, nil
}

func (s *sqlStore) Verifications(ctx context.Context, system string) (map[string]analysis.Verification, error) {
	if err := checkName("system", system); err != nil {
		return nil, err
	}
	out := map[string]analysis.Verification{}
	err := s.db.read(ctx, func(q querier) error {
		if err := needSystem(ctx, q, system); err != nil {
			return err
		}
		rs, err := q.query(ctx, `SELECT edge, experiment, at, passed FROM verifications WHERE system = $1`, system)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var edge string
			var v analysis.Verification
			if err := rs.Scan(&edge, &v.Experiment, timeDest{&v.At}, &v.Passed); err != nil {
				return err
			}
			out[edge] = v
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reading the verifications of %q: %w", system, err)
	}
	return out, nil
}
