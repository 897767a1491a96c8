package breaker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var errBoom = errors.New("boom")

// step is one action in a transition test, followed by a check of the state.
type step struct {
	advance time.Duration // move the clock first
	call    bool          // Allow, then done(result) at once
	hold    string        // Allow and keep done under this name
	release string        // call the held done with result
	result  error
	wantErr error // expected error from Allow (call or hold)
	want    State
}

func ok(want State) step                    { return step{call: true, want: want} }
func fail(want State) step                  { return step{call: true, result: errBoom, want: want} }
func reject(want State) step                { return step{call: true, wantErr: ErrOpen, want: want} }
func wait(d time.Duration, want State) step { return step{advance: d, want: want} }

// seq concatenates step lists into a new slice.
func seq(parts ...[]step) []step {
	var all []step
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

func TestTransitions(t *testing.T) {
	opts := Options{
		ErrorThreshold:  50,
		Window:          10 * time.Second,
		Buckets:         10,
		VolumeThreshold: 4,
		ResetTimeout:    5 * time.Second,
		HalfOpenMax:     2,
	}
	// open drives a fresh breaker to open.
	open := []step{fail(StateClosed), fail(StateClosed), fail(StateClosed), fail(StateOpen)}
	// halfOpen drives it on to half-open with no trial made.
	halfOpen := seq(open, []step{wait(5*time.Second, StateOpen)})
	tests := []struct {
		name  string
		steps []step
	}{
		{"closed below volume", []step{fail(StateClosed), fail(StateClosed), fail(StateClosed)}},
		{"opens at threshold", []step{ok(StateClosed), ok(StateClosed), fail(StateClosed), fail(StateOpen), reject(StateOpen)}},
		{"stays closed under threshold", []step{ok(StateClosed), ok(StateClosed), ok(StateClosed), fail(StateClosed), ok(StateClosed), fail(StateClosed)}},
		{"success never opens", []step{fail(StateClosed), fail(StateClosed), fail(StateClosed), ok(StateClosed), ok(StateClosed)}},
		{"failures leave the window", []step{fail(StateClosed), fail(StateClosed), fail(StateClosed), wait(10*time.Second, StateClosed), fail(StateClosed)}},
		{"window spans buckets", []step{fail(StateClosed), fail(StateClosed), wait(9*time.Second, StateClosed), fail(StateClosed), fail(StateOpen)}},
		{"oldest bucket leaves first", []step{fail(StateClosed), wait(time.Second, StateClosed), fail(StateClosed), fail(StateClosed), wait(9*time.Second, StateClosed), fail(StateClosed), ok(StateClosed), fail(StateOpen)}},
		{"open until reset timeout", seq(open, []step{wait(4999*time.Millisecond, StateOpen), reject(StateOpen)})},
		{"half-open after reset timeout", seq(halfOpen, []step{ok(StateHalfOpen), ok(StateClosed), fail(StateClosed)})},
		{"half-open trial failure reopens", seq(halfOpen, []step{ok(StateHalfOpen), fail(StateOpen), reject(StateOpen),
			wait(4*time.Second, StateOpen), reject(StateOpen), wait(time.Second, StateOpen), ok(StateHalfOpen)})},
		{"closing starts an empty window", seq(halfOpen, []step{ok(StateHalfOpen), ok(StateClosed),
			fail(StateClosed), fail(StateClosed), fail(StateClosed), fail(StateOpen)})},
		{"too many trials", seq(halfOpen, []step{
			{hold: "a", want: StateHalfOpen},
			{hold: "b", want: StateHalfOpen},
			{call: true, wantErr: ErrTooManyTrials, want: StateHalfOpen},
			{release: "a", want: StateHalfOpen},
			{call: true, wantErr: ErrTooManyTrials, want: StateHalfOpen},
			{release: "b", want: StateClosed}})},
		{"cancelled trial gives its permit back", seq(halfOpen, []step{
			{hold: "a", want: StateHalfOpen},
			{hold: "b", want: StateHalfOpen},
			{release: "a", result: context.Canceled, want: StateHalfOpen},
			ok(StateHalfOpen),
			{release: "b", want: StateClosed}})},
		{"cancelled calls are not counted", []step{
			{call: true, result: context.Canceled, want: StateClosed},
			{call: true, result: fmt.Errorf("query: %w", context.Canceled), want: StateClosed},
			fail(StateClosed), fail(StateClosed), fail(StateClosed), ok(StateClosed), fail(StateOpen)}},
		{"late failure from an older state is ignored", seq([]step{{hold: "old", want: StateClosed}}, halfOpen, []step{
			{release: "old", result: errBoom, want: StateOpen},
			ok(StateHalfOpen), ok(StateClosed)})},
		{"late success does not count in a new window", seq([]step{{hold: "old", want: StateClosed}}, halfOpen, []step{
			ok(StateHalfOpen), ok(StateClosed),
			{release: "old", want: StateClosed},
			fail(StateClosed), fail(StateClosed), fail(StateClosed), fail(StateOpen)})},
		// Counted, a's failure would reopen the breaker from t=3s to t=8s.
		{"late trial result after reopening is ignored", seq(halfOpen, []step{
			{hold: "a", want: StateHalfOpen},
			fail(StateOpen),
			wait(3*time.Second, StateOpen),
			{release: "a", result: errBoom, want: StateOpen},
			wait(2*time.Second, StateOpen),
			ok(StateHalfOpen)})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			o := opts
			o.Clock = clock.Now
			b := New("test", o)
			held := map[string]func(error){}
			for i, s := range tt.steps {
				clock.Advance(s.advance)
				switch {
				case s.call || s.hold != "":
					done, err := b.Allow()
					if !errors.Is(err, s.wantErr) || (s.wantErr == nil) != (err == nil) {
						t.Fatalf("step %d: Allow() error = %v, want %v", i, err, s.wantErr)
					}
					if err != nil {
						break
					}
					if s.hold != "" {
						held[s.hold] = done
					} else {
						done(s.result)
					}
				case s.release != "":
					held[s.release](s.result)
				}
				if got := b.State(); got != s.want {
					t.Fatalf("step %d: state = %v, want %v", i, got, s.want)
				}
			}
		})
	}
}

func TestErrorsNameTheBreaker(t *testing.T) {
	clock := newFakeClock()
	b := New("payments", Options{VolumeThreshold: 1, Clock: clock.Now})
	_, err := Do(context.Background(), b, func(context.Context) (int, error) { return 0, errBoom })
	if err != errBoom {
		t.Fatalf("Do error = %v, want the call's error", err)
	}
	_, err = Do(context.Background(), b, func(context.Context) (int, error) {
		t.Fatal("fn called while open")
		return 0, nil
	})
	if !errors.Is(err, ErrOpen) || !strings.Contains(err.Error(), `"payments"`) {
		t.Fatalf("Do error = %q, want ErrOpen naming payments", err)
	}
}

func TestDoTimeout(t *testing.T) {
	b := New("slow", Options{Timeout: time.Millisecond, VolumeThreshold: 1})
	_, err := Do(context.Background(), b, func(ctx context.Context) (int, error) {
		<-ctx.Done() // wait for the breaker's deadline, not a sleep
		return 0, ctx.Err()
	})
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Do error = %v, want ErrTimeout wrapping context.DeadlineExceeded", err)
	}
	if want := `breaker "slow": call timed out after 1ms: context deadline exceeded`; err.Error() != want {
		t.Fatalf("Do error = %q, want %q", err, want)
	}
	if b.State() != StateOpen {
		t.Fatalf("state = %v after a timeout with VolumeThreshold 1, want open", b.State())
	}
}

// fn ignores the error of its context and succeeds, too late: Do waits for
// it, then reports the timeout.
func TestDoLateSuccessIsTimeout(t *testing.T) {
	b := New("slow", Options{Timeout: time.Millisecond, VolumeThreshold: 1})
	v, err := Do(context.Background(), b, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 42, nil // returns a value, but too late
	})
	if !errors.Is(err, ErrTimeout) || v != 0 {
		t.Fatalf("Do = %d, %v; want 0, ErrTimeout", v, err)
	}
	if want := `breaker "slow": call timed out after 1ms`; err.Error() != want {
		t.Fatalf("Do error = %q, want %q", err, want)
	}
	if b.State() != StateOpen {
		t.Fatalf("state = %v after a late success with VolumeThreshold 1, want open", b.State())
	}
}

// The caller's deadline, shorter than Timeout, is the caller's: Do returns
// the context's error, not ErrTimeout.
func TestDoCallerDeadlineIsNotTimeout(t *testing.T) {
	b := New("c", Options{Timeout: time.Hour, VolumeThreshold: 1})
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	_, err := Do(ctx, b, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	})
	if err != context.DeadlineExceeded {
		t.Fatalf("Do error = %v, want the caller's context.DeadlineExceeded, not ErrTimeout", err)
	}
}

func TestDoCallerCancelIsNotTimeout(t *testing.T) {
	b := New("c", Options{Timeout: time.Hour, VolumeThreshold: 1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Do(ctx, b, func(ctx context.Context) (int, error) { return 0, ctx.Err() })
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("Do error = %v, want context.Canceled", err)
	}
	if b.State() != StateClosed {
		t.Fatalf("state = %v, want closed: a cancelled call is not a failure", b.State())
	}
}

func TestDoPanicCountsAsFailure(t *testing.T) {
	b := New("p", Options{VolumeThreshold: 1})
	func() {
		defer func() {
			if r := recover(); r != "kaboom" {
				t.Fatalf("recovered %v, want the original panic value", r)
			}
		}()
		Do(context.Background(), b, func(context.Context) (int, error) { panic("kaboom") })
	}()
	if b.State() != StateOpen {
		t.Fatalf("state = %v after a panic with VolumeThreshold 1, want open", b.State())
	}
}

func TestDoWithFallbackReasons(t *testing.T) {
	clock := newFakeClock()
	b := New("f", Options{VolumeThreshold: 1, HalfOpenMax: 1, Clock: clock.Now})
	var reasons []error
	fallback := func(_ context.Context, reason error) (string, error) {
		reasons = append(reasons, reason)
		return "fallback", nil
	}
	call := func(err error) string {
		v, ferr := DoWithFallback(context.Background(), b, func(context.Context) (string, error) {
			if err != nil {
				return "", err
			}
			return "primary", nil
		}, fallback)
		if ferr != nil {
			t.Fatalf("DoWithFallback error = %v, want nil", ferr)
		}
		return v
	}
	if v := call(nil); v != "primary" {
		t.Fatalf("healthy call = %q, want primary", v)
	}
	if v := call(errBoom); v != "fallback" {
		t.Fatalf("failed call = %q, want fallback", v)
	}
	if v := call(nil); v != "fallback" {
		t.Fatalf("call while open = %q, want fallback", v)
	}
	clock.Advance(DefaultResetTimeout)
	done, err := b.Allow() // takes the only trial permit
	if err != nil {
		t.Fatal(err)
	}
	if v := call(nil); v != "fallback" {
		t.Fatalf("call while half-open with no permit left = %q, want fallback", v)
	}
	done(nil)
	if len(reasons) != 3 || reasons[0] != errBoom || !errors.Is(reasons[1], ErrOpen) || !errors.Is(reasons[2], ErrTooManyTrials) {
		t.Fatalf("reasons = %v, want [boom, ErrOpen, ErrTooManyTrials]", reasons)
	}
}

// DoWithFallback calls fallback only when the breaker turned the call away
// or counted it failed.
func TestDoWithFallbackOnlyOnFailure(t *testing.T) {
	notFound := errors.New("not found")
	isFailure := func(err error) bool { return !errors.Is(err, notFound) }
	tests := []struct {
		name         string
		timeout      time.Duration
		fn           func(ctx context.Context) (string, error)
		want         string
		wantErr      error
		wantFallback bool
	}{
		{"success", 0, func(context.Context) (string, error) { return "primary", nil }, "primary", nil, false},
		{"failure", 0, func(context.Context) (string, error) { return "", errBoom }, "fallback", nil, true},
		{"timeout", time.Millisecond, func(ctx context.Context) (string, error) {
			<-ctx.Done()
			return "late", nil
		}, "fallback", nil, true},
		{"cancelled", 0, func(context.Context) (string, error) {
			return "partial", fmt.Errorf("query: %w", context.Canceled)
		}, "partial", context.Canceled, false},
		{"not a failure", 0, func(context.Context) (string, error) { return "", notFound }, "", notFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New("f", Options{Timeout: tt.timeout, IsFailure: isFailure})
			var reason error
			v, err := DoWithFallback(context.Background(), b, tt.fn, func(_ context.Context, r error) (string, error) {
				reason = r
				return "fallback", nil
			})
			if v != tt.want || !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("DoWithFallback = %q, %v; want %q, %v", v, err, tt.want, tt.wantErr)
			}
			if (reason != nil) != tt.wantFallback {
				t.Errorf("fallback called with %v, want called: %v", reason, tt.wantFallback)
			}
		})
	}
}

func TestOptionsDefaults(t *testing.T) {
	o := Options{ErrorThreshold: 300, Buckets: -1, Window: 5, HalfOpenMax: -2}.normalized()
	if o.ErrorThreshold != 100 || o.Buckets != 5 || o.HalfOpenMax != DefaultHalfOpenMax ||
		o.VolumeThreshold != DefaultVolumeThreshold || o.ResetTimeout != DefaultResetTimeout {
		t.Fatalf("normalized = %+v", o)
	}
}

func TestIsFailure(t *testing.T) {
	notFound := errors.New("not found")
	all := func(error) bool { return true }
	tests := []struct {
		name      string
		isFailure func(error) bool
		err       error
		want      State
	}{
		{"default counts every error", nil, context.DeadlineExceeded, StateOpen},
		{"default does not count Canceled", nil, context.Canceled, StateClosed},
		{"rejected error is not a failure", func(err error) bool { return !errors.Is(err, notFound) }, notFound, StateClosed},
		{"accepted error is a failure", func(err error) bool { return !errors.Is(err, notFound) }, errBoom, StateOpen},
		{"Canceled is not counted even if IsFailure says so", all, context.Canceled, StateClosed},
		{"wrapped Canceled is not counted either", all, fmt.Errorf("query: %w", context.Canceled), StateClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New("f", Options{VolumeThreshold: 1, IsFailure: tt.isFailure})
			done, err := b.Allow()
			if err != nil {
				t.Fatal(err)
			}
			done(tt.err)
			if b.State() != tt.want {
				t.Fatalf("state = %v after one call returning %v, want %v", b.State(), tt.err, tt.want)
			}
		})
	}
}

// A cancelled trial gives its permit back even if IsFailure calls it a
// failure.
func TestIsFailureCancelledTrial(t *testing.T) {
	clock := newFakeClock()
	b := New("f", Options{VolumeThreshold: 1, Clock: clock.Now, IsFailure: func(error) bool { return true }})
	done, _ := b.Allow()
	done(errBoom)
	clock.Advance(DefaultResetTimeout)
	done, err := b.Allow()
	if err != nil {
		t.Fatal(err)
	}
	done(context.Canceled)
	if b.State() != StateHalfOpen {
		t.Fatalf("state = %v after a cancelled trial, want half-open", b.State())
	}
	if _, err := b.Allow(); err != nil {
		t.Fatalf("Allow after a cancelled trial: %v, want the permit back", err)
	}
}

// The closed-state success path allocates nothing.
func TestClosedSuccessAllocs(t *testing.T) {
	b := New("a", Options{})
	ctx := context.Background()
	fn := func(context.Context) (int, error) { return 1, nil }
	if n := testing.AllocsPerRun(100, func() {
		if _, err := Do(ctx, b, fn); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Do: %v allocations per call, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		done, err := b.Allow()
		if err != nil {
			t.Fatal(err)
		}
		done(nil)
	}); n != 0 {
		t.Errorf("Allow and done: %v allocations per call, want 0", n)
	}
}
