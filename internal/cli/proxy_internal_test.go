package cli

import "testing"

// Which --api addresses need a token: all but loopback ones.
func TestLoopbackOnly(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8474":   true,
		"127.0.0.2:8474":   true,
		"[::1]:8474":       true,
		"localhost:8474":   true,
		":8474":            false,
		"0.0.0.0:8474":     false,
		"[::]:8474":        false,
		"192.0.2.10:8474":  false,
		"[2001:db8::1]:80": false,
		"8474":             false,
	} {
		if got := loopbackOnly(addr); got != want {
			t.Errorf("loopbackOnly(%q) = %v, want %v", addr, got, want)
		}
	}
}
