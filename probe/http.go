package probe

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
)

// runHTTP sends p's request and judges the answer: status, body_contains,
// then degraded_when. Run checks max_latency.
func runHTTP(ctx context.Context, p *model.Probe, client *http.Client) verdict {
	req, err := http.NewRequestWithContext(ctx, p.MethodOrDefault(), p.HTTP, nil)
	if err != nil {
		return verdict{err: fmt.Errorf("http probe %q: %w", p.HTTP, err)}
	}
	resp, err := noRedirects(client).Do(req)
	if err != nil {
		return verdict{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return verdict{err: fmt.Errorf("%s: reading body: %w", resp.Status, err)}
	}

	if want := p.ExpectStatusOrDefault(); resp.StatusCode != want {
		return down(fmt.Sprintf("%s (want %d): body %q", resp.Status, want, head(body)))
	}
	if p.BodyContains != "" && !strings.Contains(string(body), p.BodyContains) {
		return down(fmt.Sprintf("%s: body does not contain %q: body %q", resp.Status, p.BodyContains, head(body)))
	}
	if d := p.DegradedWhen; d != nil {
		if d.Header != "" {
			for _, v := range resp.Header.Values(d.Header) {
				if d.Value == "" || v == d.Value {
					return verdict{state: analysis.Degraded, detail: http.CanonicalHeaderKey(d.Header) + ": " + v}
				}
			}
		}
		if d.BodyContains != "" && strings.Contains(string(body), d.BodyContains) {
			return verdict{state: analysis.Degraded, detail: fmt.Sprintf("body contains %q", d.BodyContains)}
		}
	}
	return verdict{state: analysis.Up, detail: resp.Status}
}

// noRedirects returns a copy of c (or of a keep-alive-free default) that
// hands back a redirect instead of following it.
func noRedirects(c *http.Client) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DisableKeepAlives = true
		out.Transport = t
	}
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &out
}

func head(b []byte) []byte {
	if len(b) > maxQuoted {
		return b[:maxQuoted]
	}
	return b
}
