package openlineage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Emitter sends OpenLineage events somewhere.
type Emitter interface {
	Emit(ctx context.Context, ev *RunEvent) error
}

// FileEmitter appends events to a file, one JSON document per line.
type FileEmitter struct {
	Path string
	mu   sync.Mutex
}

// Emit appends one event as a line; the line is written in one call, so readers never
// see half an event.
func (f *FileEmitter) Emit(_ context.Context, ev *RunEvent) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	file, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := file.Write(append(b, '\n')); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}

// HTTPEmitter POSTs events to an OpenLineage endpoint (Marquez and others):
// <URL>/api/v1/lineage, one JSON event per request.
type HTTPEmitter struct {
	URL    string // the endpoint, /api/v1/lineage included
	Client *http.Client
}

// NewHTTPEmitter returns an emitter for a server's base URL, with a 5-second timeout.
func NewHTTPEmitter(base string) *HTTPEmitter {
	return &HTTPEmitter{URL: strings.TrimSuffix(base, "/") + "/api/v1/lineage", Client: &http.Client{Timeout: 5 * time.Second}}
}

// Emit posts one event; any answer but 2xx is an error carrying the start of the body.
func (h *HTTPEmitter) Emit(ctx context.Context, ev *RunEvent) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s: %s", h.URL, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

func (o *Sender) loop() {
	defer close(o.done)
	for {
		o.mu.Lock()
		for len(o.queue) == 0 && !o.closed {
			o.cond.Wait()
		}
		batch := o.queue
		o.queue = nil
		closed := o.closed
		o.mu.Unlock()
		for _, ev := range batch {
			o.send(ev)
		}
		if closed && len(batch) == 0 {
			return
		}
	}
}

// send gives an event to every emitter still worth trying.
func (o *Sender) send(ev *RunEvent) {
	for i, e := range o.emitters {
		if o.failures[i] >= giveUpAfter {
			continue
		}
		if err := e.Emit(context.Background(), ev); err != nil {
			o.failures[i]++
			msg := fmt.Sprintf("openlineage: %s %s event for %s not sent: %v", strings.ToLower(ev.EventType), ev.Job.Name, emitterName(e), err)
			if o.failures[i] == giveUpAfter {
				msg += fmt.Sprintf(" (%d failures in a row: no more events go there in this run)", giveUpAfter)
			}
			o.warn(msg)
			continue
		}
		o.failures[i] = 0
	}
}

func (o *Sender) warn(msg string) {
	if o.Warn != nil {
		o.Warn(msg)
	}
}

func emitterName(e Emitter) string {
	switch e := e.(type) {
	case *FileEmitter:
		return e.Path
	case *HTTPEmitter:
		return e.URL
	}
	return fmt.Sprintf("%T", e)
}
