package model

// ParsePieces is parsePieces, for the external tests: it reports whether
// the model was loaded in pieces.
func ParsePieces(file string, data []byte) (*Model, bool) {
	m, _ := parsePieces(file, data)
	return m, m != nil
}

// SetParallelComponents sets parallelComponents and returns a function
// that restores it.
func SetParallelComponents(n int) (restore func()) {
	saved := parallelComponents
	parallelComponents = n
	return func() { parallelComponents = saved }
}
