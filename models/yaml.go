package models

import (
	"errors"

	"go.yaml.in/yaml/v3"

	"github.com/stratadata/strata/internal/yamlfile"
)

// parseYAML parses one YAML file into its top-level mapping node; a syntax error is placed
// at its line and the column where that line's text starts (yamlfile.Parse).
func parseYAML(file string, data []byte) (*yaml.Node, *Error) {
	doc, err := yamlfile.Parse(data)
	if err != nil {
		var se *yamlfile.SyntaxError
		if !errors.As(err, &se) {
			return nil, errorf(file, 0, 0, "bad YAML: %v", err)
		}
		return nil, errorf(file, se.Line, se.Col, "bad YAML: %s", se.Msg)
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
