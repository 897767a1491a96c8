//go:build race

package shop_test

// raceEnabled: this test binary, and so the programs it builds, run with
// the race detector.
const raceEnabled = true
