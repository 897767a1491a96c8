package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Analyses: snapshots of a model version's findings, and baselines.

func (s *sqlStore) PutSnapshot(ctx context.Context, snap Snapshot) (Snapshot, error) {
	at, err := normTime("at", orNow(snap.At, s.now))
	if err == nil {
		err = checkSnapshot(snap)
	}
	if err != nil {
		return Snapshot{}, fmt.Errorf("storing a snapshot: %w", err)
	}
	snap.ID, snap.At, snap.Counts = 0, at, normCounts(snap.Counts)
	snap.Report, snap.Checklist = absent(snap.Report), absent(snap.Checklist)
	counts, err := json.Marshal(snap.Counts)
	if err != nil {
		return Snapshot{}, err
	}
	err = s.db.write(ctx, func(q querier) error {
		var one int
		err := q.queryRow(ctx, `SELECT 1 FROM model_versions WHERE system = $1 AND version = $2`,
			snap.System, snap.ModelVersion).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			if err := needSystem(ctx, q, snap.System); err != nil {
				return err
			}
			return notFound("model version %d", snap.ModelVersion)
		}
		if err != nil {
			return err
		}
		return q.queryRow(ctx, `INSERT INTO snapshots (system, model_version, at, counts, report, checklist)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			snap.System, snap.ModelVersion, s.timeArg(at), string(counts), jsonArg(snap.Report), jsonArg(snap.Checklist)).
			Scan(&snap.ID)
	})
	if err != nil {
		return Snapshot{}, fmt.Errorf("storing a snapshot of %q: %w", snap.System, err)
	}
	return snap, nil
}

func checkSnapshot(snap Snapshot) error {
	if err := checkName("system", snap.System); err != nil {
		return err
	}
	if snap.ModelVersion < 1 {
		return invalid("model version %d: versions count from 1", snap.ModelVersion)
	}
	if err := checkCounts(snap.Counts); err != nil {
		return err
	}
	return errors.Join(checkJSON("report", snap.Report), checkJSON("checklist", snap.Checklist))
}

func checkCounts(c Counts) error {
	if c.SPOFs < 0 || c.Degradations < 0 || c.Recovery < 0 || c.Operational < 0 {
		return invalid("counts %+v: a count is negative", c)
	}
	for field, m := range map[string]map[string]int{"by severity": c.BySeverity, "checklist": c.Checklist} {
		for k, n := range m {
			if err := checkName("counts "+field, k); err != nil {
				return err
			}
			if n < 0 {
				return invalid("counts %s[%q] = %d is negative", field, k, n)
			}
		}
	}
	return nil
}

// normCounts gives empty maps as nil, as they read back.
func normCounts(c Counts) Counts {
	if len(c.BySeverity) == 0 {
		c.BySeverity = nil
	}
	if len(c.Checklist) == 0 {
		c.Checklist = nil
	}
	return c
}

func (s *sqlStore) LatestSnapshot(ctx context.Context, system string) (Snapshot, error) {
	if err := checkName("system", system); err != nil {
		return Snapshot{}, err
	}
	snap := Snapshot{System: system}
	err := s.db.read(ctx, func(q querier) error {
		var counts string
		var report, checklist sql.NullString
		err := q.queryRow(ctx, `SELECT id, model_version, at, counts, report, checklist FROM snapshots
			WHERE system = $1 ORDER BY at DESC, id DESC LIMIT 1`, system).
			Scan(&snap.ID, &snap.ModelVersion, timeDest{&snap.At}, &counts, &report, &checklist)
		if errors.Is(err, sql.ErrNoRows) {
			if err := needSystem(ctx, q, system); err != nil {
				return err
			}
			return notFound("no snapshot")
		}
		if err != nil {
			return err
		}
		snap.Report, snap.Checklist = jsonValue(report), jsonValue(checklist)
		return json.Unmarshal([]byte(counts), &snap.Counts)
	})
	if err != nil {
		return Snapshot{}, fmt.Errorf("reading the latest snapshot of %q: %w", system, err)
	}
	return snap, nil
}

func (s *sqlStore) Snapshots(ctx context.Context, system string, since time.Time, limit int) ([]Snapshot, error) {
	since, err := normSince(since)
	if err := errors.Join(err, checkName("system", system), checkLimit(limit)); err != nil {
		return nil, err
	}
	// Newest first (to take the newest limit), reversed below.
	query := `SELECT id, model_version, at, counts FROM snapshots WHERE system = $1`
	args := []any{system}
	if !since.IsZero() {
		args = append(args, s.timeArg(since))
		query += fmt.Sprintf(` AND at >= $%d`, len(args))
	}
	query += ` ORDER BY at DESC, id DESC`
	if limit > 0 {
		args = append(args, limit)
		query += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	var out []Snapshot
	err = s.db.read(ctx, func(q querier) error {
		if err := needSystem(ctx, q, system); err != nil {
			return err
		}
		rs, err := q.query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			snap := Snapshot{System: system}
			var counts string
			if err := rs.Scan(&snap.ID, &snap.ModelVersion, timeDest{&snap.At}, &counts); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(counts), &snap.Counts); err != nil {
				return fmt.Errorf("the counts of snapshot %d: %w", snap.ID, err)
			}
			out = append(out, snap)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("listing the snapshots of %q: %w", system, err)
	}
	slices.Reverse(out)
	return out, nil
}

func (s *sqlStore) PutBaseline(ctx context.Context, system string, data []byte) error {
	if err := checkName("system", system); err != nil {
		return err
	}
	if len(data) == 0 || len(data) > maxBody {
		return invalid("the baseline of %q is %d bytes long: want 1 to %d", system, len(data), maxBody)
	}
	at, err := normTime("now", s.now())
	if err != nil {
		return err
	}
	err = s.db.write(ctx, func(q querier) error {
		if err := needSystem(ctx, q, system); err != nil {
			return err
		}
		_, err := q.exec(ctx, `INSERT INTO baselines (system, data, at) VALUES ($1, $2, $3)
			ON CONFLICT (system) DO UPDATE SET data = excluded.data, at = excluded.at`, system, data, s.timeArg(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("storing the baseline of %q: %w", system, err)
	}
	return nil
}

func (s *sqlStore) Baseline(ctx context.Context, system string) ([]byte, time.Time, error) {
	if err := checkName("system", system); err != nil {
		return nil, time.Time{}, err
	}
	var data []byte
	var at time.Time
	err := s.db.read(ctx, func(q querier) error {
		err := q.queryRow(ctx, `SELECT data, at FROM baselines WHERE system = $1`, system).Scan(&data, timeDest{&at})
		if errors.Is(err, sql.ErrNoRows) {
			if err := needSystem(ctx, q, system); err != nil {
				return err
			}
			return notFound("no baseline")
		}
		return err
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("reading the baseline of %q: %w", system, err)
	}
	return data, at, nil
}
