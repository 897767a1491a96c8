package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The chaos journal, shared by every replica.

func (s *sqlStore) BeginFault(ctx context.Context, f Fault) error {
	f, err := normFault(f, s.now)
	if err != nil {
		return fmt.Errorf("journalling a fault: %w", err)
	}
	err = s.db.write(ctx, func(q querier) error {
		n, err := q.exec(ctx, `INSERT INTO faults (id, system, experiment, fault, undo, node, started, deadline)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
			f.ID, f.System, f.Experiment, f.Fault, string(f.Undo), f.Node, s.timeArg(f.Started), s.timeArg(f.Deadline))
		if err == nil && n == 0 {
			err = invalid("a fault with this ID is open already")
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("journalling fault %q: %w", f.ID, err)
	}
	return nil
}

func normFault(f Fault, now func() time.Time) (Fault, error) {
	err := errors.Join(
		checkName("fault ID", f.ID),
		checkName("system", f.System),
		checkOptionalName("experiment", f.Experiment),
		checkOptionalName("fault", f.Fault),
		checkOptionalName("node", f.Node),
		checkJSON("undo", f.Undo),
	)
	if err != nil {
		return Fault{}, err
	}
	if len(f.Undo) == 0 {
		return Fault{}, invalid("fault %q has no undo: nothing could restore it", f.ID)
	}
	if f.Started, err = normTime("started", orNow(f.Started, now)); err != nil {
		return Fault{}, err
	}
	if f.Deadline, err = normTime("deadline", f.Deadline); err != nil {
		return Fault{}, err
	}
	return f, nil
}

func (s *sqlStore) EndFault(ctx context.Context, id string) error {
	if err := checkName("fault ID", id); err != nil {
		return err
	}
	err := s.db.write(ctx, func(q querier) error {
		_, err := q.exec(ctx, `DELETE FROM faults WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("ending fault %q: %w", id, err)
	}
	return nil
}

func (s *sqlStore) OpenFaults(ctx context.Context) ([]Fault, error) {
	var out []Fault
	err := s.db.read(ctx, func(q querier) error {
		rs, err := q.query(ctx, `SELECT id, system, experiment, fault, undo, node, started, deadline FROM faults ORDER BY started, seq`)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var f Fault
			var undo string
			if err := rs.Scan(&f.ID, &f.System, &f.Experiment, &f.Fault, &undo, &f.Node, timeDest{&f.Started}, timeDest{&f.Deadline}); err != nil {
				return err
			}
			f.Undo = json.RawMessage(undo)
			out = append(out, f)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("listing open faults: %w", err)
	}
	return out, nil
}
