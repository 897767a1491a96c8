// Package analysis turns a model into findings: the single points of
// failure of every flow with the chain of reasons and the fix (Check), the
// state of every flow under chosen failures (WhatIf), the blast radius of a
// component (Explain) and the SPOF elimination checklist (Checklist).
//
// It does no I/O. The semantics it implements are those of docs/model.md;
// Check's fast incremental algorithm is compared with a brute-force
// evaluator on random models by the tests.
package analysis
