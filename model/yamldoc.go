package model

import (
	"bytes"
	"io"

	"go.yaml.in/yaml/v3"
)

// YAMLDocument parses data, the contents of file, as one YAML document and
// returns its root node, or nil for an empty document (nothing, or only
// null). It reads files that are not models (such as the proxy's config
// file) as strictly as Parse reads a model, and never panics.
//
// Its error is an *Error with the best position yaml.v3 allows
// (file:line:col): a syntax error, more than one document, an alias inside
// the value it names, or aliases that expand the document far beyond its
// size.
func YAMLDocument(file string, data []byte) (*yaml.Node, error) {
	d := &decoder{file: file}
	root, _ := d.yamlDocument(data, `want one YAML document: remove the "---" and what follows`)
	if len(d.errs) > 0 {
		return nil, d.errs[0]
	}
	return root, nil
}

// DescribeNode names what a YAML node holds, for "want X, got Y" messages:
// "a mapping", "a list", `string "x"`, "integer 3", "boolean true", "null".
func DescribeNode(n *yaml.Node) string { return describe(n) }

// ResolveAlias follows an alias node to the node it names; other nodes
// are returned as they are.
func ResolveAlias(n *yaml.Node) *yaml.Node { return resolve(n) }

// yamlDocument parses data as one YAML document and returns its root
// node. When there is none it returns nil, and empty reports whether the
// document is empty; otherwise it has recorded why (one error). multiHint
// is the hint of the error for more than one document.
func (d *decoder) yamlDocument(data []byte, multiHint string) (root *yaml.Node, empty bool) {
	defer func() {
		// yaml.v3 panics on a few malformed inputs instead of returning an
		// error; bad input must never crash the caller.
		if r := recover(); r != nil {
			d.errorf(nil, "", "", "syntax error: the YAML parser failed: %v", r)
			root, empty = nil, false
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, true
		}
		d.syntaxError(data, err)
		return nil, false
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		d.errorf(&next, "", multiHint, "multiple documents")
		return nil, false
	case err != io.EOF:
		d.syntaxError(data, err)
		return nil, false
	}
	if len(doc.Content) == 0 || doc.Content[0].ShortTag() == "!!null" {
		return nil, true
	}
	root = doc.Content[0]
	if !d.checkAliases(root) {
		return nil, false
	}
	return root, false
}
