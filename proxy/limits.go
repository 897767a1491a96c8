package proxy

import (
	"encoding/json"
	"fmt"
	"time"
)

// Limits are the caps a Server applies, as GET /spof/limits reports them
// (an endpoint Toxiproxy does not have). A fault that must last a given
// time needs MaxTTL to be zero or at least that long: the server would
// remove it earlier.
type Limits struct {
	// MaxTTL caps the TTL of every toxic, and is the TTL of those added
	// without one. Zero: no cap.
	MaxTTL time.Duration
	// MaxConns caps the proxied connections open at once; zero: no cap.
	MaxConns int
}

// limitsJSON is the wire form: durations as Go duration strings ("15m0s";
// "0s" for no cap), as toxics' TTLs are.
type limitsJSON struct {
	MaxTTL   string `json:"max_ttl"`
	MaxConns int    `json:"max_conns"`
}

// MarshalJSON writes l as {"max_ttl": "15m0s", "max_conns": 1000}.
func (l Limits) MarshalJSON() ([]byte, error) {
	return json.Marshal(limitsJSON{MaxTTL: l.MaxTTL.String(), MaxConns: l.MaxConns})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (l *Limits) UnmarshalJSON(data []byte) error {
	var w limitsJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	d, err := time.ParseDuration(w.MaxTTL)
	if err != nil || d < 0 {
		return fmt.Errorf("max_ttl %q: want a duration such as \"15m0s\" (\"0s\": no cap)", w.MaxTTL)
	}
	if w.MaxConns < 0 {
		return fmt.Errorf("max_conns %d: must not be negative (0: no cap)", w.MaxConns)
	}
	*l = Limits{MaxTTL: d, MaxConns: w.MaxConns}
	return nil
}

// Limits returns the caps s applies.
func (s *Server) Limits() Limits {
	return Limits{MaxTTL: s.opts.MaxTTL, MaxConns: max(s.opts.MaxConns, 0)}
}
