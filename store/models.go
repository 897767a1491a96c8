package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// Systems and the versions of their models.

func (s *sqlStore) PutModel(ctx context.Context, v ModelVersion) (ModelVersion, bool, error) {
	if err := checkModel(v); err != nil {
		return ModelVersion{}, false, fmt.Errorf("storing a model: %w", err)
	}
	created, err := normTime("created at", orNow(v.CreatedAt, s.now))
	if err != nil {
		return ModelVersion{}, false, fmt.Errorf("storing a model of %q: %w", v.System, err)
	}
	sum := sha256.Sum256(v.Source)
	v.SHA256, v.CreatedAt, v.Version = hex.EncodeToString(sum[:]), created, 0
	var stored ModelVersion
	var isNew bool
	err = s.db.write(ctx, func(q querier) error {
		// The system's row numbers its versions; locked, so that
		// concurrent puts take turns.
		if _, err := q.exec(ctx, `INSERT INTO systems (name, description, latest, updated_at) VALUES ($1, '', 0, $2)
			ON CONFLICT (name) DO NOTHING`, v.System, s.timeArg(created)); err != nil {
			return err
		}
		var latest int64
		if err := q.queryRow(ctx, `SELECT latest FROM systems WHERE name = $1`+s.d.lockRow, v.System).Scan(&latest); err != nil {
			return err
		}
		if latest > 0 {
			prev := ModelVersion{System: v.System, Version: latest}
			err := q.queryRow(ctx, `SELECT file, description, sha256, created_at FROM model_versions
				WHERE system = $1 AND version = $2`, v.System, latest).
				Scan(&prev.File, &prev.Description, &prev.SHA256, timeDest{&prev.CreatedAt})
			if err != nil {
				return err
			}
			if prev.SHA256 == v.SHA256 {
				prev.Source = v.Source // the same bytes
				stored = prev
				return nil
			}
		}
		v.Version = latest + 1
		if _, err := q.exec(ctx, `INSERT INTO model_versions (system, version, file, description, source, sha256, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			v.System, v.Version, v.File, v.Description, v.Source, v.SHA256, s.timeArg(created)); err != nil {
			return err
		}
		if _, err := q.exec(ctx, `UPDATE systems SET latest = $2, description = $3, updated_at = $4 WHERE name = $1`,
			v.System, v.Version, v.Description, s.timeArg(created)); err != nil {
			return err
		}
		stored, isNew = v, true
		return nil
	})
	if err != nil {
		return ModelVersion{}, false, fmt.Errorf("storing a model of %q: %w", v.System, err)
	}
	return stored, isNew, nil
}

func checkModel(v ModelVersion) error {
	if err := checkName("system", v.System); err != nil {
		return err
	}
	if err := checkOptionalName("file", v.File); err != nil {
		return err
	}
	if err := checkText("description", v.Description, maxText); err != nil {
		return err
	}
	if len(v.Source) == 0 {
		return invalid("the source of %q is empty", v.System)
	}
	if len(v.Source) > maxBody {
		return invalid("the source of %q is %d bytes long, over the limit of %d", v.System, len(v.Source), maxBody)
	}
	return nil
}

// systemsQuery selects systems with their latest snapshot's time and
// counts, for scanSystem.
const systemsQuery = `SELECT s.name, s.description, s.latest, s.updated_at, n.at, n.counts
	FROM systems s LEFT JOIN snapshots n
	ON n.id = (SELECT id FROM snapshots WHERE system = s.name ORDER BY at DESC, id DESC LIMIT 1)`

func scanSystem(r row) (System, error) {
	var sys System
	var counts sql.NullString
	err := r.Scan(&sys.Name, &sys.Description, &sys.Latest, timeDest{&sys.UpdatedAt}, timeDest{&sys.SnapshotAt}, &counts)
	if err != nil {
		return System{}, err
	}
	if counts.Valid {
		if err := json.Unmarshal([]byte(counts.String), &sys.Counts); err != nil {
			return System{}, fmt.Errorf("the counts of %q's latest snapshot: %w", sys.Name, err)
		}
	}
	return sys, nil
}

func (s *sqlStore) Systems(ctx context.Context) ([]System, error) {
	var out []System
	err := s.db.read(ctx, func(q querier) error {
		rs, err := q.query(ctx, systemsQuery+` ORDER BY s.name`)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			sys, err := scanSystem(rs)
			if err != nil {
				return err
			}
			out = append(out, sys)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("listing systems: %w", err)
	}
	return out, nil
}

func (s *sqlStore) System(ctx context.Context, name string) (System, error) {
	if err := checkName("system", name); err != nil {
		return System{}, err
	}
	var sys System
	err := s.db.read(ctx, func(q querier) error {
		var err error
		sys, err = scanSystem(q.queryRow(ctx, systemsQuery+` WHERE s.name = $1`, name))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("system %q", name)
		}
		return err
	})
	if err != nil {
		return System{}, fmt.Errorf("reading system %q: %w", name, err)
	}
	return sys, nil
}

func (s *sqlStore) ModelVersions(ctx context.Context, system string, limit int) ([]ModelVersion, error) {
	if err := errors.Join(checkName("system", system), checkLimit(limit)); err != nil {
		return nil, err
	}
	query := `SELECT version, file, description, sha256, created_at FROM model_versions
		WHERE system = $1 ORDER BY version DESC`
	args := []any{system}
	if limit > 0 {
		query += ` LIMIT $2`
		args = append(args, limit)
	}
	var out []ModelVersion
	err := s.db.read(ctx, func(q querier) error {
		if err := needSystem(ctx, q, system); err != nil {
			return err
		}
		rs, err := q.query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			v := ModelVersion{System: system}
			if err := rs.Scan(&v.Version, &v.File, &v.Description, &v.SHA256, timeDest{&v.CreatedAt}); err != nil {
				return err
			}
			out = append(out, v)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("listing the model versions of %q: %w", system, err)
	}
	return out, nil
}

func (s *sqlStore) Model(ctx context.Context, system string, version int64) (ModelVersion, error) {
	if err := checkName("system", system); err != nil {
		return ModelVersion{}, err
	}
	if version < 0 {
		return ModelVersion{}, invalid("model version %d is negative (0 is the latest)", version)
	}
	query := `SELECT version, file, description, source, sha256, created_at FROM model_versions WHERE system = $1`
	args := []any{system}
	if version == 0 {
		query += ` ORDER BY version DESC LIMIT 1`
	} else {
		query += ` AND version = $2`
		args = append(args, version)
	}
	v := ModelVersion{System: system}
	err := s.db.read(ctx, func(q querier) error {
		err := q.queryRow(ctx, query, args...).Scan(&v.Version, &v.File, &v.Description, &v.Source, &v.SHA256, timeDest{&v.CreatedAt})
		if errors.Is(err, sql.ErrNoRows) {
			if err := needSystem(ctx, q, system); err != nil {
				return err
			}
			return notFound("version %d", version)
		}
		return err
	})
	if err != nil {
		return ModelVersion{}, fmt.Errorf("reading the model of %q: %w", system, err)
	}
	return v, nil
}

func (s *sqlStore) DeleteSystem(ctx context.Context, name string) error {
	if err := checkName("system", name); err != nil {
		return err
	}
	err := s.db.write(ctx, func(q querier) error {
		// Everything else about it goes with it (ON DELETE CASCADE).
		n, err := q.exec(ctx, `DELETE FROM systems WHERE name = $1`, name)
		if err == nil && n == 0 {
			err = notFound("system %q", name)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting system %q: %w", name, err)
	}
	return nil
}
