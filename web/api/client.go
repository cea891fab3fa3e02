package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stratadata/strata/engine"
)

// Client talks to a running strata server.
type Client struct {
	Base  string // http://127.0.0.1:8080
	Token string // sent as a bearer token when set
	HTTP  *http.Client
}

// NewClient returns a client for a server's base URL.
func NewClient(base, token string) *Client {
	return &Client{Base: strings.TrimSuffix(base, "/"), Token: token, HTTP: &http.Client{}}
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+Prefix+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return readError(resp)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func readError(resp *http.Response) error {
	var wrap struct {
		Error *Error `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if json.Unmarshal(b, &wrap) == nil && wrap.Error != nil {
		wrap.Error.Status = resp.StatusCode
		return wrap.Error
	}
	return &Error{Status: resp.StatusCode, Kind: "internal", Message: fmt.Sprintf("%s: %s", resp.Status, strings.TrimSpace(string(b)))}
}

// Health is GET /health.
func (c *Client) Health(ctx context.Context) (*Health, error) {
	var h Health
	return &h, c.do(ctx, http.MethodGet, "/health", nil, &h)
}

// Submit is POST /runs.
func (c *Client) Submit(ctx context.Context, r RunRequest) (*Job, error) {
	var j Job
	return &j, c.do(ctx, http.MethodPost, "/runs", r, &j)
}

// Backfill is POST /backfills: the job, or with DryRun the plan.
func (c *Client) Backfill(ctx context.Context, r RunRequest) (*Job, *BackfillPlan, error) {
	if r.DryRun {
		var p BackfillPlan
		return nil, &p, c.do(ctx, http.MethodPost, "/backfills", r, &p)
	}
	var j Job
	return &j, nil, c.do(ctx, http.MethodPost, "/backfills", r, &j)
}

// Events follows GET /runs/{id}/events: f gets each event's data (a task event, then
// the run's summary) until the run ends.
func (c *Client) Events(ctx context.Context, id string, f func(event string, data []byte) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+Prefix+"/runs/"+url.PathEscape(id)+"/events", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return readError(resp)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			if err := f(event, []byte(strings.TrimPrefix(line, "data: "))); err != nil {
				return err
			}
			if event == "done" || event == "error" {
				return nil
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errors.New("the server closed the event stream before the run ended")
}

// Cancel is POST /runs/{id}/cancel.
func (c *Client) Cancel(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/runs/"+url.PathEscape(id)+"/cancel", nil, nil)
}

// Runs is GET /runs.
func (c *Client) Runs(ctx context.Context, limit int) ([]engine.RunRecord, error) {
	var out []engine.RunRecord
	return out, c.do(ctx, http.MethodGet, fmt.Sprintf("/runs?limit=%d", limit), nil, &out)
}

// Run is GET /runs/{id}.
func (c *Client) Run(ctx context.Context, id string) (*RunDetail, error) {
	var d RunDetail
	return &d, c.do(ctx, http.MethodGet, "/runs/"+url.PathEscape(id), nil, &d)
}

// Partitions is GET /partitions.
func (c *Client) Partitions(ctx context.Context, sel, exclude []string, from, to string, all bool) ([]engine.PartitionSummary, error) {
	q := url.Values{}
	for _, s := range sel {
		q.Add("select", s)
	}
	for _, s := range exclude {
		q.Add("exclude", s)
	}
	if from != "" {
		q.Set("from", from)
		q.Set("to", to)
	}
	if all {
		q.Set("all", "true")
	}
	var out []engine.PartitionSummary
	return out, c.do(ctx, http.MethodGet, "/partitions?"+q.Encode(), nil, &out)
}

// Backfills is GET /backfills.
func (c *Client) Backfills(ctx context.Context) ([]engine.BackfillRecord, error) {
	var out []engine.BackfillRecord
	return out, c.do(ctx, http.MethodGet, "/backfills", nil, &out)
}

// BackfillDetail is GET /backfills/{id}.
func (c *Client) BackfillDetail(ctx context.Context, id string) (*BackfillDetail, error) {
	var d BackfillDetail
	return &d, c.do(ctx, http.MethodGet, "/backfills/"+url.PathEscape(id), nil, &d)
}

// Status is GET /status.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var s Status
	return &s, c.do(ctx, http.MethodGet, "/status", nil, &s)
}

// Upcoming is GET /schedules/upcoming.
func (c *Client) Upcoming(ctx context.Context, next time.Duration) ([]Fire, error) {
	var out []Fire
	return out, c.do(ctx, http.MethodGet, "/schedules/upcoming?next="+url.QueryEscape(next.String()), nil, &out)
}

// ScheduleAction is POST /schedules/{name}/{trigger|pause|resume}.
func (c *Client) ScheduleAction(ctx context.Context, name, action string) (*Job, error) {
	var j Job
	err := c.do(ctx, http.MethodPost, "/schedules/"+url.PathEscape(name)+"/"+action, nil, &j)
	return &j, err
}

// Why is GET /why.
func (c *Client) Why(ctx context.Context, key string) (*Why, error) {
	var w Why
	return &w, c.do(ctx, http.MethodGet, "/why?partition="+url.QueryEscape(key), nil, &w)
}

// Query is POST /query.
func (c *Client) Query(ctx context.Context, r QueryRequest) (*engine.QueryResult, error) {
	var q engine.QueryResult
	return &q, c.do(ctx, http.MethodPost, "/query", r, &q)
}

// Verify is POST /verify/{model}.
func (c *Client) Verify(ctx context.Context, model string, repair bool) (*engine.VerifyResult, error) {
	var r engine.VerifyResult
	return &r, c.do(ctx, http.MethodPost, "/verify/"+url.PathEscape(model), VerifyRequest{Repair: repair}, &r)
}

// Check is POST /check.
func (c *Client) Check(ctx context.Context) (*CheckReport, error) {
	var r CheckReport
	return &r, c.do(ctx, http.MethodPost, "/check", nil, &r)
}

// Models is GET /models: the first page of limit nodes a selector picks (all when sel is
// empty).
func (c *Client) Models(ctx context.Context, sel string, limit int) (*ModelList, error) {
	return c.ListModels(ctx, ModelQuery{Select: sel, Limit: limit})
}

// ListModels is GET /models with every filter and a cursor.
func (c *Client) ListModels(ctx context.Context, mq ModelQuery) (*ModelList, error) {
	q := url.Values{}
	for k, v := range map[string]string{"select": mq.Select, "tag": mq.Tag, "kind": mq.Kind, "cursor": mq.Cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if mq.Limit != 0 {
		q.Set("limit", strconv.Itoa(mq.Limit))
	}
	var l ModelList
	return &l, c.do(ctx, http.MethodGet, "/models?"+q.Encode(), nil, &l)
}

// Model is GET /models/{name}.
func (c *Client) Model(ctx context.Context, name string) (*Model, error) {
	var m Model
	return &m, c.do(ctx, http.MethodGet, "/models/"+url.PathEscape(name), nil, &m)
}

// Lineage is GET /lineage/{node}: up generations upstream and down downstream (-1 for
// all) of a model, source table or column.
func (c *Client) Lineage(ctx context.Context, node string, up, down int) (*Lineage, error) {
	var l Lineage
	path := fmt.Sprintf("/lineage/%s?up=%d&down=%d", url.PathEscape(node), up, down)
	return &l, c.do(ctx, http.MethodGet, path, nil, &l)
}

// Impact is GET /impact/{target}: what changing a column (model.column) or a model
// affects.
func (c *Client) Impact(ctx context.Context, target string) (*Impact, error) {
	var r Impact
	return &r, c.do(ctx, http.MethodGet, "/impact/"+url.PathEscape(target), nil, &r)
}
