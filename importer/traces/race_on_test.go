//go:build race

package traces

// raceEnabled: the race detector slows the million-span test tenfold.
const raceEnabled = true
