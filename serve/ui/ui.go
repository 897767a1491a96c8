// Package ui holds the dashboard's browser side: the script and style of the
// dependency graph page, the vendored libraries they use (cytoscape.js and
// cytoscape-dagre, fetched and verified by scripts/fetch-ui-assets.sh), and
// a template partial that lays out the graph page's elements.
//
// The server serves Static under /static/ (static/graph.js is
// /static/graph.js) and may include the partial in its pages. The contract
// between the page and the server (the elements, data attributes and JSON
// the script reads) is documented at the top of static/graph.js.
package ui

import "embed"

// Static holds the files served under /static/: graph.js, style.css and
// vendor/ (with vendor/VERSIONS naming each file's package, version and
// sha256).
//
//go:embed static
var Static embed.FS

// Templates holds templates/graph.html, which defines the html/template
// "graph": the graph and details elements and the script tags, given a
// value with the fields GraphURL and ComponentURL (strings).
//
//go:embed templates
var Templates embed.FS
