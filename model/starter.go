package model

import _ "embed"

// Starter is a commented example model that "spof init" writes: a small web
// shop with the usual single points of failure. It parses without errors.
//
//go:embed starter.yaml
var Starter []byte
