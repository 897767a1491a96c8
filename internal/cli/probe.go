package cli

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"github.com/spofhq/spof/probe"
)

type probeFlags struct {
	outputFlags
	timeout   time.Duration
	snippet   bool
	component string
}

func (f *probeFlags) register(c *cobra.Command) {
	f.outputFlags.register(c, "text", "text, json")
	c.Flags().DurationVar(&f.timeout, "timeout", 0, "bound each query or connection (default 3s for DNS, 10s for TLS)")
	c.Flags().BoolVar(&f.snippet, "snippet", false, "print the model snippet (component and hazards) to paste into spof.yaml, instead of the report")
	c.Flags().StringVar(&f.component, "component", "", "the model's `name` of the component the findings are about (default: derived from the domain or host)")
}

func newProbeCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "probe",
		Short: "Check live what files cannot show: DNS provider diversity, TLS certificate expiry",
		Long: `probe checks, against the live system, SPOFs that no file shows:

  dns DOMAIN       the domain's name servers, the providers behind them (all at
                   one provider is a SPOF), and whether their SOA serials agree
  tls HOST:PORT... each certificate's days to expiry, chain and host name

Both exit 1 when they find an error (a SPOF, an expired or untrusted
certificate), 0 when there are only warnings or nothing, and 2 when the
input is bad or nothing answers. --snippet prints a model snippet (a
component with its provider, and hazards) to paste into spof.yaml.`,
	}
	c.AddCommand(newProbeDNSCmd(e), newProbeTLSCmd(e))
	return c
}

func newProbeDNSCmd(e *env) *cobra.Command {
	var f probeFlags
	var resolver string
	c := &cobra.Command{
		Use:   "dns DOMAIN",
		Short: "Name servers of a domain, the providers behind them, SOA serial agreement",
		Example: `  spof probe dns example.com                                   # live: asks the real name servers
  spof probe dns example.com --resolver 1.1.1.1 --format json  # live: through that resolver
  spof probe dns example.com --snippet --component dns         # live: a model snippet to paste`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			stop := progress(e, "asking the name servers of "+args[0])
			r, err := probe.DNS(cmd.Context(), args[0], probe.DNSOptions{Resolver: resolver, Timeout: f.timeout, Component: f.component})
			stop()
			if err != nil {
				return probeError(err)
			}
			err = f.emit(e, func(w io.Writer) error {
				switch {
				case f.snippet:
					return writeSnippet(w, r.Snippet)
				case f.format == "json":
					return writeJSON(w, r)
				}
				return r.Text(w)
			})
			if err != nil {
				return err
			}
			return findingsExit(r.Findings)
		},
	}
	f.register(c)
	c.Flags().StringVar(&resolver, "resolver", "", "the recursive resolver to ask, `host[:port]` (default: the first of /etc/resolv.conf)")
	return c
}

func newProbeTLSCmd(e *env) *cobra.Command {
	var f probeFlags
	var serverName, caFile string
	var warnDays int
	c := &cobra.Command{
		Use:   "tls HOST:PORT...",
		Short: "Days to expiry, chain and host name of each certificate",
		Example: `  spof probe tls shop.example.com:443 api.example.com:443                 # live: connects to them
  spof probe tls 10.0.0.5:443 --server-name shop.example.com --warn-days 30  # live: SNI and check as shop.example.com
  spof probe tls internal.example:8443 --ca-file corp-root.pem --format json # live: a private CA`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if warnDays < 0 {
				return usageError("--warn-days %d: must not be negative", warnDays)
			}
			opts := probe.TLSOptions{ServerName: serverName, WarnDays: warnDays, Timeout: f.timeout}
			if caFile != "" {
				pem, err := e.readInput(caFile)
				if err != nil {
					return usageError("--ca-file: %v", err)
				}
				opts.RootCAs = x509.NewCertPool()
				if !opts.RootCAs.AppendCertsFromPEM(pem) {
					return usageError("--ca-file %s: no PEM certificate in it", caFile)
				}
			}
			stop := progress(e, fmt.Sprintf("connecting to %s", countOf(len(args), "address", "addresses")))
			reports, err := probe.TLS(cmd.Context(), args, opts)
			stop()
			if err != nil && (errors.Is(err, probe.ErrBadInput) || len(reports) == 0) {
				return probeError(err)
			}
			var findings []probe.Finding
			for i := range reports {
				if f.component != "" {
					reports[i].Component = f.component
				}
				findings = append(findings, reports[i].Findings...)
			}
			werr := f.emit(e, func(w io.Writer) error {
				switch {
				case f.format == "json":
					return writeJSON(w, reports)
				case f.snippet:
					for i := range reports {
						if err := writeSnippet(w, reports[i].Snippet); err != nil {
							return err
						}
					}
					return nil
				}
				for i := range reports {
					if i > 0 {
						fmt.Fprintln(w)
					}
					if err := reports[i].Text(w); err != nil {
						return err
					}
				}
				return nil
			})
			if werr != nil {
				return werr
			}
			if err != nil {
				// Some addresses did not answer: their reports say so.
				return usageError("%v", err)
			}
			return findingsExit(findings)
		},
	}
	f.register(c)
	c.Flags().StringVar(&serverName, "server-name", "", "send this `name` as SNI and check the certificate against it (default: each address's host)")
	c.Flags().IntVar(&warnDays, "warn-days", probe.DefaultWarnDays, "a certificate expiring in fewer `days` is a finding and a hazard")
	c.Flags().StringVar(&caFile, "ca-file", "", "verify chains against the PEM certificates in `FILE` instead of the system's roots")
	return c
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeSnippet(w io.Writer, snippet func() ([]byte, error)) error {
	b, err := snippet()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// findingsExit is exit 1 when a finding is an error.
func findingsExit(findings []probe.Finding) error {
	if slices.ContainsFunc(findings, func(f probe.Finding) bool { return f.Severity == probe.SeverityError }) {
		return &exitError{code: ExitFindings}
	}
	return nil
}

// probeError: bad input and unreachable servers exit 2.
func probeError(err error) error {
	return usageError("%v", err)
}
