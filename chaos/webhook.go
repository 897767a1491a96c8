package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Notify posts the results that did not pass to a webhook, as JSON that
// Slack's incoming webhooks (and Mattermost's, and most chat tools')
// accept: {"text": "..."}. It posts nothing when every result passed.
func Notify(ctx context.Context, webhook, system string, results []Result) error {
	var bad []Result
	for _, r := range results {
		if r.Verdict != Passed {
			bad = append(bad, r)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "spof chaos: %d of %d experiments on %s did not pass\n", len(bad), len(results), system)
	for _, r := range bad {
		fmt.Fprintf(&b, "• %s: *%s*: %s\n", r.Experiment, r.Verdict, r.Reason)
	}
	body, _ := json.Marshal(struct {
		Text string `json:"text"`
	}{strings.TrimSuffix(b.String(), "\n")})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// The URL is a secret (whoever has a Slack webhook's URL can post to
	// the channel): errors name only its host.
	name := RedactURL(webhook)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhook, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: the URL does not parse", name)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message holds the whole URL
		}
		return fmt.Errorf("webhook %s: %v", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return fmt.Errorf("webhook %s: %s: %s", name, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// RedactURL is what may be printed of a secret URL: its scheme and host,
// the path and query hidden.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "(URL hidden)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}
