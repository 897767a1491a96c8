package shopapp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// schema is the shop's PostgreSQL schema; migrate applies it at start-up.
const schema = `
CREATE TABLE IF NOT EXISTS sessions (
	id         text PRIMARY KEY,
	user_name  text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS products (
	sku         text PRIMARY KEY,
	name        text NOT NULL,
	price_cents bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
	id           bigserial PRIMARY KEY,
	user_name    text NOT NULL,
	sku          text NOT NULL REFERENCES products,
	quantity     int NOT NULL,
	amount_cents bigint NOT NULL,
	status       text NOT NULL,
	charge_id    text,
	created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS outbox (
	id         bigserial PRIMARY KEY,
	recipient  text NOT NULL,
	subject    text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	sent_at    timestamptz
);
CREATE TABLE IF NOT EXISTS submissions (
	id         bigserial PRIMARY KEY,
	body       jsonb NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO products (sku, name, price_cents) VALUES
	('tea', 'Green tea, 100 g', 650),
	('mug', 'Stoneware mug', 1200),
	('pot', 'Cast-iron teapot', 3400)
ON CONFLICT (sku) DO NOTHING;
`

// Order statuses.
const (
	statusCreated        = "created"
	statusPaid           = "paid"
	statusPendingPayment = "pending_payment" // accepted; charged later
)

// migrate applies the schema, trying again until ctx ends: PostgreSQL may
// still be starting.
func migrate(ctx context.Context, db *pgxpool.Pool) error {
	for {
		_, err := db.Exec(ctx, schema)
		if err == nil {
			return nil
		}
		t := time.NewTimer(200 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("creating the schema in postgres: %w", err)
		case <-t.C:
		}
	}
}

func insertSession(ctx context.Context, db *pgxpool.Pool, id, user string) error {
	if _, err := db.Exec(ctx, `INSERT INTO sessions (id, user_name) VALUES ($1, $2)`, id, user); err != nil {
		return fmt.Errorf("storing session in postgres: %w", err)
	}
	return nil
}

// sessionUser returns the user of session id, or errNoSession.
func sessionUser(ctx context.Context, db *pgxpool.Pool, id string) (string, error) {
	var user string
	err := db.QueryRow(ctx, `SELECT user_name FROM sessions WHERE id = $1`, id).Scan(&user)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errNoSession
	}
	if err != nil {
		return "", fmt.Errorf("reading session from postgres: %w", err)
	}
	return user, nil
}

type product struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
}

func products(ctx context.Context, db *pgxpool.Pool) ([]product, error) {
	rows, err := db.Query(ctx, `SELECT sku, name, price_cents FROM products ORDER BY sku`)
	if err != nil {
		return nil, fmt.Errorf("reading products: %w", err)
	}
	ps, err := pgx.CollectRows(rows, pgx.RowToStructByPos[product])
	if err != nil {
		return nil, fmt.Errorf("reading products: %w", err)
	}
	return ps, nil
}

var errNoProduct = errors.New("no such product")

// createOrder stores a new order, priced from the catalogue.
func createOrder(ctx context.Context, db *pgxpool.Pool, user, sku string, quantity int) (id, amount int64, err error) {
	err = db.QueryRow(ctx, `
		INSERT INTO orders (user_name, sku, quantity, amount_cents, status)
		SELECT $1, sku, $3::int, price_cents * $3::int, $4 FROM products WHERE sku = $2
		RETURNING id, amount_cents`, user, sku, quantity, statusCreated).Scan(&id, &amount)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, fmt.Errorf("%w %q", errNoProduct, sku)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("storing order: %w", err)
	}
	return id, amount, nil
}

// settleOrder records the outcome of the charge and queues the confirmation
// e-mail in the same transaction, so an order never lacks its e-mail.
func settleOrder(ctx context.Context, db *pgxpool.Pool, id int64, user, status, chargeID string) error {
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE orders SET status = $2, charge_id = NULLIF($3, '') WHERE id = $1`, id, status, chargeID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO outbox (recipient, subject) VALUES ($1, $2)`,
			user, fmt.Sprintf("Order %d: %s", id, status))
		return err
	})
	if err != nil {
		return fmt.Errorf("settling order %d: %w", id, err)
	}
	return nil
}

func insertSubmission(ctx context.Context, db *pgxpool.Pool, body []byte) (int64, error) {
	var id int64
	if err := db.QueryRow(ctx, `INSERT INTO submissions (body) VALUES ($1) RETURNING id`, body).Scan(&id); err != nil {
		return 0, fmt.Errorf("storing submission: %w", err)
	}
	return id, nil
}
