package serve

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/spofhq/spof/serve/ui"
)

// staticRoutes serves the dashboard's scripts, styles and vendored
// libraries (package ui) under /static/. They change only with the
// binary: browsers may keep them an hour.
func (s *Server) staticRoutes(mux *http.ServeMux) {
	sub, err := fs.Sub(ui.Static, "static")
	if err != nil {
		panic(err) // the embedded tree has static/: cannot fail
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	}))
}
