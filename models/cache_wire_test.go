package models

import (
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/nikolalohinski/gonja/v2/exec"
)

// fill sets every field of v (a pointer), exported or not, to a value that is not its
// zero value, recursively: what the wire codec must carry whole.
func fill(t *testing.T, v reflect.Value, depth int, skip map[string]bool) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString("s")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint64, reflect.Uint32, reflect.Uint8:
		v.SetUint(7)
	case reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Interface:
		v.Set(reflect.ValueOf(map[string]any{"k": []any{"v", 2, 2.5, true, nil}}))
	case reflect.Array:
		for i := range v.Len() {
			fill(t, v.Index(i), depth+1, skip)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(t, s.Index(0), depth+1, skip)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fill(t, k, depth+1, skip)
		e := reflect.New(v.Type().Elem()).Elem()
		fill(t, e, depth+1, skip)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Pointer:
		if v.Type() == reflect.TypeOf((*exec.Template)(nil)) || v.Type() == reflect.TypeOf((*time.Location)(nil)) {
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(t, p.Elem(), depth+1, skip)
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			name := v.Type().Name() + "." + v.Type().Field(i).Name
			if skip[name] {
				continue
			}
			f := v.Field(i)
			f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
			fill(t, f, depth+1, skip)
		}
	default:
		t.Fatalf("fill: no value for a %s (%s): teach fill and the wire codec", v.Type(), v.Kind())
	}
}

// TestWireRoundTrip: a model and a test with every field set come back whole from the
// parse cache's codec. A field added to them and not written by cache_wire.go fails
// here.
func TestWireRoundTrip(t *testing.T) {
	skip := map[string]bool{
		"Model.tmpl": true, "Model.propConfig": true, "Model.reused": true, // parsed again; merged away; one load's
		"Test.config": true,
	}
	opts := cmp.Options{
		cmp.Exporter(func(reflect.Type) bool { return true }),
		cmp.Comparer(func(x, y *exec.Template) bool { return (x == nil) == (y == nil) }),
	}
	var m Model
	fill(t, reflect.ValueOf(&m).Elem(), 0, skip)
	w := &wire{}
	if err := w.model(&m); err != nil {
		t.Fatal(err)
	}
	u := &unwire{src: string(w.b)}
	got, _ := u.model()
	if u.err != nil || u.i != len(u.src) {
		t.Fatalf("read %d of %d bytes: %v", u.i, len(u.src), u.err)
	}
	if diff := cmp.Diff(&m, got, opts); diff != "" {
		t.Errorf("model (-want +got):\n%s", diff)
	}

	var tt Test
	fill(t, reflect.ValueOf(&tt).Elem(), 0, skip)
	w = &wire{}
	if err := w.test(&tt); err != nil {
		t.Fatal(err)
	}
	u = &unwire{src: string(w.b)}
	gt := u.test()
	if u.err != nil || u.i != len(u.src) {
		t.Fatalf("read %d of %d bytes: %v", u.i, len(u.src), u.err)
	}
	if diff := cmp.Diff(&tt, gt, opts); diff != "" {
		t.Errorf("test (-want +got):\n%s", diff)
	}

	cutsFail(t, "test", w.b, func(u *unwire) { u.test() })
}

// cutsFail: a record cut at any byte is an error, never a panic or a value read from
// half a record.
func cutsFail(t *testing.T, what string, b []byte, read func(*unwire)) {
	t.Helper()
	for i := range len(b) {
		u := &unwire{src: string(b[:i])}
		read(u)
		if u.err == nil {
			t.Fatalf("a %s cut at byte %d of %d read without an error", what, i, len(b))
		}
	}
}

// TestHeaderRoundTrip: the cache's header with every field set comes back whole, and a
// header cut at any byte is an error.
func TestHeaderRoundTrip(t *testing.T) {
	var h cacheHeader
	fill(t, reflect.ValueOf(&h).Elem(), 0, nil)
	h.Files = append(h.Files, fileRec{Path: "models/b.sql", Sum: [32]byte{1, 2, 3, 31: 9}, Stat: fileStat{Size: -1, MTime: 1 << 62}})
	w := &wire{}
	w.header(&h)
	u := &unwire{src: string(w.b)}
	got := u.header()
	if u.err != nil || u.i != len(u.src) {
		t.Fatalf("read %d of %d bytes: %v", u.i, len(u.src), u.err)
	}
	if diff := cmp.Diff(h, got, cmp.Exporter(func(reflect.Type) bool { return true })); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	cutsFail(t, "header", w.b, func(u *unwire) { u.header() })
}
