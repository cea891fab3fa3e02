package engine

import (
	"errors"
	"testing"
)

func TestTransientErrorsRetryAndSQLErrorsDoNot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		msg  string
		want bool
	}{
		{"TransactionContext Error: Catalog write-write conflict on alter with \"t\"", true},
		{"TransactionContext Error: Conflict on tuple deletion!", true},
		{"IO Error: Could not write file \"x.wal\": No space left on device", true},
		{"Binder Error: Referenced column \"x\" not found in FROM clause!", false},
		{"Parser Error: syntax error at or near \"selec\"", false},
		{"Catalog Error: Table with name t does not exist!", false},
		{"Conversion Error: Could not convert string 'a' to INT32", false},
		{"Invalid Input Error: d returned a row with d outside its partition", false},
		{"something else entirely", false},
	} {
		if got := transient(errors.New(tc.msg)); got != tc.want {
			t.Errorf("transient(%q) = %v, want %v", tc.msg, got, tc.want)
		}
	}
	if transient(nil) {
		t.Error("nil is not transient")
	}
}
