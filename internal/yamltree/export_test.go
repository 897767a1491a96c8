package yamltree

import "testing"

// CheckSame is checkSame for the external tests.
var CheckSame = checkSame

// CheckParallel is checkParallel, with small pieces, for the external tests.
func CheckParallel(t *testing.T, name string, data []byte) bool {
	small(t)
	return checkParallel(t, name, data)
}
