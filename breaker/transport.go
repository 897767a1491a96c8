package breaker

import (
	"fmt"
	"net/http"
	"sync"
)

// Transport is an http.RoundTripper that puts a Breaker in front of each
// host (URL.Host, including the port). Transport errors and 5xx responses are
// failures; a 5xx response is still returned to the caller. While a host's
// breaker is open, requests to it fail at once with an error wrapping ErrOpen.
// Options.Timeout is not applied; use http.Client.Timeout or the request's
// context.
type Transport struct {
	// Base makes the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Options configure each host's breaker, named after the host.
	Options Options

	breakers sync.Map   // host → *Breaker
	mu       sync.Mutex // serialises creating breakers: one New per host
}

// Breaker returns the breaker for host, creating it if needed.
func (t *Transport) Breaker(host string) *Breaker {
	if b, ok := t.breakers.Load(host); ok {
		return b.(*Breaker)
	}
	// Under the lock so that no second breaker is created for host and
	// handed to Options.Observer only to be dropped.
	t.mu.Lock()
	defer t.mu.Unlock()
	if b, ok := t.breakers.Load(host); ok {
		return b.(*Breaker)
	}
	b := New(host, t.Options)
	t.breakers.Store(host, b)
	return b
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	done, err := t.Breaker(req.URL.Host).Allow()
	if err != nil {
		if req.Body != nil {
			req.Body.Close() // RoundTrip must close the body, even on errors
		}
		return nil, err
	}
	resp, err := t.base().RoundTrip(req)
	switch {
	case err != nil:
		done(err)
	case resp.StatusCode >= 500:
		done(&statusError{host: req.URL.Host, status: resp.Status})
	default:
		done(nil)
	}
	return resp, err
}

// CloseIdleConnections closes Base's idle connections if Base has a
// CloseIdleConnections method, as *http.Transport does. http.Client's method
// of that name calls it.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.base().(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (t *Transport) base() http.RoundTripper {
	if t.Base == nil {
		return http.DefaultTransport
	}
	return t.Base
}

// statusError is the failure counted for a 5xx response.
type statusError struct{ host, status string }

func (e *statusError) Error() string { return fmt.Sprintf("%s answered %s", e.host, e.status) }
