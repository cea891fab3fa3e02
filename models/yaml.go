package models

import (
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): `)

// parseYAML parses one YAML file into its top-level mapping node.
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
			// yaml.v3 gives its parser's errors a line early (scanner errors are right),
			// and for a bad indent the line where the enclosing block starts
			line++
			if msg == "did not find expected key" {
				if l := badIndent(string(data), line); l > 0 {
					line = l
				}
			}
		}
		return nil, errorf(file, line, 0, "bad YAML: %s", msg)
	}
	if len(doc.Content) == 0 {
		return &yaml.Node{Kind: yaml.MappingNode}, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, errorf(file, root.Line, root.Column, "bad YAML: expected a mapping of keys at the top of the file")
	}
	if e := duplicateKey(file, root); e != nil {
		return nil, e
	}
	return root, nil
}

// duplicateKey finds a key given twice in one mapping, which YAML forbids and yaml.v3
// accepts silently (the second wins, quietly dropping the first).
func duplicateKey(file string, n *yaml.Node) *Error {
	if n.Kind == yaml.MappingNode {
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if prev, ok := seen[k.Value]; ok {
				return errorf(file, k.Line, k.Column, "bad YAML: key %q is given twice (first on line %d); merge them", k.Value, prev)
			}
			seen[k.Value] = k.Line
		}
	}
	for _, c := range n.Content {
		if e := duplicateKey(file, c); e != nil {
			return e
		}
	}
	return nil
}

// badIndent finds the first line from `from` on whose indentation fits no enclosing
// block: deeper than its block without the line before opening one (a key: with
// nothing after it), or a dedent to a column no open block uses. That is where a "did
// not find expected key" really is.
func badIndent(src string, from int) int {
	var stack []int
	opened := true
	for i, l := range strings.Split(src, "\n") {
		t := strings.TrimLeft(l, " ")
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		ind := len(l) - len(t)
		item := strings.HasPrefix(t, "- ")
		if item {
			ind += 2 // a list item's keys sit after the dash
		}
		for len(stack) > 0 && stack[len(stack)-1] > ind {
			stack = stack[:len(stack)-1]
		}
		top := -1
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch {
		case ind == top:
		case ind > top && (opened || item || top < 0):
			stack = append(stack, ind)
		case i+1 >= from:
			return i + 1
		default:
			stack = append(stack, ind)
		}
		opened = strings.HasSuffix(strings.TrimSpace(t), ":")
	}
	return 0
}

// yamlPair is one key: value of a mapping node.
type yamlPair struct {
	Key   string
	KeyN  *yaml.Node
	Value *yaml.Node
}

// pairs lists a mapping's entries in file order (nil for any other node).
func pairs(n *yaml.Node) []yamlPair {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	out := make([]yamlPair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, yamlPair{Key: n.Content[i].Value, KeyN: n.Content[i], Value: n.Content[i+1]})
	}
	return out
}

// get returns a mapping's value for key, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// scalar returns a scalar node's text, or "".
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// decode turns a node into plain Go values (maps, slices, strings, numbers, bools).
func decode(n *yaml.Node) any {
	if n == nil {
		return nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil
	}
	return v
}

// posOf is where a node sits in file.
func posOf(file string, n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: file}
	}
	return Pos{File: file, Line: n.Line, Col: n.Column}
}

// layerOf reads a config mapping node into a layer with each key's place.
func layerOf(file string, n *yaml.Node) configLayer {
	l := configLayer{values: map[string]any{}, pos: map[string]Pos{}}
	for _, kv := range pairs(n) {
		k := normalizeKey(kv.Key)
		l.values[k] = decode(kv.Value)
		l.pos[k] = posOf(file, kv.KeyN)
	}
	return l
}
