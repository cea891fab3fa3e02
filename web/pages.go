package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/a-h/templ"

	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
	"github.com/stratadata/strata/web/api"
	"github.com/stratadata/strata/web/ui"
)

// The pages: server-rendered with templ, links and forms for navigation and actions, and
// web/static/app.js for what needs a script. Handlers fetch through the same functions
// the JSON API answers with (modelDetail, lineageOf, the engine's and scheduler's
// readers) and fill a view of package ui; no page has a source of truth of its own.

func (s *Server) pageRoutes(mux *http.ServeMux) {
	page := func(pattern string, f func(w http.ResponseWriter, r *http.Request, m ui.Meta) (templ.Component, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			m := s.meta(w, r)
			c, err := f(w, r, m)
			if err != nil {
				s.pageError(w, r, m, err)
				return
			}
			if c == nil { // the handler answered itself
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_ = c.Render(r.Context(), w)
		})
	}
	action := func(pattern string, f func(r *http.Request) (string, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if err := s.checkForm(r); err != nil {
				m := s.meta(w, r)
				w.WriteHeader(http.StatusForbidden)
				m.Title, m.Error = "Refused", err.Error()
				_ = ui.Page(m).Render(r.Context(), w)
				return
			}
			to, err := f(r)
			if err != nil {
				s.pageError(w, r, s.meta(w, r), err)
				return
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
		})
	}
	page("GET /{$}", s.indexPage)
	page("GET /lineage", s.lineagePage)
	mux.HandleFunc("GET /lineage.svg", s.lineageSVG)
	page("GET /models/{name}", s.modelPage)
	page("GET /models/{name}/partitions", s.partitionsPage)
	action("POST /models/{name}/partitions/backfill", s.launchBackfill)
	page("GET /runs", s.runsPage)
	page("GET /runs/{id}", s.runPage)
	action("POST /runs/{id}/cancel", s.cancelAction)
	page("GET /backfills/{id}", s.backfillPage)
	action("POST /backfills/{id}/{action}", s.backfillAction)
	page("GET /schedules", s.schedulesPage)
	action("POST /schedules/{name}/{action}", s.scheduleFormAction)
	page("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("GET /events", s.uiEvents)
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler()))
}

func staticHandler() http.Handler {
	h := http.FileServerFS(Static())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		h.ServeHTTP(w, r)
	})
}

const (
	csrfCookie  = "strata_csrf"
	tokenCookie = "strata_token"
)

// meta is a page's frame, with the form token: a random value in a cookie that every
// form posts back (a page of another site can neither read the cookie nor set the field).
func (s *Server) meta(w http.ResponseWriter, r *http.Request) ui.Meta {
	m := ui.Meta{Project: s.Project.Name, Flash: r.URL.Query().Get("flash")}
	if s.Live != nil {
		m.Version, _ = s.Live.wait()
	}
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 32 {
		m.CSRF = c.Value
	} else {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		m.CSRF = hex.EncodeToString(b)
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: m.CSRF, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	}
	return m
}

// checkForm refuses a form post that checkCSRF refuses, or, when the server has a
// token, from a browser that has not logged in with it.
func (s *Server) checkForm(r *http.Request) error {
	if err := checkCSRF(r); err != nil {
		return err
	}
	if s.Token != "" {
		t, err := r.Cookie(tokenCookie)
		bearer := r.Header.Get("Authorization") == "Bearer "+s.Token
		if !bearer && (err != nil || subtle.ConstantTimeCompare([]byte(t.Value), []byte(s.Token)) != 1) {
			return errors.New("this server needs its token for changes: log in at /login with the token it was started with")
		}
	}
	return nil
}

// checkCSRF refuses a form post without its page's token, or from another origin.
func checkCSRF(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("a bad form: %v", err)
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			return fmt.Errorf("a form from another site (%s) was refused", o)
		}
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		return errors.New("the form's token does not match this browser's: reload the page and try again")
	}
	return nil
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, m ui.Meta) (templ.Component, error) {
	m.Title = "Log in"
	return ui.LoginPage(m, s.Token != ""), nil
}

// login keeps the server's token in a cookie, for the forms' write actions.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := checkCSRF(r); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	if s.Token != "" && subtle.ConstantTimeCompare([]byte(r.PostFormValue("token")), []byte(s.Token)) != 1 {
		m := s.meta(w, r)
		m.Title, m.Error = "Log in", "That is not this server's token."
		w.WriteHeader(http.StatusUnauthorized)
		_ = ui.LoginPage(m, true).Render(r.Context(), w)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: s.Token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/?flash=logged+in", http.StatusSeeOther)
}

// pageError shows an error as a page, with the status the API would answer.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, m ui.Meta, err error) {
	rec := &statusOnly{header: http.Header{}}
	writeError(rec, err)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(rec.status)
	m.Title, m.Error = http.StatusText(rec.status), err.Error()
	_ = ui.Page(m).Render(r.Context(), w)
}

// statusOnly keeps the status writeError chose.
type statusOnly struct {
	header http.Header
	status int
}

func (s *statusOnly) Header() http.Header         { return s.header }
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(code int)        { s.status = code }

func (s *Server) indexPage(w http.ResponseWriter, r *http.Request, m ui.Meta) (templ.Component, error) {
	m.Title, m.Nav = "Models", "models"
	v := ui.IndexView{Meta: m, Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	v.Nodes, v.Total = indexNodes(s.Graph)
	if v.Query != "" {
		cg, _, _ := s.columns(r.Context())
		v.Nodes, v.Matches = s.Graph.Search(v.Query, cg), true
		if len(v.Nodes) > 500 {
			v.Nodes = v.Nodes[:500]
		}
	} else if len(v.Nodes) > 1000 {
		v.Nodes = v.Nodes[:1000]
	}
	return ui.Index(v), nil
}

// indexNodes lists the nodes people open pages of: models, seeds, snapshots, sources and
// exposures, by name.
func indexNodes(g *lineage.Graph) ([]lineage.NodeRef, int) {
	var out []lineage.NodeRef
	for _, n := range g.Nodes() {
		if shown(n.Type) {
			out = append(out, g.Ref(n.ID, 0))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, len(out)
}

// shown says which node types the pages draw and list: tests and unit tests are listed
// on their model's page instead.
func shown(t lineage.NodeType) bool {
	return t != lineage.TypeTest && t != lineage.TypeUnitTest
}

func (s *Server) modelPage(w http.ResponseWriter, r *http.Request, m ui.Meta) (templ.Component, error) {
	d, err := s.modelDetail(r.Context(), r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	m.Title, m.Nav = d.Name, "models"
	return ui.ModelPage(modelView(m, s.Project, d)), nil
}

// modelView fills a model's page from its API detail.
func modelView(m ui.Meta, p *models.Project, d *apiModel) ui.ModelView {
	v := ui.ModelView{Meta: m, Model: d, SQL: ui.Highlight(d.SQL), CompiledSQL: ui.Highlight(d.CompiledSQL)}
	if mm := p.Models[d.Name]; mm != nil && mm.Partition() != nil {
		v.Partitioned = true
	}
	keys := make([]string, 0, len(d.Config))
	for k := range d.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v.ConfigLines = append(v.ConfigLines, fmt.Sprintf("%s: %v", k, d.Config[k]))
	}
	return v
}

type apiModel = api.Model
