package importer

import (
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/spofhq/spof/model"
)

// Name turns s into a valid model name: characters a name may not hold
// become "-", runs of them one, and a name that would start with one of
// ".", "_", "-" gets an "x" in front. "module.db.aws_db_instance.this[0]"
// becomes "module.db.aws_db_instance.this-0".
func Name(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		ok := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '_' || r == '-'
		switch {
		case ok:
			b.WriteRune(r)
			dash = r == '-'
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if out == "" {
		return "unnamed"
	}
	if !model.ValidName(out) {
		out = "x" + out
	}
	return out
}

// imageKinds maps the last path element of an image name (without tag or
// digest), or its prefix up to a "-", to a kind.
var imageKinds = []struct {
	names []string
	kind  model.Kind
}{
	{[]string{"redis", "valkey", "keydb", "dragonfly", "memcached", "hazelcast", "varnish"}, model.KindCache},
	{[]string{"postgres", "postgresql", "postgis", "mysql", "mariadb", "mongo", "mongodb", "cassandra",
		"scylla", "cockroach", "cockroachdb", "clickhouse", "clickhouse-server", "elasticsearch", "opensearch",
		"mssql-server", "oracle", "couchdb", "couchbase", "neo4j", "influxdb", "timescaledb", "etcd", "yugabyte",
		"spanner-emulator", "dynamodb-local"}, model.KindDatabase},
	{[]string{"rabbitmq", "kafka", "cp-kafka", "redpanda", "nats", "nats-streaming", "pulsar", "activemq",
		"artemis", "zookeeper", "cp-zookeeper", "mosquitto", "emqx", "nsq", "nsqd"}, model.KindQueue},
	{[]string{"minio", "seaweedfs", "ceph", "localstack", "azurite"}, model.KindStorage},
	{[]string{"nginx", "haproxy", "envoy", "traefik", "caddy", "httpd", "apache", "ingress-nginx", "kong"}, model.KindLoadBalancer},
	{[]string{"vault", "sealed-secrets", "external-secrets"}, model.KindSecrets},
	{[]string{"consul", "flagd", "unleash", "config-server", "spring-cloud-config-server"}, model.KindConfig},
	{[]string{"prometheus", "grafana", "jaeger", "all-in-one", "zipkin", "tempo", "loki", "opentelemetry-collector",
		"opentelemetry-collector-contrib", "otel-collector", "alertmanager", "kibana", "fluentd", "fluent-bit",
		"vector", "promtail", "node-exporter"}, model.KindMonitoring},
	{[]string{"coredns", "bind9", "powerdns", "unbound"}, model.KindDNS},
}

// KindFromImage guesses a component's kind from its container image:
// redis and valkey are caches, postgres, mysql and mongo databases,
// rabbitmq, kafka and nats queues, and so on; anything else is a
// service. ok is false for the default.
func KindFromImage(image string) (kind model.Kind, ok bool) {
	base := strings.ToLower(image)
	if i := strings.IndexByte(base, '@'); i >= 0 {
		base = base[:i]
	}
	if i := strings.LastIndexByte(base, '/'); i >= 0 {
		base = base[i+1:]
	}
	if i := strings.IndexByte(base, ':'); i >= 0 {
		base = base[:i]
	}
	for _, k := range imageKinds {
		for _, n := range k.names {
			if base == n || strings.HasPrefix(base, n+"-") || strings.HasPrefix(base, n+"_") {
				return k.kind, true
			}
		}
	}
	return model.KindService, false
}

// A Ref is a network address found in a configuration value.
type Ref struct {
	Host string // as written: "redis", "redis.shop.svc.cluster.local"
	Port int    // 0 when the value gives none
}

var (
	urlRe      = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>,;]+`)
	hostPortRe = regexp.MustCompile(`^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9][a-zA-Z0-9_.-]*):([0-9]{1,5})(?:/.*)?$`)
)

// FindRefs returns the addresses in a configuration value (an environment
// variable, an argument, a line of a config file): URLs with a host
// ("postgres://app@db:5432/shop", "http://cart"), and host:port pairs
// ("redis:6379", "--addr=cart:7070"). Loopback and wildcard hosts are
// left out: they name no other component.
func FindRefs(value string) []Ref {
	var out []Ref
	seen := map[Ref]bool{}
	add := func(host string, port int) {
		host = strings.Trim(host, "[]")
		if host == "" || isLocal(host) {
			return
		}
		r := Ref{Host: host, Port: port}
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	rest := value
	for _, loc := range urlRe.FindAllStringIndex(value, -1) {
		raw := value[loc[0]:loc[1]]
		u, err := url.Parse(raw)
		if err == nil && u.Host != "" {
			// Several hosts (mongodb://a:1,b:2/db) are one URL each.
			for _, h := range strings.Split(u.Host, ",") {
				host, port := h, 0
				if hh, pp, err := net.SplitHostPort(h); err == nil {
					host = hh
					port, _ = strconv.Atoi(pp)
				}
				add(host, port)
			}
		}
		rest = strings.Replace(rest, raw, strings.Repeat(" ", len(raw)), 1)
	}
	tokens := strings.FieldsFunc(rest, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || strings.ContainsRune(`,;"'()<>`, r)
	})
	for _, tok := range tokens {
		// --addr=cart:7070, user@host:22
		if i := strings.LastIndexAny(tok, "=@"); i >= 0 {
			tok = tok[i+1:]
		}
		m := hostPortRe.FindStringSubmatch(tok)
		if m == nil {
			continue
		}
		port, err := strconv.Atoi(m[2])
		if err != nil || port < 1 || port > 65535 {
			continue
		}
		if isVersionLike(m[1]) {
			continue
		}
		add(m[1], port)
	}
	return out
}

// isVersionLike rejects "1.2" in "image:1.2:80"-like noise: a host that is
// only digits and dots but not an IPv4 address.
func isVersionLike(host string) bool {
	if strings.Trim(host, "0123456789.") != "" {
		return false
	}
	return net.ParseIP(host) == nil
}

func isLocal(host string) bool {
	switch strings.ToLower(host) {
	case "localhost", "0.0.0.0", "::", "::1", "host.docker.internal":
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}

// IsAddressVar reports whether an environment variable's name says it holds
// the address of another service: *_ADDR, *_ADDRESS, *_HOST, *_HOSTNAME,
// *_URL, *_URI, *_ENDPOINT, *_SERVER(S), *_BROKERS, *_DSN. Such a value
// may be a bare host name ("CART_HOST=cart"), which FindRefs alone would
// not take for a reference.
func IsAddressVar(name string) bool {
	n := strings.ToUpper(name)
	for _, s := range []string{"_ADDR", "_ADDRESS", "_HOST", "_HOSTNAME", "_URL", "_URI", "_ENDPOINT",
		"_SERVER", "_SERVERS", "_BROKER", "_BROKERS", "_DSN", "_SERVICE_ADDR"} {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}
