package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// toastPlaceholder is what Debezium sends for an unchanged TOASTed Postgres value: keep
// the stored one.
const toastPlaceholder = "__debezium_unavailable_value"

// fold is one key's document as the window's events change it, in position order.
type fold struct {
	key, keyDoc string
	doc         map[string]any
	deleted     bool
	last        *foldEvent
}

// foldEvent is one normalised event: op is upsert, delete or patch.
type foldEvent struct {
	op, position string
	doc, patch   string
	partial      bool
	updated      time.Time
}

func newFold(key, keyDoc, stored string, storedDeleted any) *fold {
	f := &fold{key: key, keyDoc: keyDoc}
	if stored != "" {
		if d, err := decodeDoc(stored); err == nil {
			f.doc = d
		}
	}
	f.deleted, _ = storedDeleted.(bool)
	return f
}

func decodeDoc(s string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber() // numbers stay exactly as the source wrote them
	var d map[string]any
	if err := dec.Decode(&d); err != nil {
		return nil, err
	}
	return d, nil
}

func marshalDoc(d map[string]any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// apply changes the document by one event. Events at the position already applied (a
// duplicate delivery) change nothing.
func (f *fold) apply(ev *foldEvent, format string) error {
	if f.last != nil && ev.position <= f.last.position {
		return nil
	}
	switch ev.op {
	case "delete":
		f.deleted = true
	case "upsert":
		d, err := decodeDoc(ev.doc)
		if err != nil {
			return fmt.Errorf("document: %w", err)
		}
		if ev.partial {
			for k, v := range d {
				if isToast(v) {
					if f.doc != nil && !f.deleted {
						d[k] = f.doc[k]
					} else {
						d[k] = nil
					}
				}
			}
		}
		f.doc, f.deleted = d, false
	case "patch":
		if f.doc == nil || f.deleted {
			f.doc = map[string]any{}
			if kd, err := decodeDoc(f.keyDoc); err == nil {
				for k, v := range kd {
					f.doc[k] = v
				}
			}
		}
		if err := applyMongoPatch(f.doc, ev.patch); err != nil {
			return err
		}
		f.deleted = false
	default:
		return fmt.Errorf("unknown op %q", ev.op)
	}
	f.last = ev
	return nil
}

func isToast(v any) bool {
	switch v := v.(type) {
	case string:
		return v == toastPlaceholder
	case []any:
		return len(v) == 1 && v[0] == toastPlaceholder
	}
	return false
}

// mongoPatch is a MongoDB change event's updateDescription.
type mongoPatch struct {
	Set       map[string]json.RawMessage `json:"set"`
	Unset     []string                   `json:"unset"`
	Truncated []struct {
		Field   string `json:"field"`
		NewSize int    `json:"newSize"`
	} `json:"truncated"`
}

// applyMongoPatch applies updateDescription to doc: arrays are truncated, then
// updatedFields set and removedFields removed, each at its dotted path (a number is an
// array index).
func applyMongoPatch(doc map[string]any, patch string) error {
	var p mongoPatch
	if err := json.Unmarshal([]byte(patch), &p); err != nil {
		return fmt.Errorf("updateDescription: %w", err)
	}
	for _, t := range p.Truncated {
		parent, last := walk(doc, strings.Split(t.Field, "."), false)
		if parent == nil {
			continue
		}
		if arr, ok := getChild(parent, last).([]any); ok && t.NewSize >= 0 && t.NewSize < len(arr) {
			setChild(parent, last, arr[:t.NewSize])
		}
	}
	paths := make([]string, 0, len(p.Set))
	for path := range p.Set {
		paths = append(paths, path)
	}
	sort.Strings(paths) // "items.2" before "items.3": appends land in order
	for _, path := range paths {
		v, err := decodeValue(p.Set[path])
		if err != nil {
			return fmt.Errorf("updatedFields.%s: %w", path, err)
		}
		setIn(doc, strings.Split(path, "."), v)
	}
	for _, path := range p.Unset {
		parent, last := walk(doc, strings.Split(path, "."), false)
		if m, ok := parent.(map[string]any); ok {
			delete(m, last)
		}
	}
	return nil
}

func decodeValue(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// walk follows path to the container of its last segment, creating objects on the way
// when create is set. It returns nil when the path cannot be followed.
func walk(doc map[string]any, path []string, create bool) (any, string) {
	var cur any = doc
	for _, seg := range path[:len(path)-1] {
		next := getChild(cur, seg)
		if next == nil {
			if !create {
				return nil, ""
			}
			next = map[string]any{}
			if !setChild(cur, seg, next) {
				return nil, ""
			}
		}
		switch next.(type) {
		case map[string]any, []any:
		default:
			if !create {
				return nil, ""
			}
			next = map[string]any{}
			setChild(cur, seg, next)
		}
		cur = next
	}
	return cur, path[len(path)-1]
}

func getChild(c any, seg string) any {
	switch c := c.(type) {
	case map[string]any:
		return c[seg]
	case []any:
		if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(c) {
			return c[i]
		}
	}
	return nil
}

// setChild sets a map key or an array element (an index past the end is refused: a
// change stream never sets one; arrays grow by whole-array updates).
func setChild(c any, seg string, v any) bool {
	switch c := c.(type) {
	case map[string]any:
		c[seg] = v
		return true
	case []any:
		if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(c) {
			c[i] = v
			return true
		}
	}
	return false
}

// setIn sets the value at path under c, creating objects on the way; a numeric segment is
// an array index, and the index just past an array's end appends to it (MongoDB reports a
// $push as updatedFields {"items.2": v}). It returns c, or the grown array that replaces it.
func setIn(c any, path []string, v any) any {
	seg := path[0]
	switch c := c.(type) {
	case map[string]any:
		if len(path) == 1 {
			c[seg] = v
			return c
		}
		c[seg] = setIn(container(c[seg]), path[1:], v)
		return c
	case []any:
		i, err := strconv.Atoi(seg)
		if err != nil || i < 0 || i > len(c) {
			return c
		}
		if i == len(c) {
			var zero any
			if len(path) > 1 {
				zero = map[string]any{}
			}
			c = append(c, zero)
		}
		if len(path) == 1 {
			c[i] = v
			return c
		}
		c[i] = setIn(container(c[i]), path[1:], v)
		return c
	}
	return c
}

// container is v when a path can go on into it (an object or an array), else a new
// object in its place.
func container(v any) any {
	switch v.(type) {
	case map[string]any, []any:
		return v
	}
	return map[string]any{}
}
