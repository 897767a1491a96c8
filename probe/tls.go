package probe

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

// Defaults of TLSOptions.
const (
	DefaultTLSTimeout = 10 * time.Second
	DefaultWarnDays   = 21
)

// TLSOptions are what TLS needs from its caller. The zero value works.
type TLSOptions struct {
	// ServerName is sent as SNI and checked against the certificate; ""
	// means each address's host (no SNI for an IP address, whose
	// certificate must then name that IP).
	ServerName string
	// RootCAs verifies chains; nil means the system roots.
	RootCAs *x509.CertPool
	// WarnDays: a certificate in the chain expiring in fewer days is a
	// finding and a hazard; 0 means DefaultWarnDays.
	WarnDays int
	// Timeout bounds each connection and handshake; 0 means
	// DefaultTLSTimeout. Addresses are probed at once.
	Timeout time.Duration
	// Now is the clock expiry is judged by; nil means time.Now.
	Now func() time.Time
}

// A TLSReport is what TLS found at one address.
type TLSReport struct {
	Addr       string `json:"addr"`        // host:port as given
	ServerName string `json:"server_name"` // the name checked (and SNI unless an IP)
	// Component is the name the hazards break: the server name as a model
	// name by default; set it to match a hand-written model.
	Component string `json:"component"`
	// Error says why no certificate was seen (connection or handshake);
	// the other fields are then empty.
	Error string `json:"error,omitempty"`

	Version   string    `json:"tls_version,omitempty"`
	Subject   string    `json:"subject,omitempty"`
	Issuer    string    `json:"issuer,omitempty"`
	SANs      []string  `json:"sans,omitempty"` // DNS names, then IPs
	NotBefore time.Time `json:"not_before,omitzero"`
	NotAfter  time.Time `json:"not_after,omitzero"`
	// DaysLeft is the whole days until the leaf expires, negative once
	// it has.
	DaysLeft int `json:"days_left"`
	// ChainValid: the chain leads to a trusted root (expiry judged
	// separately, by DaysLeft and the findings).
	ChainValid bool `json:"chain_valid"`
	// HostnameValid: the leaf names ServerName.
	HostnameValid bool      `json:"hostname_valid"`
	Findings      []Finding `json:"findings"`
}

// TLS connects to each "host:port" of addrs at once, completes a handshake
// (SNI = host, or opts.ServerName) and judges the certificate it gets:
// days to expiry of the leaf and of the rest of the chain, the chain
// against opts.RootCAs or the system roots, the host name. An expired,
// untrusted or mismatched certificate is a finding, not an error.
//
// It returns one report per address, in order. A malformed address is an
// error wrapping ErrBadInput, and nothing is probed. An address that cannot
// be reached or gives no handshake still has its report (with Error set),
// and the returned error joins one error per such address, naming it and
// wrapping ErrUnreachable.
func TLS(ctx context.Context, addrs []string, opts TLSOptions) ([]TLSReport, error) {
	if len(addrs) == 0 {
		return nil, badInput("probe tls: no address given (give host:port, e.g. example.com:443)")
	}
	reports := make([]TLSReport, len(addrs))
	var bad []error
	for i, addr := range addrs {
		host, err := checkAddr(addr)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		name := cmp.Or(opts.ServerName, host)
		reports[i] = TLSReport{Addr: addr, ServerName: name, Component: importer.Name(name), Findings: []Finding{}}
	}
	if len(bad) > 0 {
		return nil, errors.Join(bad...)
	}

	now := opts.Now
	if now == nil {
		now = time.Now
	}
	errs := make([]error, len(addrs))
	var wg sync.WaitGroup
	for i := range reports {
		wg.Go(func() { errs[i] = probeTLS(ctx, &reports[i], opts, now) })
	}
	wg.Wait()
	return reports, errors.Join(errs...)
}

// checkAddr returns the host of a "host:port" address, or an error saying
// what is wrong with it.
func checkAddr(addr string) (string, error) {
	if u, err := url.Parse(addr); err == nil && u.Scheme != "" && u.Host != "" {
		return "", badInput("probe tls: %q is a URL: give host:port (%s)", addr, net.JoinHostPort(u.Hostname(), cmp.Or(u.Port(), "443")))
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		hint := "give host:port, e.g. example.com:443 or [2001:db8::1]:443"
		if strings.Contains(err.Error(), "missing port") {
			return "", badInput("probe tls: %q: missing port (%s)", addr, hint)
		}
		return "", badInput("probe tls: %q: %v (%s)", addr, err, hint)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", badInput("probe tls: %q: port %q is not a number from 1 to 65535", addr, port)
	}
	if host == "" {
		return "", badInput("probe tls: %q: no host (give host:port, e.g. example.com:443)", addr)
	}
	return host, nil
}

// probeTLS fills r from one handshake; its error is for an address that
// gave no certificate.
func probeTLS(parent context.Context, r *TLSReport, opts TLSOptions, now func() time.Time) error {
	timeout := cmp.Or(opts.Timeout, DefaultTLSTimeout)
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	d := tls.Dialer{
		NetDialer: &net.Dialer{},
		// The chain and the name are judged below, so that a bad
		// certificate is reported with its details instead of failing
		// the handshake.
		Config: &tls.Config{ServerName: r.ServerName, InsecureSkipVerify: true}, //nolint:gosec
	}
	conn, err := d.DialContext(ctx, "tcp", r.Addr)
	if err != nil && parent.Err() != nil {
		r.Error = parent.Err().Error()
		return fmt.Errorf("probe tls %s: %w", r.Addr, parent.Err())
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			err = fmt.Errorf("no handshake within %s", timeout)
		}
		r.Error = err.Error()
		return fmt.Errorf("probe tls %s: %w: %w", r.Addr, ErrUnreachable, err)
	}
	state := conn.(*tls.Conn).ConnectionState()
	conn.Close()
	if len(state.PeerCertificates) == 0 {
		r.Error = "the server sent no certificate"
		return fmt.Errorf("probe tls %s: %w: %s", r.Addr, ErrUnreachable, r.Error)
	}
	r.Version = tls.VersionName(state.Version)
	judgeCert(r, state.PeerCertificates, opts, now())
	return nil
}

// judgeCert fills r from the chain the server sent, leaf first, as seen at
// time now.
func judgeCert(r *TLSReport, chain []*x509.Certificate, opts TLSOptions, now time.Time) {
	leaf := chain[0]
	warnDays := cmp.Or(opts.WarnDays, DefaultWarnDays)
	r.Subject = leaf.Subject.String()
	r.Issuer = leaf.Issuer.String()
	r.SANs = append(r.SANs, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		r.SANs = append(r.SANs, ip.String())
	}
	r.NotBefore, r.NotAfter = leaf.NotBefore, leaf.NotAfter
	r.DaysLeft = daysUntil(now, leaf.NotAfter)

	add := func(sev Severity, code, fix, format string, args ...any) {
		r.Findings = append(r.Findings, Finding{Severity: sev, Code: code, Message: fmt.Sprintf(format, args...), Fix: fix})
	}
	switch {
	case now.After(leaf.NotAfter):
		add(SeverityError, "expired", "renew it, and automate renewal (ACME, cert-manager) with an alert well before expiry",
			"the certificate of %s expired on %s (%d days ago): clients that verify refuse every connection",
			r.Addr, leaf.NotAfter.UTC().Format(time.DateOnly), -r.DaysLeft)
	case now.Before(leaf.NotBefore):
		add(SeverityError, "not-yet-valid", "check the issuing clock, or serve the previous certificate until then",
			"the certificate of %s is valid only from %s", r.Addr, leaf.NotBefore.UTC().Format(time.RFC3339))
	case r.DaysLeft < warnDays:
		add(SeverityWarning, "expiring", "renew it now, and check why automated renewal has not (renewal usually runs 30 days before expiry)",
			"the certificate of %s expires on %s, in %d days (under %d): if it is not renewed, clients refuse every connection",
			r.Addr, leaf.NotAfter.UTC().Format(time.DateOnly), r.DaysLeft, warnDays)
	}
	for _, c := range chain[1:] {
		if days := daysUntil(now, c.NotAfter); days < warnDays {
			add(SeverityWarning, "chain-expiring", "serve a chain with a current intermediate from the CA",
				"%s in the chain of %s expires on %s (in %d days)", c.Subject, r.Addr, c.NotAfter.UTC().Format(time.DateOnly), days)
		}
	}

	r.HostnameValid = leaf.VerifyHostname(r.ServerName) == nil
	if !r.HostnameValid {
		add(SeverityError, "hostname-mismatch", "issue a certificate that names it (or connect with the name the certificate is for)",
			"the certificate of %s does not name %s: it is for %s", r.Addr, r.ServerName, strings.Join(r.SANs, ", "))
	}

	// Trust is judged inside the leaf's validity, so that an expired
	// certificate from a trusted CA is reported as expired, not also as
	// untrusted.
	at := now
	if now.After(leaf.NotAfter) || now.Before(leaf.NotBefore) {
		at = leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) / 2)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: opts.RootCAs, Intermediates: inter, CurrentTime: at})
	r.ChainValid = err == nil
	if err != nil && bytes.Equal(leaf.RawIssuer, leaf.RawSubject) && leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature) == nil {
		add(SeverityError, "untrusted", "use a certificate from a public CA, or give clients (and this probe) this certificate as a root",
			"the certificate of %s is self-signed: clients that verify refuse it", r.Addr)
	} else if err != nil {
		add(SeverityError, "untrusted", "serve the full chain from a public CA, or give clients (and this probe) the private root",
			"the certificate chain of %s is not trusted: %v", r.Addr, err)
	}
}

// daysUntil counts whole days from now to t, rounding towards minus
// infinity: 23 hours left is 0 days, 1 hour past is -1.
func daysUntil(now, t time.Time) int {
	return int(math.Floor(t.Sub(now).Hours() / 24))
}

// Hazards returns the expiry findings (expired, expiring, chain-expiring)
// as hazards that break the component named r.Component: an expiring
// certificate is an event that takes everything behind it down at once.
// Trust and host name findings are broken now, not events to come: they
// stay findings.
func (r *TLSReport) Hazards() []*model.Hazard {
	var out []*model.Hazard
	for _, f := range r.Findings {
		switch f.Code {
		case "expired", "expiring", "chain-expiring":
			name := r.Component + "-certificate-" + f.Code
			if slices.ContainsFunc(out, func(h *model.Hazard) bool { return h.Name == name }) {
				continue
			}
			out = append(out, &model.Hazard{Name: name, Description: f.Message, Breaks: []string{r.Component}, Fix: f.Fix})
		}
	}
	return out
}

// Snippet is the model text of Hazards, to paste under a spof.yaml's top
// level; nil when there is none.
func (r *TLSReport) Snippet() ([]byte, error) {
	return snippet("suggested by spof probe tls "+r.Addr, nil, r.Hazards())
}

// Text writes the report for a terminal.
func (r *TLSReport) Text(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("TLS %s (server name %s)\n", r.Addr, r.ServerName)
	if r.Error != "" {
		ew.printf("  error: %s\n", r.Error)
		return ew.err
	}
	ew.printf("  subject: %s\n  issuer: %s\n  names: %s\n", r.Subject, r.Issuer, strings.Join(r.SANs, ", "))
	ew.printf("  valid: %s to %s (%d days left)\n", r.NotBefore.UTC().Format(time.RFC3339), r.NotAfter.UTC().Format(time.RFC3339), r.DaysLeft)
	ew.printf("  chain trusted: %t, host name matches: %t, %s\n", r.ChainValid, r.HostnameValid, r.Version)
	writeFindings(ew, r.Findings)
	return ew.err
}
