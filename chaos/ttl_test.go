package chaos

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckTTL(t *testing.T) {
	ctx := context.Background()
	proxyX := Experiment{Name: "dep-down", Injector: "proxy"}
	cmdX := Experiment{Name: "config-down", Injector: "command"}
	opts := RunOptions{Settle: 2 * time.Second, Duration: 10 * time.Minute, Recovery: 30 * time.Second}
	limit := func(d time.Duration, err error) MaxTTLFunc {
		return func(context.Context, string) (time.Duration, error) { return d, err }
	}
	for _, tc := range []struct {
		name   string
		xs     []Experiment
		maxTTL MaxTTLFunc
		err    string
	}{
		{"within", []Experiment{proxyX}, limit(15*time.Minute, nil), ""},
		{"exactly", []Experiment{proxyX}, limit(10*time.Minute+32*time.Second, nil), ""},
		{"no cap", []Experiment{proxyX}, limit(0, nil), ""},
		{"no answer", []Experiment{proxyX}, limit(0, errors.New("unreachable")), ""},
		{"not a proxy fault", []Experiment{cmdX}, limit(time.Minute, nil), ""},
		{"too long", []Experiment{cmdX, proxyX}, limit(5*time.Minute, nil),
			"dep-down: the fault must last 10m32s (--settle 2s + --duration 10m0s + --recovery 30s), but the proxy at http://api removes every fault after 5m0s (its --max-ttl)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckTTL(ctx, tc.xs, "http://api", opts, tc.maxTTL)
			if (err == nil) != (tc.err == "") || (err != nil && !strings.HasPrefix(err.Error(), tc.err)) {
				t.Errorf("CheckTTL = %v, want %q", err, tc.err)
			}
		})
	}
}
