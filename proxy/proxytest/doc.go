// Package proxytest helps test code that uses spof's fault proxy: a fake
// clock that runs toxic TTLs when the test says, and loopback TCP servers
// to put behind a proxy, which end every connection they hold when the
// test ends.
//
// It does not import package proxy: FakeClock satisfies proxy.Clock by
// its methods alone.
package proxytest
