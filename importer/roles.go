package importer

// IsTelemetryOrAdmin reports whether a component name is a well-known
// telemetry, admin or developer UI's (grafana, jaeger, flagd-ui ...): the
// flows it gives are low, and a call to it is not the caller's own work.
func IsTelemetryOrAdmin(name string) bool { return isTelemetryOrAdmin(name) }

// IsLoadGenerator reports whether a component name is a load generator's
// (locust, k6, load-generator ...): it gives no flow, and no flow needs it.
func IsLoadGenerator(name string) bool { return isLoadGenerator(name) }
