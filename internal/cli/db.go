package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/chaos"
	"github.com/spofhq/spof/model"
	"github.com/spofhq/spof/serve"
	"github.com/spofhq/spof/store"
)

// registerDB adds --db to a command that reads (or records) chaos runs.
func registerDB(c *cobra.Command, dsn *string, what string) {
	c.Flags().StringVar(dsn, "db", "", what+" the store `DSN` spof serve uses (sqlite:PATH or postgres://...) instead of the state directory's history")
}

// openDB opens the store --db names, as a usage error when it cannot.
func openDB(ctx context.Context, dsn string) (store.Store, error) {
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, usageError("--db: %v", err)
	}
	return st, nil
}

// verifiedBy reads checklist item 4's evidence: from the store when dsn
// is set, else from the chaos history beside the model.
func verifiedBy(ctx context.Context, dsn, path string, m *model.Model) (map[string]analysis.Verification, error) {
	if dsn == "" {
		return verifications(path, m)
	}
	st, err := openDB(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	v, err := st.Verifications(ctx, m.System)
	if err != nil {
		return nil, usageError("--db: %v", err)
	}
	return v, nil
}

// historyFromDB returns the system's runs in the store, oldest first, as
// the state directory's history holds them.
func historyFromDB(ctx context.Context, dsn, system string) ([]chaos.Record, error) {
	st, err := openDB(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if _, err := st.System(ctx, system); err != nil {
		return nil, nil // nothing recorded for it yet
	}
	runs, err := st.Runs(ctx, store.RunQuery{System: system, Limit: 10000})
	if err != nil {
		return nil, usageError("--db: %v", err)
	}
	out := make([]chaos.Record, 0, len(runs))
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		rec := chaos.Record{Result: chaos.Result{Experiment: r.Experiment, Fault: r.Fault, Verdict: chaos.Verdict(r.Verdict),
			Reason: r.Reason, Started: r.Started, Ended: r.Ended}, Edges: r.Edges}
		if len(r.Flows) > 0 {
			if err := json.Unmarshal(r.Flows, &rec.Flows); err != nil {
				return nil, fmt.Errorf("--db: run %d: %w", r.ID, err)
			}
		}
		out = append(out, rec)
	}
	return out, nil
}

// dbRecorder stores the results of spof chaos run in the store (trigger
// cli), after the model's current version.
func dbRecorder(ctx context.Context, st store.Store, m *model.Model, path, batch string) (func(chaos.Record) error, error) {
	source, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if _, _, err := st.PutModel(ctx, store.ModelVersion{System: m.System, File: path, Description: m.Description, Source: source}); err != nil {
		return nil, usageError("--db: %v", err)
	}
	host, _ := os.Hostname()
	node := fmt.Sprintf("%s:%d", host, os.Getpid())
	return func(rec chaos.Record) error {
		r, err := serve.RunOf(m.System, rec, "cli", node, batch)
		if err != nil {
			return err
		}
		_, err = st.PutRun(context.WithoutCancel(ctx), r)
		return err
	}, nil
}
