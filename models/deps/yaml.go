package deps

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// nodeValue is a YAML value as plain Go values, keys in the order written.
func nodeValue(n *yaml.Node) any {
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = nodeValue(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		l := []any{}
		for _, c := range n.Content {
			l = append(l, nodeValue(c))
		}
		return l
	case yaml.AliasNode:
		return nodeValue(n.Alias)
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return n.Value
	}
	return v
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): `)

// parseYAML parses a file into its top mapping; a syntax error is placed at its line
// (and the column where that line's text starts, yaml.v3 giving no column).
func parseYAML(file string, data []byte) (*yaml.Node, *Error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := err.Error()
		line := 0
		if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = strings.TrimPrefix(msg, m[0])
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
		if strings.HasPrefix(msg, "did not find expected") {
			line++ // yaml.v3 places its parser's errors where the enclosing block starts
			if msg == "did not find expected key" || msg == "did not find expected '-' indicator" {
				if l := badIndent(string(data), line); l > 0 {
					line = l
				}
				msg += " (check this line's indentation against the lines above it)"
			}
		}
		lines := strings.Split(string(data), "\n")
		if line > len(lines) {
			line = len(lines)
		}
		col := 0
		if line > 0 {
			col = len(lines[line-1]) - len(strings.TrimLeft(lines[line-1], " \t")) + 1
		}
		return nil, &Error{File: file, Line: line, Col: col, Msg: "bad YAML: " + msg}
	}
	if len(doc.Content) == 0 {
		return &yaml.Node{Kind: yaml.MappingNode}, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: file, Line: root.Line, Col: root.Column, Msg: "bad YAML: expected a mapping with packages: at the top of the file"}
	}
	return root, nil
}

// badIndent finds the first line, from line from on, indented where no block is open: the
// line yaml.v3's "did not find expected key" is about.
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

func quoted(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// didYouMean suggests the closest of candidates to a misspelt name.
func didYouMean(name string, candidates []string) string {
	best, bestD := "", len(name)/2+1
	for _, c := range candidates {
		if d := levenshtein(strings.ToLower(name), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
