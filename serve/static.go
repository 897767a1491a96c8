package serve

import "net/http"

// staticRoutes serves the dashboard's scripts, styles and vendored
// libraries under /static/ (wired to package serve/ui's embedded files).
func (s *Server) staticRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /static/", func(w http.ResponseWriter, r *http.Request) {
		http.NotFound(w, r)
	})
}
