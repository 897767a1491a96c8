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
}

// limitsJSON is the wire form: durations as Go duration strings ("15m0s";
// "0s" for no cap), as toxics' TTLs are.
type limitsJSON struct {
	MaxTTL string `json:"max_ttl"`
}

// MarshalJSON writes l as {"max_ttl": "15m0s"}.
func (l Limits) MarshalJSON() ([]byte, error) {
	return json.Marshal(limitsJSON{MaxTTL: l.MaxTTL.String()})
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
	*l = Limits{MaxTTL: d}
	return nil
}

// Limits returns the caps s applies.
func (s *Server) Limits() Limits {
	return Limits{MaxTTL: s.opts.MaxTTL}
}
