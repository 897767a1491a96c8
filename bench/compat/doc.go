// Package compat checks that spof's proxy server (package
// github.com/spofhq/spof/proxy) works with Toxiproxy's official Go client,
// v2.12.0, across the client's whole API, and that the faults it injects
// behave as Toxiproxy's do. The same checks also run against Toxiproxy
// itself, in process, so that they describe Toxiproxy's behaviour and not
// merely ours. The package has only tests; it lives in the bench module so
// that Toxiproxy stays out of spof's own go.mod.
package compat
