// Package yamlfile parses YAML files with go.yaml.in/yaml/v3 and places their syntax
// errors where they are: yaml.v3 gives a line only, and for a parser error the line
// where the enclosing block starts. The model loader and the package installer read
// their files through it.
package yamlfile

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// SyntaxError is a file that is not YAML, placed at a line and the column its text
// starts at (0 when yaml.v3 names no line).
type SyntaxError struct {
	Line, Col int
	Msg       string // yaml.v3's words, without its "yaml: line N:" prefix
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

var lineRe = regexp.MustCompile(`^yaml: line (\d+): `)

// Parse parses data into its document node; a syntax error is a *SyntaxError.
func Parse(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	err := yaml.Unmarshal(data, &doc)
	if err == nil {
		return &doc, nil
	}
	msg := err.Error()
	line := 0
	if m := lineRe.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = strings.TrimPrefix(msg, m[0])
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if strings.HasPrefix(msg, "did not find expected") {
		line++ // yaml.v3 places its parser's errors a line early (its scanner's are right)
		if msg == "did not find expected key" || msg == "did not find expected '-' indicator" {
			if l := badIndent(string(data), line); l > 0 {
				line = l
			}
			msg += " (check this line's indentation against the lines above it)"
		}
	}
	lines := strings.Split(string(data), "\n")
	line = min(line, len(lines))
	col := 0
	if line > 0 {
		col = len(lines[line-1]) - len(strings.TrimLeft(lines[line-1], " \t")) + 1
	}
	return nil, &SyntaxError{Line: line, Col: col, Msg: msg}
}

// badIndent finds the first line, from line from on, indented where no block is open
// (a block scalar's text aside): the line yaml.v3's "did not find expected key" or
// "'-' indicator" is about.
func badIndent(src string, from int) int {
	type level struct {
		ind  int
		dash bool
	}
	var stack []level
	opened, block := true, -1
	for i, l := range strings.Split(src, "\n") {
		t := strings.TrimLeft(l, " ")
		ind := len(l) - len(t)
		if block >= 0 {
			if ind > block || strings.TrimSpace(t) == "" {
				continue // a block scalar's text
			}
			block = -1
		}
		if strings.TrimSpace(t) == "" || strings.HasPrefix(t, "#") {
			continue
		}
		item := strings.HasPrefix(t, "- ") || t == "-"
		for len(stack) > 0 && stack[len(stack)-1].ind > ind {
			stack = stack[:len(stack)-1]
		}
		top := level{ind: -1}
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		ok := false
		switch {
		case item && top.ind == ind && top.dash:
			ok = true
		case item && opened && ind >= top.ind:
			stack, ok = append(stack, level{ind, true}), true
		case !item && top.ind == ind && !top.dash:
			ok = true
		case !item && opened && ind > top.ind:
			stack, ok = append(stack, level{ind, false}), true
		}
		if !ok {
			if i+1 >= from {
				return i + 1
			}
			stack = append(stack, level{ind, item})
		}
		rest := t
		if item {
			rest = strings.TrimSpace(strings.TrimPrefix(t, "-"))
			if strings.Contains(rest, ":") {
				stack = append(stack, level{ind + 2, false})
			}
		}
		rest = strings.TrimSpace(rest)
		opened = strings.HasSuffix(rest, ":")
		if strings.HasSuffix(rest, "|") || strings.HasSuffix(rest, "|-") || strings.HasSuffix(rest, ">") || strings.HasSuffix(rest, ">-") {
			block = ind
		}
	}
	return 0
}
