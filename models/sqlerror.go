package models

import (
	"regexp"
	"strconv"
	"strings"
)

var (
	sqlLineRe   = regexp.MustCompile(`(?m)^LINE (\d+): `)
	sqlQuotedRe = regexp.MustCompile(`"([^"]+)"`)
)

// PlaceSQLError places a DuckDB error about a model's compiled SQL in the model's file.
// DuckDB says "LINE n:" with a caret under the column, counting in the statement it ran;
// head is what preceded the compiled SQL in that statement (CREATE … AS). The line is
// found in the file by its text, or by the offending name when Jinja changed the line.
// It returns the position and DuckDB's message without its LINE excerpt.
func PlaceSQLError(m *Model, compiled, head, msg string) (line, col int, clean string) {
	raw := m.raw
	var word string
	if loc := sqlLineRe.FindStringSubmatchIndex(msg); loc != nil {
		ln, _ := strconv.Atoi(msg[loc[2]:loc[3]])
		prefixLen := loc[1] - loc[0]
		rest := msg[loc[1]:]
		c := 0
		if i := strings.Index(rest, "\n"); i >= 0 {
			if k := strings.Index(rest[i+1:], "^"); k >= 0 {
				c = k - prefixLen + 1
			}
		}
		// map from the statement to the compiled SQL
		headLines := strings.Count(head, "\n")
		ln -= headLines
		if ln == 1 {
			c -= len(head) - (strings.LastIndex(head, "\n") + 1)
		}
		qlines := strings.Split(compiled, "\n")
		if ln >= 1 && ln <= len(qlines) && c >= 1 {
			text := qlines[ln-1]
			word = wordAt(text, c-1)
			if fl, fc, ok := findLine(raw, text, c); ok {
				line, col = fl, fc
			}
		}
		msg = strings.TrimSpace(msg[:loc[0]])
	}
	if line == 0 {
		if word == "" {
			if qm := sqlQuotedRe.FindStringSubmatch(msg); qm != nil {
				word = qm[1]
			}
		}
		if fl, fc, ok := findWord(raw, word); ok {
			line, col = fl, fc
		}
	}
	return line, col, strings.ReplaceAll(strings.TrimSpace(msg), "\n", " ")
}

// findLine finds a compiled line in the file by its text and maps the column.
func findLine(raw, text string, col int) (int, int, bool) {
	trimmed := strings.TrimSpace(text)
	if trimmed == "" {
		return 0, 0, false
	}
	for i, l := range strings.Split(raw, "\n") {
		if strings.TrimSpace(l) == trimmed {
			shift := (len(l) - len(strings.TrimLeft(l, " \t"))) - (len(text) - len(strings.TrimLeft(text, " \t")))
			return i + 1, max(col+shift, 1), true
		}
	}
	return 0, 0, false
}

// findWord finds the first whole-word occurrence of w in the file.
func findWord(raw, w string) (int, int, bool) {
	if w == "" {
		return 0, 0, false
	}
	re, err := regexp.Compile(`(?i)\b` + regexp.QuoteMeta(w) + `\b`)
	if err != nil {
		return 0, 0, false
	}
	for i, l := range strings.Split(raw, "\n") {
		if loc := re.FindStringIndex(l); loc != nil {
			return i + 1, loc[0] + 1, true
		}
	}
	return 0, 0, false
}

// wordAt returns the identifier at byte offset i of s.
func wordAt(s string, i int) string {
	if i < 0 || i >= len(s) {
		return ""
	}
	isWord := func(c byte) bool {
		return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	a, b := i, i
	for a > 0 && isWord(s[a-1]) {
		a--
	}
	for b < len(s) && isWord(s[b]) {
		b++
	}
	return s[a:b]
}
