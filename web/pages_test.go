package web_test

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/gen"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/scheduler"
	"github.com/stratadata/strata/web"
)

// pageServer starts the pages on a real loopback server over a real warehouse and
// scheduler (the same project as serve's).
func pageServer(t *testing.T, token string) string {
	t.Helper()
	_, base := serve(t, token)
	return base
}

// browse is a client with a cookie jar, as a browser keeps the form token.
func browse(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func TestPagesRender(t *testing.T) {
	t.Parallel()
	base := pageServer(t, "")
	c := browse(t)
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/", 200, `href="/models/daily"`},
		{"/?q=day", 200, "match"},
		{"/lineage", 200, `data-node="daily"`}, // a small project opens whole
		{"/lineage?focus=a", 200, `data-node="a"`},
		{"/lineage?focus=a&up=x", 400, "give a depth"},
		{"/lineage?focus=nope", 404, "nope"},
		{"/lineage?select=tag:none", 400, ""},
		{"/models/a", 200, `data-column-row="x"`},
		{"/models/nope", 404, "nope"},
		{"/models/daily/partitions", 200, `data-partition="2024-01-01"`},
		{"/models/a/partitions", 404, "not a partitioned model"},
		{"/runs", 200, "Recent runs"},
		{"/schedules", 200, `data-schedule="nightly"`},
		{"/static/app.js", 200, "EventSource"},
		{"/static/app.css", 200, "prefers-color-scheme:dark"},
		{"/login", 200, "need no token"},
	} {
		status, body := get(t, c, base+tc.path)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s = %d, want %d with %q:\n%.600s", tc.path, status, tc.status, tc.want, body)
		}
	}
}

// TestPagesForms: a form posts back its page's token; a post without it, or from another
// site, is refused and changes nothing.
func TestPagesForms(t *testing.T) {
	t.Parallel()
	base := pageServer(t, "")
	c := browse(t)
	_, page := get(t, c, base+"/schedules")
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the schedules page has no form token:\n%s", page)
	}
	post := func(c *http.Client, path, token string, header map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(url.Values{"csrf": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post(c, "/schedules/nightly/pause", "0123456789abcdef0123456789abcdef", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a post with another token: %d, want 403", resp.StatusCode)
	}
	if resp := post(browse(t), "/schedules/nightly/pause", m[1], nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a post from a browser without the cookie: %d, want 403", resp.StatusCode)
	}
	if resp := post(c, "/schedules/nightly/pause", m[1], map[string]string{"Origin": "http://evil.example"}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a post from another origin: %d, want 403", resp.StatusCode)
	}
	if _, page := get(t, c, base+"/schedules"); strings.Contains(page, "paused") {
		t.Fatal("a refused post paused the schedule")
	}
	resp := post(c, "/schedules/nightly/pause", m[1], nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the page's own form: %d, want 303", resp.StatusCode)
	}
	if _, page := get(t, c, base+"/schedules"); !strings.Contains(page, "st-paused") || !strings.Contains(page, ">Resume<") {
		t.Errorf("after pausing, the schedules page says:\n%s", page)
	}
}

// TestPagesToken: a server with a token takes the pages' write forms only from a browser
// that logged in with it.
func TestPagesToken(t *testing.T) {
	t.Parallel()
	base := pageServer(t, "s3cret")
	c := browse(t)
	_, page := get(t, c, base+"/login")
	tok := csrfField.FindStringSubmatch(page)[1]
	form := func(path string, v url.Values) int {
		t.Helper()
		v.Set("csrf", tok)
		resp, err := c.PostForm(base+path, v)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := form("/schedules/nightly/pause", url.Values{}); st != http.StatusForbidden {
		t.Errorf("a write before logging in: %d, want 403", st)
	}
	if st := form("/login", url.Values{"token": {"wrong"}}); st != http.StatusUnauthorized {
		t.Errorf("a wrong token: %d, want 401", st)
	}
	if st := form("/login", url.Values{"token": {"s3cret"}}); st != http.StatusSeeOther {
		t.Errorf("the right token: %d, want 303", st)
	}
	if st := form("/schedules/nightly/pause", url.Values{}); st != http.StatusSeeOther {
		t.Errorf("a write after logging in: %d, want 303", st)
	}
}

// TestPagesLaunchBackfill: the heatmap's plan, then its launch through the queue, then
// the partitions done.
func TestPagesLaunchBackfill(t *testing.T) {
	t.Parallel()
	base := pageServer(t, "")
	c := browse(t)
	_, page := get(t, c, base+"/models/daily/partitions?from=2024-01-02&to=2024-01-04&plan=1")
	if !strings.Contains(page, `data-plan-run>3<`) {
		t.Fatalf("the plan of 3 days:\n%s", page)
	}
	tok := csrfField.FindStringSubmatch(page)[1]
	resp, err := c.PostForm(base+"/models/daily/partitions/backfill", url.Values{"csrf": {tok}, "from": {"2024-01-02"}, "to": {"2024-01-04"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/runs/") {
		t.Fatalf("launch: %d → %q", resp.StatusCode, loc)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		_, run := get(t, c, base+loc)
		if strings.Contains(run, `data-run-status="success"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the backfill did not finish:\n%s", run)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, heat := get(t, c, base+"/models/daily/partitions")
	for _, day := range []string{"2024-01-02", "2024-01-03", "2024-01-04"} {
		if !strings.Contains(heat, fmt.Sprintf(`data-partition="%s" data-start="%s" data-status="done"`, day, day)) {
			t.Errorf("%s is not done after the backfill", day)
		}
	}
}

// TestLineageBigProject: a 2,000-model project opens on a neighbourhood, capped, never
// the whole graph; the same layout is the same drawing.
func TestLineageBigProject(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := gen.Write(dir, gen.Options{Models: 2000, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	p, g := testgraph.Load(t, dir)
	w, err := engine.OpenPath(context.Background(), ":memory:", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	reg := prometheus.NewRegistry()
	s, err := scheduler.New(p, g, w, scheduler.Options{NoCron: true, Metrics: scheduler.NewMetrics(reg)})
	if err != nil {
		t.Fatal(err)
	}
	srv := &web.Server{Project: p, Graph: g, Warehouse: w, Scheduler: s, Gatherer: reg}
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop(context.Background()) })
	c := browse(t)
	_, page := get(t, c, base+"/lineage")
	if strings.Contains(page, "data-node=") {
		t.Error("a big project's explorer with nothing focused draws a graph")
	}
	focus := gen.Name(1000)
	_, page = get(t, c, base+"/lineage?focus="+focus+"&up=50&down=50")
	nodes := strings.Count(page, "data-node=")
	if nodes == 0 || nodes > 150 {
		t.Errorf("the explorer drew %d nodes around %s, want 1 to 150", nodes, focus)
	}
	_, again := get(t, c, base+"/lineage?focus="+focus+"&up=50&down=50")
	strip := regexp.MustCompile(`data-(csrf|version)="[^"]*"|name="csrf" value="[^"]*"`)
	if strip.ReplaceAllString(page, "") != strip.ReplaceAllString(again, "") {
		t.Error("the same query drew two different pages")
	}
}

// TestPagesCompressed: pages, styles and scripts go gzipped to a client that takes it;
// the event stream does not.
func TestPagesCompressed(t *testing.T) {
	t.Parallel()
	base := pageServer(t, "")
	for _, path := range []string{"/", "/static/app.css", "/static/app.js", "/lineage?focus=a", "/api/v1/models"} {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil || resp.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s: not gzipped (%v, %q)", path, err, resp.Header.Get("Content-Encoding"))
		} else if b, err := io.ReadAll(zr); err != nil || len(b) == 0 {
			t.Errorf("%s: bad gzip: %v", path, err)
		}
		resp.Body.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events?since=0", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("the event stream: %q, %q", resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Type"))
	}
}
