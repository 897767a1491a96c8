package shopapp

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spofhq/spof/breaker"
)

// every calls fn every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, fn func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}

// runOutbox "sends" the queued e-mails: the demo has no mail server, so
// sending is logging and marking the row sent. Checkout only queues, so a
// slow or broken mail path never holds an order up (async_via in the model).
func (s *shop) runOutbox(ctx context.Context, interval time.Duration) {
	every(ctx, interval, func(ctx context.Context) {
		rows, err := s.db.Query(ctx, `
			UPDATE outbox SET sent_at = now()
			WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED)
			RETURNING recipient, subject`)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("outbox: reading queued e-mails", "err", err)
			}
			return
		}
		type mail struct{ Recipient, Subject string }
		sent, err := pgx.CollectRows(rows, pgx.RowToStructByPos[mail])
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("outbox: reading queued e-mails", "err", err)
			}
			return
		}
		for _, m := range sent {
			s.log.Info("e-mail sent", "to", m.Recipient, "subject", m.Subject)
		}
	})
}

// runChargeLater charges the orders accepted while the payment API was
// failing, through the same breaker as checkout.
func (s *shop) runChargeLater(ctx context.Context, interval time.Duration) {
	every(ctx, interval, func(ctx context.Context) {
		if err := s.chargePending(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("charge later: will try again", "err", err)
		}
	})
}

// chargePending charges the pending orders, oldest first, until one fails.
// Charging is idempotent per order (shop-payments), so an order whose
// first charge timed out after going through is not charged twice.
func (s *shop) chargePending(ctx context.Context) error {
	rows, err := s.db.Query(ctx, `SELECT id, amount_cents FROM orders WHERE status = $1 ORDER BY id LIMIT 20`, statusPendingPayment)
	if err != nil {
		return fmt.Errorf("reading pending orders: %w", err)
	}
	type pending struct{ ID, Amount int64 }
	orders, err := pgx.CollectRows(rows, pgx.RowToStructByPos[pending])
	if err != nil {
		return fmt.Errorf("reading pending orders: %w", err)
	}
	for _, o := range orders {
		chargeID, err := breaker.Do(ctx, s.payments, func(ctx context.Context) (string, error) { return s.charge(ctx, o.ID, o.Amount) })
		if err != nil {
			return fmt.Errorf("charging order %d: %w", o.ID, err)
		}
		if _, err := s.db.Exec(ctx, `UPDATE orders SET status = $2, charge_id = $3 WHERE id = $1 AND status = $4`,
			o.ID, statusPaid, chargeID, statusPendingPayment); err != nil {
			return fmt.Errorf("recording the charge of order %d: %w", o.ID, err)
		}
		s.log.Info("charged later", "order", o.ID, "charge_id", chargeID)
	}
	return nil
}
