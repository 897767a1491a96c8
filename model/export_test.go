package model

// ParsePieces is parsePieces, for the external tests.
var ParsePieces = parsePieces

// SetParallelComponents sets parallelComponents and returns a function
// that restores it.
func SetParallelComponents(n int) (restore func()) {
	saved := parallelComponents
	parallelComponents = n
	return func() { parallelComponents = saved }
}
