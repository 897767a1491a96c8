package probe

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/publicsuffix"

	"github.com/spofhq/spof/model"
)

// DefaultDNSTimeout bounds each DNS query when DNSOptions.Timeout is 0.
const DefaultDNSTimeout = 3 * time.Second

// DNSOptions are what DNS needs from its caller. The zero value works.
type DNSOptions struct {
	// Resolver is the recursive resolver asked for NS records and name
	// server addresses: "host" or "host:port" (port 53 by default). ""
	// means the first nameserver of /etc/resolv.conf.
	Resolver string
	// NameServerPort is the port each name server is queried on
	// directly for the zone's SOA; 0 means 53.
	NameServerPort int
	// Timeout bounds each query; 0 means DefaultDNSTimeout. A name server
	// that does not answer costs at most this, as all are asked at once.
	Timeout time.Duration
	// Component names the dns component of Component, Snippet and the
	// hazards; "" means "dns-" followed by the domain.
	Component string
}

// A DNSReport is what DNS found about one domain's name servers.
type DNSReport struct {
	Domain      string       `json:"domain"`   // without the final dot
	Resolver    string       `json:"resolver"` // host:port asked for NS and addresses
	NameServers []NameServer `json:"name_servers"`
	// Providers groups NameServers by who runs them, most name servers
	// first. One entry means every name server fails with that provider.
	Providers []DNSProvider `json:"providers"`
	// SerialsAgree is true when every name server that answered gave the
	// same SOA serial (and at least one answered).
	SerialsAgree bool      `json:"serials_agree"`
	Findings     []Finding `json:"findings"`
	// Component is the name Component, Snippet and Hazards give the
	// domain's dns component; set it to match a hand-written model.
	Component string `json:"component"`
}

// A NameServer is one NS record of the domain and what it answered.
type NameServer struct {
	Name      string   `json:"name"`     // host name, without the final dot
	Provider  string   `json:"provider"` // DNSProvider.ID
	Addresses []string `json:"addresses"`
	// Glue is true when the addresses came with the NS answer (additional
	// section), false when they were resolved separately.
	Glue bool `json:"glue"`
	// Answered is true when the name server gave an authoritative SOA.
	Answered bool   `json:"answered"`
	Serial   uint32 `json:"serial,omitempty"`
	// Error says why it did not answer, when it did not.
	Error string `json:"error,omitempty"`
}

// A DNSProvider is who runs some of the domain's name servers.
type DNSProvider struct {
	// ID is a valid model provider name: "awsdns", "cloudflare", or the
	// registrable domain of the name servers for an unknown provider.
	ID          string   `json:"id"`
	Name        string   `json:"name"` // "AWS Route 53"
	NameServers []string `json:"name_servers"`
}

// String is the name, and the ID when it differs: "AWS Route 53
// (awsdns)", "example.net".
func (p DNSProvider) String() string {
	if p.Name == p.ID {
		return p.Name
	}
	return p.Name + " (" + p.ID + ")"
}

// dnsProviders are the well-known DNS hosts, matched on the registrable
// domain (eTLD+1) of a name server: ns-123.awsdns-45.com is awsdns-45.com.
var dnsProviders = []struct {
	id, name string
	domain   *regexp.Regexp
}{
	{"awsdns", "AWS Route 53", regexp.MustCompile(`^awsdns-\d+\.(com|net|org|co\.uk)$`)},
	{"cloudflare", "Cloudflare", regexp.MustCompile(`^cloudflare\.com$`)},
	{"google", "Google Cloud DNS", regexp.MustCompile(`^googledomains\.com$`)},
	{"google", "Google", regexp.MustCompile(`^google\.com$`)}, // Google's own zones
	{"azure-dns", "Azure DNS", regexp.MustCompile(`^azure-dns\.(com|net|org|info)$`)},
	{"nsone", "NS1", regexp.MustCompile(`^nsone\.net$`)},
	{"ultradns", "UltraDNS", regexp.MustCompile(`^ultradns\.(com|net|org|biz|info|co\.uk)$`)},
	{"dynect", "Dyn (Oracle)", regexp.MustCompile(`^dynect\.net$`)},
	{"oraclecloud", "Oracle Cloud DNS", regexp.MustCompile(`^oraclecloud\.net$`)},
	{"akamai", "Akamai Edge DNS", regexp.MustCompile(`^(akam|akamaiedge|akamai)\.net$`)},
	{"godaddy", "GoDaddy", regexp.MustCompile(`^domaincontrol\.com$`)},
	{"namecheap", "Namecheap", regexp.MustCompile(`^registrar-servers\.com$`)},
	{"digitalocean", "DigitalOcean", regexp.MustCompile(`^digitalocean\.com$`)},
	{"linode", "Linode", regexp.MustCompile(`^linode\.com$`)},
	{"hetzner", "Hetzner", regexp.MustCompile(`^(hetzner\.(com|de)|your-server\.de|second-ns\.(com|de))$`)},
	{"ovh", "OVHcloud", regexp.MustCompile(`^ovh\.(net|ca)$`)},
	{"gandi", "Gandi", regexp.MustCompile(`^gandi\.net$`)},
	{"dnsimple", "DNSimple", regexp.MustCompile(`^dnsimple(-edge)?\.(com|net|org|info)$`)},
	{"dnsmadeeasy", "DNS Made Easy", regexp.MustCompile(`^dnsmadeeasy\.com$`)},
	{"constellix", "Constellix", regexp.MustCompile(`^constellix\.(com|net)$`)},
	{"easydns", "easyDNS", regexp.MustCompile(`^easydns\.(com|net|org|info)$`)},
	{"he", "Hurricane Electric", regexp.MustCompile(`^he\.net$`)},
	{"vercel", "Vercel", regexp.MustCompile(`^vercel-dns\.com$`)},
	{"alidns", "Alibaba Cloud DNS", regexp.MustCompile(`^(alidns|hichina)\.com$`)},
	{"wix", "Wix", regexp.MustCompile(`^wixdns\.net$`)},
}

// providerOf says who runs the name server host, for a zone whose
// registrable domain is zoneSite.
func providerOf(host, zoneSite string) (id, name string) {
	site := registrable(host)
	for _, p := range dnsProviders {
		if p.domain.MatchString(site) {
			return p.id, p.name
		}
	}
	if site == zoneSite {
		return site, "self-hosted"
	}
	return site, site
}

// registrable returns host's eTLD+1 (example.co.uk), or host itself when
// it has none.
func registrable(host string) string {
	site, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return site
}

// DNS asks opts.Resolver for domain's NS records and each name server's
// addresses, then asks every name server directly for the zone's SOA.
// It groups the name servers by provider and reports, as findings, every
// name server at one provider (a single point of failure), name servers
// that do not answer or are not authoritative, and SOA serials that differ.
//
// Its errors wrap ErrBadInput (domain or resolver not well formed, or a
// domain with no NS records of its own) or ErrUnreachable (the resolver did
// not answer); a name server that does not answer is a finding.
func DNS(ctx context.Context, domain string, opts DNSOptions) (*DNSReport, error) {
	zone, err := checkDomain(domain)
	if err != nil {
		return nil, err
	}
	resolver, err := resolverAddr(opts.Resolver)
	if err != nil {
		return nil, err
	}
	timeout := cmp.Or(opts.Timeout, DefaultDNSTimeout)
	port := strconv.Itoa(cmp.Or(opts.NameServerPort, 53))
	q := querier{timeout: timeout}

	names, glue, err := q.nameServers(ctx, resolver, zone)
	if err != nil {
		return nil, err
	}
	site := registrable(strings.TrimSuffix(zone, "."))
	r := &DNSReport{
		Domain:      strings.TrimSuffix(zone, "."),
		Resolver:    resolver,
		NameServers: make([]NameServer, len(names)),
		Component:   cmp.Or(opts.Component, "dns-"+strings.TrimSuffix(zone, ".")),
		Findings:    []Finding{},
	}
	var wg sync.WaitGroup
	for i, name := range names {
		ns := &r.NameServers[i]
		ns.Name = strings.TrimSuffix(name, ".")
		ns.Provider, _ = providerOf(ns.Name, site)
		ns.Addresses, ns.Glue = glue[name], len(glue[name]) > 0
		wg.Go(func() {
			if !ns.Glue {
				ns.Addresses = q.addresses(ctx, resolver, name)
			}
			q.soa(ctx, ns, zone, port)
		})
	}
	wg.Wait()
	r.Providers = groupProviders(r.NameServers, site)
	r.judge()
	return r, nil
}

// checkDomain returns domain as a lower-case FQDN, or an error saying why
// it is not one.
func checkDomain(domain string) (string, error) {
	d := strings.ToLower(strings.TrimSpace(domain))
	hint := "give a domain such as example.com"
	switch {
	case d == "" || d == ".":
		return "", badInput("probe dns: no domain given (%s)", hint)
	case strings.Contains(d, "://") || strings.ContainsAny(d, "/:@"):
		return "", badInput("probe dns: %q is not a domain name (%s, without scheme, port or path)", domain, hint)
	}
	if _, err := netip.ParseAddr(d); err == nil {
		return "", badInput("probe dns: %q is an IP address, not a domain name (%s)", domain, hint)
	}
	labels, ok := dns.IsDomainName(d)
	if !ok || labels < 2 || len(d) > 254 {
		return "", badInput("probe dns: %q is not a domain name (%s)", domain, hint)
	}
	for _, label := range dns.SplitDomainName(d) {
		if !validLabel(label) {
			return "", badInput("probe dns: %q is not a domain name: label %q (letters, digits and inner hyphens, at most 63; %s)", domain, label, hint)
		}
	}
	return dns.Fqdn(d), nil
}

func validLabel(label string) bool {
	if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
		return false
	}
	for _, c := range label {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// resolverAddr returns the resolver's host:port: s with port 53 added if
// it has none, or the first nameserver of /etc/resolv.conf when s is "".
func resolverAddr(s string) (string, error) {
	if s == "" {
		conf, err := dns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil || len(conf.Servers) == 0 {
			return "", fmt.Errorf("probe dns: no resolver: reading /etc/resolv.conf: %v (give one with --resolver): %w", cmp.Or[error](err, errors.New("no nameserver line")), ErrUnreachable)
		}
		return net.JoinHostPort(conf.Servers[0], cmp.Or(conf.Port, "53")), nil
	}
	if _, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return net.JoinHostPort(strings.Trim(s, "[]"), "53"), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if strings.Contains(err.Error(), "missing port") {
			return net.JoinHostPort(s, "53"), nil
		}
		return "", badInput("probe dns: resolver %q: %v (give host or host:port, e.g. 1.1.1.1 or [::1]:53)", s, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || host == "" {
		return "", badInput("probe dns: resolver %q: want host:port with a port from 1 to 65535", s)
	}
	return s, nil
}

// A querier sends single DNS queries, each bounded by timeout.
type querier struct{ timeout time.Duration }

// exchange sends m to addr over UDP, again over TCP if the answer was
// truncated.
func (q querier) exchange(ctx context.Context, m *dns.Msg, addr string) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, q.timeout)
	defer cancel()
	c := &dns.Client{Timeout: q.timeout}
	in, _, err := c.ExchangeContext(ctx, m, addr)
	if err == nil && in.Truncated {
		c.Net = "tcp"
		in, _, err = c.ExchangeContext(ctx, m, addr)
	}
	return in, err
}

// nameServers asks the resolver for zone's NS records. It returns their
// names, sorted, and the addresses that came with them.
func (q querier) nameServers(ctx context.Context, resolver, zone string) ([]string, map[string][]string, error) {
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeNS)
	m.SetEdns0(4096, false)
	in, err := q.exchange(ctx, m, resolver)
	if err != nil && ctx.Err() != nil {
		return nil, nil, fmt.Errorf("probe dns %s: %w", strings.TrimSuffix(zone, "."), ctx.Err())
	}
	if err != nil {
		return nil, nil, fmt.Errorf("probe dns: asking resolver %s for the NS records of %s: %w: %w", resolver, zone, ErrUnreachable, err)
	}
	switch in.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return nil, nil, badInput("probe dns: %s does not exist (NXDOMAIN from %s)", strings.TrimSuffix(zone, "."), resolver)
	default:
		return nil, nil, fmt.Errorf("probe dns: resolver %s answered %s for the NS records of %s", resolver, dns.RcodeToString[in.Rcode], zone)
	}
	var names []string
	for _, rr := range in.Answer {
		if ns, ok := rr.(*dns.NS); ok && strings.EqualFold(ns.Hdr.Name, zone) {
			names = append(names, strings.ToLower(dns.Fqdn(ns.Ns)))
		}
	}
	if len(names) == 0 {
		hint := "probe the zone's apex"
		for _, rr := range in.Answer {
			if cname, ok := rr.(*dns.CNAME); ok && strings.EqualFold(cname.Hdr.Name, zone) {
				hint = fmt.Sprintf("it is an alias of %s: probe the zone it is in, or that of its target", strings.TrimSuffix(cname.Target, "."))
				return nil, nil, badInput("probe dns: %s has no NS records (%s)", strings.TrimSuffix(zone, "."), hint)
			}
		}
		for _, rr := range in.Ns {
			if soa, ok := rr.(*dns.SOA); ok {
				hint = fmt.Sprintf("it is inside zone %s: probe that", strings.TrimSuffix(soa.Hdr.Name, "."))
			}
		}
		return nil, nil, badInput("probe dns: %s has no NS records (%s)", strings.TrimSuffix(zone, "."), hint)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	glue := map[string][]string{}
	for _, rr := range in.Extra {
		switch a := rr.(type) {
		case *dns.A:
			glue[strings.ToLower(a.Hdr.Name)] = append(glue[strings.ToLower(a.Hdr.Name)], a.A.String())
		case *dns.AAAA:
			glue[strings.ToLower(a.Hdr.Name)] = append(glue[strings.ToLower(a.Hdr.Name)], a.AAAA.String())
		}
	}
	return names, glue, nil
}

// addresses resolves a name server's A and AAAA records, IPv4 first.
func (q querier) addresses(ctx context.Context, resolver, name string) []string {
	var out []string
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		m := new(dns.Msg)
		m.SetQuestion(name, t)
		in, err := q.exchange(ctx, m, resolver)
		if err != nil {
			continue
		}
		for _, rr := range in.Answer {
			switch a := rr.(type) {
			case *dns.A:
				out = append(out, a.A.String())
			case *dns.AAAA:
				out = append(out, a.AAAA.String())
			}
		}
	}
	return out
}

// soa asks ns directly for zone's SOA, at each of its addresses in turn
// until one answers with authority, and records the serial or why not.
func (q querier) soa(ctx context.Context, ns *NameServer, zone, port string) {
	if len(ns.Addresses) == 0 {
		ns.Error = "no address (no glue, no A or AAAA record)"
		return
	}
	var why []string
	for _, addr := range ns.Addresses {
		m := new(dns.Msg)
		m.SetQuestion(zone, dns.TypeSOA)
		m.RecursionDesired = false
		in, err := q.exchange(ctx, m, net.JoinHostPort(addr, port))
		switch {
		case err != nil:
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
				err = fmt.Errorf("no answer within %s", q.timeout)
			}
			why = append(why, fmt.Sprintf("%s: %v", addr, err))
			continue
		case in.Rcode != dns.RcodeSuccess:
			why = append(why, fmt.Sprintf("%s: answered %s (it does not serve the zone: lame delegation)", addr, dns.RcodeToString[in.Rcode]))
			continue
		case !in.Authoritative:
			why = append(why, addr+": answered without authority (lame delegation)")
			continue
		}
		for _, rr := range in.Answer {
			if soa, ok := rr.(*dns.SOA); ok {
				ns.Answered, ns.Serial, ns.Error = true, soa.Serial, ""
				return
			}
		}
		why = append(why, addr+": authoritative answer without an SOA record")
	}
	ns.Error = strings.Join(why, "; ")
}

// groupProviders lists who runs the name servers, most name servers first,
// then by ID.
func groupProviders(servers []NameServer, site string) []DNSProvider {
	var out []DNSProvider
	for _, ns := range servers {
		i := slices.IndexFunc(out, func(p DNSProvider) bool { return p.ID == ns.Provider })
		if i < 0 {
			_, name := providerOf(ns.Name, site)
			out = append(out, DNSProvider{ID: ns.Provider, Name: name})
			i = len(out) - 1
		}
		out[i].NameServers = append(out[i].NameServers, ns.Name)
	}
	slices.SortStableFunc(out, func(a, b DNSProvider) int {
		return cmp.Or(cmp.Compare(len(b.NameServers), len(a.NameServers)), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// judge sets SerialsAgree and the findings.
func (r *DNSReport) judge() {
	var answered []NameServer
	serials := map[uint32][]string{}
	for _, ns := range r.NameServers {
		if ns.Answered {
			answered = append(answered, ns)
			serials[ns.Serial] = append(serials[ns.Serial], ns.Name)
		}
	}
	r.SerialsAgree = len(serials) == 1

	if len(r.NameServers) == 1 {
		r.Findings = append(r.Findings, Finding{SeverityError, "single-name-server",
			fmt.Sprintf("%s has one name server, %s: when it is down, the domain does not resolve", r.Domain, r.NameServers[0].Name),
			"add name servers, at least one at another provider"})
	}
	if len(r.Providers) == 1 && len(r.NameServers) > 1 {
		p := r.Providers[0]
		r.Findings = append(r.Findings, Finding{SeverityError, "single-provider",
			fmt.Sprintf("every name server of %s is at %s: an outage, an account problem or an attack there takes the domain's DNS down", r.Domain, p),
			"add a secondary DNS provider (zone transfers or a multi-provider setup), with NS records at both"})
	}
	if addrs := distinctAddresses(r.NameServers); len(addrs) == 1 && len(r.NameServers) > 1 {
		r.Findings = append(r.Findings, Finding{SeverityError, "one-address",
			fmt.Sprintf("every name server of %s is at one address, %s: one machine or one link down takes the domain's DNS down", r.Domain, addrs[0]),
			"put the name servers on separate machines in separate networks"})
	}
	for _, ns := range r.NameServers {
		if !ns.Answered {
			r.Findings = append(r.Findings, Finding{SeverityWarning, "no-answer",
				fmt.Sprintf("name server %s gave no SOA for %s: %s", ns.Name, r.Domain, ns.Error),
				"fix or remove its NS record: resolvers waste time on it, and the others carry the domain alone"})
		}
	}
	switch {
	case len(answered) == 0:
		r.Findings = append(r.Findings, Finding{SeverityError, "no-authority",
			fmt.Sprintf("no name server of %s answered with authority: the domain does not resolve for resolvers without a cached answer", r.Domain),
			"check the name servers and the delegation at the registrar"})
	case len(serials) > 1:
		var parts []string
		for _, serial := range slices.Sorted(mapKeys(serials)) {
			parts = append(parts, fmt.Sprintf("%d at %s", serial, strings.Join(serials[serial], ", ")))
		}
		r.Findings = append(r.Findings, Finding{SeverityWarning, "serial-mismatch",
			fmt.Sprintf("the name servers of %s serve different versions of the zone: SOA serial %s", r.Domain, strings.Join(parts, "; ")),
			"check zone transfers (NOTIFY, AXFR/IXFR) to the name servers behind"})
	}
}

// distinctAddresses lists the addresses of servers, each once, sorted.
func distinctAddresses(servers []NameServer) []string {
	var out []string
	for _, ns := range servers {
		out = append(out, ns.Addresses...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// ModelComponent is the domain's DNS as a model component: kind dns, one
// replica per name server that answered (at least one; name servers
// sharing their addresses count once), any one of them
// enough, and the provider when every name server is at one, so that the
// model's provider:P event is the outage of that provider. Name servers at
// several providers get no provider: no one provider's outage takes them
// all.
func (r *DNSReport) ModelComponent() *model.Component {
	var names []string
	var answered []NameServer
	for _, ns := range r.NameServers {
		names = append(names, ns.Name)
		if ns.Answered {
			answered = append(answered, ns)
		}
	}
	c := &model.Component{
		Name:        r.Component,
		Kind:        model.KindDNS,
		Description: fmt.Sprintf("name servers of %s: %s", r.Domain, strings.Join(names, ", ")),
		Replicas:    max(min(len(answered), len(distinctAddresses(answered))), 1),
		MinHealthy:  1,
		Failover:    model.DefaultFailover(model.KindDNS),
	}
	if len(r.Providers) == 1 {
		c.Provider = r.Providers[0].ID
	}
	return c
}

// Hazards returns the error findings as hazards that break the component
// named r.Component: for a model that already describes the domain's DNS
// in its own words (set r.Component to its name first). A model that takes
// ModelComponent as it is needs no single-provider hazard: its provider:
// is the same event; Snippet leaves that one out.
func (r *DNSReport) Hazards() []*model.Hazard {
	var out []*model.Hazard
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			out = append(out, &model.Hazard{
				Name:        r.Component + "-" + f.Code,
				Description: f.Message,
				Breaks:      []string{r.Component},
				Fix:         f.Fix,
			})
		}
	}
	return out
}

// Snippet is the model text to paste under a spof.yaml's top level: the
// dns component and the hazards its provider does not already stand for.
func (r *DNSReport) Snippet() ([]byte, error) {
	var hazards []*model.Hazard
	for _, h := range r.Hazards() {
		if h.Name != r.Component+"-single-provider" {
			hazards = append(hazards, h)
		}
	}
	return snippet("suggested by spof probe dns "+r.Domain, []*model.Component{r.ModelComponent()}, hazards)
}

// Text writes the report for a terminal.
func (r *DNSReport) Text(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("DNS %s (resolver %s)\n", r.Domain, r.Resolver)
	ew.printf("name servers:\n")
	for _, ns := range r.NameServers {
		addrs := strings.Join(ns.Addresses, ", ")
		if ns.Glue {
			addrs += " (glue)"
		}
		state := fmt.Sprintf("serial %d", ns.Serial)
		if !ns.Answered {
			state = "no answer: " + ns.Error
		}
		ew.printf("  %s [%s] %s: %s\n", ns.Name, ns.Provider, cmp.Or(addrs, "no address"), state)
	}
	ew.printf("providers:\n")
	for _, p := range r.Providers {
		ew.printf("  %s: %d name server(s)\n", p, len(p.NameServers))
	}
	ew.printf("serials agree: %t\nfindings:\n", r.SerialsAgree)
	writeFindings(ew, r.Findings)
	return ew.err
}

// An errWriter keeps the first write error, so Text can write on and
// report it once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
