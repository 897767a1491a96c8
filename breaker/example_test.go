package breaker_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/spofhq/spof/breaker"
)

// Session lookup reads from Redis; while Redis is down the breaker opens and
// sessions are read from Postgres, slower but correct.
func ExampleDoWithFallback() {
	redisUp := false
	redis := func(ctx context.Context, id string) (string, error) { // stand-in
		if !redisUp {
			return "", errors.New("dial tcp 10.0.0.7:6379: connection refused")
		}
		return "alice (redis)", nil
	}
	postgres := func(ctx context.Context, id string) (string, error) { // stand-in
		return "alice (postgres)", nil
	}

	sessions := breaker.New("session-redis", breaker.Options{VolumeThreshold: 2})
	lookup := func(ctx context.Context, id string) (string, error) {
		return breaker.DoWithFallback(ctx, sessions,
			func(ctx context.Context) (string, error) { return redis(ctx, id) },
			func(ctx context.Context, reason error) (string, error) { return postgres(ctx, id) })
	}
	for range 3 {
		user, _ := lookup(context.Background(), "s1")
		fmt.Println(user, sessions.State())
	}
	// Output:
	// alice (postgres) closed
	// alice (postgres) open
	// alice (postgres) open
}

// A rate limiter backed by a shared store fails open: when the store is
// unreachable, requests are allowed rather than refused.
func ExampleDoWithFallback_rateLimitFailsOpen() {
	limiterStore := func(ctx context.Context, key string) (bool, error) { // stand-in
		return false, errors.New("rate limit store: i/o timeout")
	}
	limits := breaker.New("ratelimit", breaker.Options{VolumeThreshold: 1})
	allowed, err := breaker.DoWithFallback(context.Background(), limits,
		func(ctx context.Context) (bool, error) { return limiterStore(ctx, "client-42") },
		func(ctx context.Context, reason error) (bool, error) {
			return true, nil // fail open
		})
	fmt.Println(allowed, err)
	// Output: true <nil>
}

// A payment API that is down does not lose the order: while the breaker is
// open the charge is queued and made later.
func ExampleDoWithFallback_paymentQueued() {
	charge := func(ctx context.Context, order string) (string, error) { // stand-in
		return "", errors.New("payments: 503 Service Unavailable")
	}
	var queue []string // stand-in for a durable job queue
	payments := breaker.New("payments", breaker.Options{VolumeThreshold: 1})
	for _, order := range []string{"order-1", "order-2"} {
		status, _ := breaker.DoWithFallback(context.Background(), payments,
			func(ctx context.Context) (string, error) { return charge(ctx, order) },
			func(ctx context.Context, reason error) (string, error) {
				queue = append(queue, order)
				if errors.Is(reason, breaker.ErrOpen) {
					return "accepted, charge queued (breaker open)", nil
				}
				return "accepted, charge queued", nil
			})
		fmt.Println(order, status)
	}
	fmt.Println("queued:", queue)
	// Output:
	// order-1 accepted, charge queued
	// order-2 accepted, charge queued (breaker open)
	// queued: [order-1 order-2]
}

// Allow suits calls that cannot be wrapped in a function.
func ExampleBreaker_Allow() {
	b := breaker.New("search", breaker.Options{})
	done, err := b.Allow()
	if err != nil {
		fmt.Println("skipped:", err)
		return
	}
	var callErr error // result of the call made here
	done(callErr)
	fmt.Println(b.State())
	// Output: closed
}
