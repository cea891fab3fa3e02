package deps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

const (
	// DefaultHubURL is the dbt package hub, as dbt's registry client names it.
	DefaultHubURL = "https://hub.getdbt.com/"
	// HubEnv is the environment variable dbt reads for another hub's base URL.
	HubEnv = "DBT_PACKAGE_HUB_URL"

	maxJSON    = 64 << 20  // a package's JSON, or the index
	maxTarball = 512 << 20 // a package's .tar.gz
)

// hub reads the dbt package hub's JSON API as dbt's registry client does:
// {base}api/v1/index.json lists every package, {base}api/v1/{org}/{name}.json holds a
// package's versions, each with its own packages and downloads.tarball.
type hub struct {
	base    string // ends with /
	client  *http.Client
	retries int
	warn    func(string)
	index   []string
	pkgs    map[string]*hubPackage
}

// hubPackage is {base}api/v1/{org}/{name}.json.
type hubPackage struct {
	Name              string                `json:"name"`
	Namespace         string                `json:"namespace"`
	RedirectNamespace *string               `json:"redirectnamespace"`
	RedirectName      *string               `json:"redirectname"`
	Versions          map[string]hubVersion `json:"versions"`
}

// hubVersion is one release of a hub package.
type hubVersion struct {
	Name      string          `json:"name"`
	Packages  json.RawMessage `json:"packages"`
	Downloads struct {
		Tarball string `json:"tarball"`
	} `json:"downloads"`
}

func newHub(base string, client *http.Client, warn func(string)) *hub {
	if base == "" {
		base = os.Getenv(HubEnv)
	}
	if base == "" {
		base = DefaultHubURL
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	if client == nil {
		client = http.DefaultClient
	}
	return &hub{base: base, client: client, retries: 3, warn: warn, pkgs: map[string]*hubPackage{}}
}

func (h *hub) url(name string) string { return h.base + "api/v1/" + name + ".json" }

// hint is what to do when the hub does not answer.
func (h *hub) hint() string {
	return fmt.Sprintf("the package hub at %s did not answer: check the network, or set %s to a hub that answers", h.base, HubEnv)
}

// has reports whether the hub's index lists a package, with the closest names when not.
func (h *hub) has(ctx context.Context, name string) (bool, []string, error) {
	if h.index == nil {
		var idx []string
		if err := h.getJSON(ctx, h.url("index"), &idx); err != nil {
			return false, nil, err
		}
		if idx == nil {
			idx = []string{}
		}
		h.index = idx
	}
	return slices.Contains(h.index, name), h.index, nil
}

// pkg reads a package's versions.
func (h *hub) pkg(ctx context.Context, name string) (*hubPackage, error) {
	if p, ok := h.pkgs[name]; ok {
		return p, nil
	}
	var p hubPackage
	if err := h.getJSON(ctx, h.url(name), &p); err != nil {
		return nil, err
	}
	if p.Versions == nil {
		return nil, &FetchError{What: "GET " + h.url(name), Err: errors.New("the answer has no versions"), Hint: h.hint()}
	}
	if (p.RedirectNamespace != nil && *p.RedirectNamespace != "") || (p.RedirectName != nil && *p.RedirectName != "") {
		ns, n := p.Namespace, p.Name
		if p.RedirectNamespace != nil && *p.RedirectNamespace != "" {
			ns = *p.RedirectNamespace
		}
		if p.RedirectName != nil && *p.RedirectName != "" {
			n = *p.RedirectName
		}
		if moved := ns + "/" + n; moved != name && h.warn != nil {
			h.warn(fmt.Sprintf("package %s has moved to %s on the hub: change packages.yml to package: %s", name, moved, moved))
		}
	}
	h.pkgs[name] = &p
	return &p, nil
}

// tarballURL is a release's download, resolved against the hub's URL.
func (h *hub) tarballURL(v hubVersion) (string, error) {
	base, err := url.Parse(h.base)
	if err != nil {
		return "", err
	}
	ref, err := url.Parse(v.Downloads.Tarball)
	if err != nil {
		return "", err
	}
	return base.ResolveReference(ref).String(), nil
}

func (h *hub) getJSON(ctx context.Context, u string, into any) error {
	return h.retry(ctx, u, maxJSON, func(body []byte) error {
		if err := json.Unmarshal(body, into); err != nil {
			return fmt.Errorf("not the hub's JSON: %v", err)
		}
		return nil
	})
}

// download fetches a tarball.
func (h *hub) download(ctx context.Context, u string) ([]byte, error) {
	var out []byte
	err := h.retry(ctx, u, maxTarball, func(body []byte) error {
		out = body
		return nil
	})
	return out, err
}

// retry GETs a URL and hands its body to use, trying again (as dbt does) when the
// connection fails, the server errs (5xx) or the body is not what use expects.
func (h *hub) retry(ctx context.Context, u string, limit int64, use func([]byte) error) error {
	var last error
	for attempt := 0; attempt < h.retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
			}
		}
		body, status, err := h.get(ctx, u, limit)
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is said once, by the FetchError
		}
		switch {
		case err != nil:
			last = err
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		case status >= 500:
			last = fmt.Errorf("HTTP %d", status)
			continue
		case status != http.StatusOK:
			return &FetchError{What: "GET " + u, Err: fmt.Errorf("HTTP %d", status), Hint: fmt.Sprintf("is %s a dbt package hub? %s names it", h.base, HubEnv)}
		}
		if err := use(body); err != nil {
			last = err
			continue
		}
		return nil
	}
	return &FetchError{What: "GET " + u, Err: last, Hint: h.hint()}
}

func (h *hub) get(ctx context.Context, u string, limit int64) ([]byte, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("User-Agent", "strata-deps")
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, resp.StatusCode, err
	}
	if n > limit {
		return nil, resp.StatusCode, fmt.Errorf("the answer is larger than %d MiB", limit>>20)
	}
	return buf.Bytes(), resp.StatusCode, nil
}
