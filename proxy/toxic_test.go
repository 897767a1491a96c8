package proxy

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseToxic(t *testing.T) {
	tests := []struct {
		body string
		want Toxic
	}{
		{
			body: `{"type": "latency"}`,
			want: Toxic{Name: "latency_downstream", Type: "latency", Stream: Downstream, Toxicity: 1, Attributes: map[string]int64{"latency": 0, "jitter": 0}},
		},
		{
			body: `{"name": "", "type": "down", "stream": "upstream", "toxicity": 0}`,
			want: Toxic{Name: "down_upstream", Type: "down", Stream: Upstream, Toxicity: 0, Attributes: map[string]int64{}},
		},
		{
			body: `{"name": "cut", "type": "limit_data", "attributes": {"bytes": 10}, "ttl": "1m30s"}`,
			want: Toxic{Name: "cut", Type: "limit_data", Stream: Downstream, Toxicity: 1, Attributes: map[string]int64{"bytes": 10}, TTL: 90 * time.Second},
		},
		{
			// What the API writes back can be posted again.
			body: `{"name": "x", "type": "timeout", "stream": "downstream", "toxicity": 0.25, "attributes": {"timeout": 5}, "ttl": "30s", "expires_at": "2025-01-02T03:04:35Z"}`,
			want: Toxic{Name: "x", Type: "timeout", Stream: Downstream, Toxicity: 0.25, Attributes: map[string]int64{"timeout": 5}, TTL: 30 * time.Second},
		},
	}
	for _, tt := range tests {
		got, err := parseToxic([]byte(tt.body))
		if err != nil {
			t.Errorf("parseToxic(%s): %v", tt.body, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("parseToxic(%s) (-want +got):\n%s", tt.body, diff)
		}
	}
}

// parseToxic never panics, refuses bad input with a 400, and what it
// accepts is a valid toxic that survives a round trip through its JSON
// form unchanged.
func FuzzParseToxic(f *testing.F) {
	for _, seed := range []string{
		`{"type": "latency"}`,
		`{"type": "latency", "attributes": {"latency": 100, "jitter": 10}, "toxicity": 0.5, "stream": "upstream"}`,
		`{"name": "x", "type": "slicer", "attributes": {"average_size": 10, "size_variation": 5, "delay": 1}}`,
		`{"type": "bandwidth", "attributes": {"rate": 1}, "ttl": "1.5s"}`,
		`{"type": "timeout", "ttl": "", "expires_at": null}`,
		`{"type": "down", "toxicity": -0}`,
		`{"type": "limit_data", "attributes": {"bytes": 9223372036854775807}}`,
		`{"type": "latency", "attributes": {"latency": 1e3}}`,
		`{"type": "reset_peer", "toxicity": 1.0000000000000002}`,
		`{"type": "nope"}`,
		`{"type": "latency"} {}`,
		`{"type": "latency", "name": "\ud800"}`,
		`[]`,
		`null`,
		`{`,
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tx, err := parseToxic(data)
		if err != nil {
			if statusOf(err) != http.StatusBadRequest {
				t.Fatalf("parseToxic(%q): status %d for %v, want 400", data, statusOf(err), err)
			}
			return
		}
		if _, ok := kinds[tx.Type]; !ok {
			t.Errorf("accepted unknown type %q", tx.Type)
		}
		if tx.Name == "" || (tx.Stream != Upstream && tx.Stream != Downstream) || tx.Toxicity < 0 || tx.Toxicity > 1 || tx.TTL < 0 {
			t.Errorf("accepted an invalid toxic: %+v", tx)
		}
		for _, a := range kinds[tx.Type] {
			v, ok := tx.Attributes[a.name]
			if !ok {
				t.Errorf("attribute %s missing from %+v", a.name, tx)
			}
			if v < 0 || v > a.max {
				t.Errorf("attribute %s out of its range 0..%d: %+v", a.name, a.max, tx)
			}
		}
		out, err := json.Marshal(tx)
		if err != nil {
			t.Fatalf("marshalling %+v: %v", tx, err)
		}
		again, err := parseToxic(out)
		if err != nil {
			t.Fatalf("parseToxic(%s), its own output: %v", out, err)
		}
		if diff := cmp.Diff(tx, again); diff != "" {
			t.Errorf("round trip through %s (-first +second):\n%s", out, diff)
		}
	})
}

// parseToxic decodes a request to add a toxic, as the API does.
func parseToxic(data []byte) (Toxic, error) {
	var p toxicPatch
	if err := decodeStrict(data, &p); err != nil {
		return Toxic{}, err
	}
	return newToxic(p)
}
