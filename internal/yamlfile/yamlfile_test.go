package yamlfile_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stratadata/strata/internal/yamlfile"
)

// TestParsePlacesErrors: a syntax error is placed at the line that is wrong and the
// column its text starts at, not where yaml.v3 says (the enclosing block's line).
func TestParsePlacesErrors(t *testing.T) {
	for _, c := range []struct {
		src       string
		line, col int
		msg       string
	}{
		{"a:\n  b: 1\n c: 2\n", 3, 2, "did not find expected key"},
		{"models:\n  - name: a\n    description: x\n   columns:\n", 4, 4, "'-' indicator"},
		{"models:\n  - name: a\n    description: |\n      text\n        more: x\n   bad: 1\n", 6, 4, "indentation"},
		{"a: [1, 2\nb: 3\n", 2, 1, "did not find expected ',' or ']'"},
		{"a:\n\t- x\n", 2, 2, "cannot start any token"},
	} {
		_, err := yamlfile.Parse([]byte(c.src))
		var se *yamlfile.SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: %v, want a syntax error", c.src, err)
			continue
		}
		if se.Line != c.line || se.Col != c.col || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%q: %d:%d %s, want %d:%d …%s…", c.src, se.Line, se.Col, se.Msg, c.line, c.col, c.msg)
		}
	}
	if doc, err := yamlfile.Parse([]byte("a: 1\n")); err != nil || len(doc.Content) != 1 {
		t.Errorf("good YAML: %v, %v", doc, err)
	}
}
