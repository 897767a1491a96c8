package yamltree

// CheckSame is checkSame for the external tests.
var CheckSame = checkSame
