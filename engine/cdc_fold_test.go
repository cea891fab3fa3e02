package engine

import (
	"encoding/json"
	"testing"
)

// TestMongoPatch applies updateDescriptions the way MongoDB documents them: dotted paths
// into objects and arrays, removed fields, truncated arrays.
func TestMongoPatch(t *testing.T) {
	f := newFold(`{"_id":1}`, `{"_id":1}`, `{"_id":1,"a":{"b":1,"c":[1,2,3]},"tags":["x","y","z"],"gone":true,"n":12345678901234567890}`, false)
	ev := &foldEvent{op: "patch", position: "c1", patch: `{"set":{"a.b":2,"a.c.1":9,"a.c.3":4,"new.deep":"v"},"unset":["gone","a.missing.x"],"truncated":[{"field":"tags","newSize":1}]}`}
	if err := f.apply(ev, "mongodb"); err != nil {
		t.Fatal(err)
	}
	got, _ := marshalDoc(f.doc)
	want := `{"_id":1,"a":{"b":2,"c":[1,9,3,4]},"n":12345678901234567890,"new":{"deep":"v"},"tags":["x"]}` // a.c.3: a $push
	if string(got) != want {
		t.Errorf("patched\n got %s\nwant %s", got, want)
	}
	// the same position again (a duplicate delivery) changes nothing
	if err := f.apply(&foldEvent{op: "patch", position: "c1", patch: `{"set":{"a.b":3}}`}, "mongodb"); err != nil {
		t.Fatal(err)
	}
	if again, _ := marshalDoc(f.doc); string(again) != want {
		t.Errorf("a duplicate changed the document: %s", again)
	}
}

// TestToastPlaceholder keeps the stored value where Debezium sent its placeholder.
func TestToastPlaceholder(t *testing.T) {
	f := newFold(`{"id":1}`, `{"id":1}`, `{"id":1,"note":"long","arr":[1,2],"v":1}`, false)
	ev := &foldEvent{op: "upsert", position: "p2", partial: true, doc: `{"id":1,"note":"__debezium_unavailable_value","arr":["__debezium_unavailable_value"],"v":2}`}
	if err := f.apply(ev, "debezium"); err != nil {
		t.Fatal(err)
	}
	if got, _ := marshalDoc(f.doc); string(got) != `{"arr":[1,2],"id":1,"note":"long","v":2}` {
		t.Errorf("got %s", got)
	}
}

// FuzzFold: whatever the documents and patches, folding never panics and leaves a
// document that is JSON.
func FuzzFold(f *testing.F) {
	f.Add(`{"_id":1,"a":{"b":[1,{"c":2}]}}`, `{"set":{"a.b.1.c":3,"x":{"$date":1}},"unset":["a.b.0"],"truncated":[{"field":"a.b","newSize":0}]}`, `{"_id":1,"note":"__debezium_unavailable_value"}`)
	f.Add(`{}`, `{"set":{"":1,".":2,"a..b":3,"0":[]}}`, `[]`)
	f.Add(`not json`, `{"truncated":[{"field":"x","newSize":-1}]}`, `{"a":["__debezium_unavailable_value"]}`)
	f.Fuzz(func(t *testing.T, stored, patch, doc string) {
		fd := newFold("k", `{"_id":"k"}`, stored, false)
		_ = fd.apply(&foldEvent{op: "patch", position: "1", patch: patch}, "mongodb")
		_ = fd.apply(&foldEvent{op: "upsert", position: "2", partial: true, doc: doc}, "debezium")
		_ = fd.apply(&foldEvent{op: "patch", position: "3", patch: patch}, "mongodb")
		if fd.doc != nil {
			b, err := marshalDoc(fd.doc)
			if err != nil || !json.Valid(b) {
				t.Fatalf("folded document is not JSON: %s %v", b, err)
			}
		}
	})
}
