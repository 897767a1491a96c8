package serve

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"time"

	"github.com/spofhq/spof/chaos"
	"github.com/spofhq/spof/model"
)

// The pages change things through forms: log in with the token (a
// cookie holds it then, HttpOnly and SameSite=Strict), and run an
// experiment now. Every form post carries a CSRF token derived from the
// server's token (an attacker's page cannot compute it), and must come
// from this server's own pages (Origin, when the browser sends it).

// csrfToken is the form token: an HMAC of a fixed label under the
// server's token. Without --token-file there is no form to post.
func (s *Server) csrfToken() string {
	if s.cfg.Token == "" {
		return ""
	}
	key := sha256.Sum256([]byte(s.cfg.Token))
	mac := hmac.New(sha256.New, key[:])
	mac.Write([]byte("spof form"))
	return hex.EncodeToString(mac.Sum(nil))
}

// formOK checks a form post: the CSRF token, and the Origin when sent.
func (s *Server) formOK(r *http.Request) bool {
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	want := s.csrfToken()
	got := r.PostFormValue("csrf")
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (s *Server) formRoutes(mux *http.ServeMux, read func(string, http.HandlerFunc)) {
	read("GET /login", s.pageLogin)
	mux.HandleFunc("POST /login", s.postLogin)
	mux.HandleFunc("POST /logout", s.postLogout)
	mux.HandleFunc("POST /systems/{name}/experiments/{experiment}/run", s.postRun)
}

func (s *Server) pageLogin(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "login", page{Title: "Log in", NoToken: s.cfg.Token == "", Failed: r.URL.Query().Has("failed")})
}

// postLogin sets the session cookie when the token is right. The login
// form has no CSRF token to check (there is no session yet): a forged
// login would need the token anyway.
func (s *Server) postLogin(w http.ResponseWriter, r *http.Request) {
	tok := r.PostFormValue("token")
	if s.cfg.Token == "" || !sameToken(tok, s.cfg.Token) {
		http.Redirect(w, r, "/login?failed", http.StatusSeeOther)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: int((12 * time.Hour).Seconds())})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) postLogout(w http.ResponseWriter, r *http.Request) {
	if !s.formOK(r) {
		http.Error(w, "the form is stale or from another site: reload the page", http.StatusForbidden)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// postRun is the experiments page's "Run now".
func (s *Server) postRun(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if !s.formOK(r) {
		http.Error(w, "the form is stale or from another site: reload the page", http.StatusForbidden)
		return
	}
	sys := s.system(r.PathValue("name"))
	if sys == nil {
		http.NotFound(w, r)
		return
	}
	msg := s.trigger(r, sys, r.PathValue("experiment"), "ui")
	http.Redirect(w, r, "/systems/"+url.PathEscape(sys.name)+"/experiments?msg="+url.QueryEscape(msg.text), http.StatusSeeOther)
}

func sameToken(a, b string) bool {
	x, y := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(x[:], y[:]) == 1
}

// planned is one experiment of the plan on the experiments page.
type planned struct {
	chaos.Experiment
	Down, Degraded []string
}

// scheduleRow is one schedule on the experiments page.
type scheduleRow struct {
	*model.Schedule
	Next time.Time
}

func (s *Server) plan(sys *system) ([]planned, []scheduleRow) {
	xs, err := chaos.Plan(sys.model, chaos.PlanOptions{})
	if err != nil {
		s.log.Error("chaos plan", "system", sys.name, "err", err)
	}
	var out []planned
	for _, x := range xs {
		p := planned{Experiment: x}
		for _, o := range x.Predicted {
			switch o.State.String() {
			case "down":
				p.Down = append(p.Down, o.Flow)
			case "degraded":
				p.Degraded = append(p.Degraded, o.Flow)
			}
		}
		out = append(out, p)
	}
	var rows []scheduleRow
	if sys.model.Chaos != nil {
		for _, sc := range sys.model.Chaos.Schedules {
			row := scheduleRow{Schedule: sc}
			if c, err := model.ParseCron(sc.Cron); err == nil {
				row.Next = c.Next(s.now())
			}
			rows = append(rows, row)
		}
	}
	return out, rows
}
