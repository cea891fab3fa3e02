package lineage

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/dominikbraun/graph"

	"github.com/stratadata/strata/models"
)

// SelectorError says a selector cannot be parsed.
type SelectorError struct {
	Selector string
	Msg      string
}

func (e *SelectorError) Error() string {
	return fmt.Sprintf("bad selector %q: %s", e.Selector, e.Msg)
}

// methods are the selector methods strata understands, as in dbt.
var methods = []string{"tag", "path", "file", "fqn", "source", "resource_type", "test_type", "test_name", "package", "exposure", "config"}

// atom is one selector criterion with its graph operators.
type atom struct {
	raw       string
	at        bool // @: the node, its descendants, and their ancestors
	parents   int  // +name: -1 for all, 0 for none, N for N generations
	children  int  // name+
	method    string
	configKey string
	value     string
}

// Selection is a parsed selector: a union of intersections of atoms.
type Selection struct {
	union [][]atom
}

// ParseSelection parses dbt's selector grammar: space-separated terms are a union,
// comma-joined atoms an intersection; each atom is [@][N+]method:value[+N].
func ParseSelection(args []string) (*Selection, error) {
	s := &Selection{}
	for _, arg := range args {
		for _, term := range strings.Fields(arg) {
			var inter []atom
			for _, part := range strings.Split(term, ",") {
				a, err := parseAtom(part)
				if err != nil {
					return nil, err
				}
				inter = append(inter, a)
			}
			s.union = append(s.union, inter)
		}
	}
	return s, nil
}

// Empty reports whether the selection has no terms (which selects everything).
func (s *Selection) Empty() bool { return s == nil || len(s.union) == 0 }

func parseAtom(raw string) (atom, error) {
	a := atom{raw: raw}
	bad := func(msg string) (atom, error) { return atom{}, &SelectorError{Selector: raw, Msg: msg} }
	s := raw
	if s == "" {
		return bad("empty selector (two commas, or a comma at an end?)")
	}
	if strings.HasPrefix(s, "@") {
		a.at = true
		s = s[1:]
	}
	// leading N+ or +
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i < len(s) && s[i] == '+' {
		if a.at {
			return bad("@ cannot be combined with a leading +")
		}
		a.parents = -1
		if i > 0 {
			a.parents, _ = strconv.Atoi(s[:i])
		}
		s = s[i+1:]
	} else if i > 0 && i == len(s) {
		// a bare number is a name; fall through
	}
	// trailing + or +N
	if j := strings.LastIndex(s, "+"); j >= 0 {
		tail := s[j+1:]
		if tail == "" || isDigits(tail) {
			a.children = -1
			if tail != "" {
				a.children, _ = strconv.Atoi(tail)
			}
			s = s[:j]
		}
	}
	if a.at && a.children != 0 {
		return bad("@ already includes descendants; drop the trailing +")
	}
	if s == "" {
		return bad("missing a name or method:value")
	}
	if strings.ContainsAny(s, "+@") {
		return bad("+ and @ go only at the start or end of a selector")
	}
	if k := strings.Index(s, ":"); k >= 0 {
		a.method, a.value = s[:k], s[k+1:]
		if strings.HasPrefix(a.method, "config.") {
			a.configKey = strings.TrimPrefix(a.method, "config.")
			a.method = "config"
		}
		if !slices.Contains(methods, a.method) || (a.method == "config" && a.configKey == "") {
			return bad(fmt.Sprintf("unknown method %q%s; use one of tag:, path:, config.KEY:, source:, resource_type:, test_type:, fqn:", a.method, models.DidYouMean(a.method, methods)))
		}
		if a.value == "" {
			return bad("missing a value after " + a.method + ":")
		}
	} else {
		a.value = s
	}
	if _, err := path.Match(a.value, ""); err != nil {
		return bad("bad wildcard pattern")
	}
	return a, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Select returns the IDs a selection picks, minus what exclude picks. An empty selection
// selects every node. Tests are included when any node they test is selected (dbt's
// eager indirect selection).
func (gr *Graph) Select(selectArgs, excludeArgs []string) (map[string]bool, error) {
	sel, err := ParseSelection(selectArgs)
	if err != nil {
		return nil, err
	}
	exc, err := ParseSelection(excludeArgs)
	if err != nil {
		return nil, err
	}
	var out map[string]bool
	if sel.Empty() {
		out = make(map[string]bool, len(gr.order))
		for _, id := range gr.order {
			out[id] = true
		}
	} else {
		out = gr.eval(sel)
		gr.addTests(out)
	}
	if !exc.Empty() {
		// excluding a node excludes its tests too, as in dbt
		gone := gr.eval(exc)
		gr.addTests(gone)
		for id := range gone {
			delete(out, id)
		}
	}
	return out, nil
}

// addTests adds the tests whose tested nodes are selected, and the unit tests of the
// selected models.
func (gr *Graph) addTests(ids map[string]bool) {
	for _, u := range gr.Project.UnitTests {
		if ids[u.Model] {
			ids[u.ID()] = true
		}
	}
	for id := range ids {
		for k := range gr.kids[id] {
			if n := gr.Node(k); n.Type == TypeTest {
				ids[k] = true
			}
		}
	}
}

func (gr *Graph) eval(s *Selection) map[string]bool {
	out := map[string]bool{}
	for _, inter := range s.union {
		var acc map[string]bool
		for _, a := range inter {
			got := gr.evalAtom(a)
			if acc == nil {
				acc = got
				continue
			}
			for id := range acc {
				if !got[id] {
					delete(acc, id)
				}
			}
		}
		for id := range acc {
			out[id] = true
		}
	}
	return out
}

func (gr *Graph) evalAtom(a atom) map[string]bool {
	base := map[string]bool{}
	for _, n := range gr.sorted {
		if id := n.ID; gr.matches(a, n) {
			base[id] = true
		}
	}
	out := map[string]bool{}
	for id := range base {
		out[id] = true
	}
	if a.parents != 0 {
		gr.walk(base, gr.parents, a.parents, out)
	}
	if a.children != 0 || a.at {
		depth := a.children
		if a.at {
			depth = -1
		}
		desc := map[string]bool{}
		gr.walk(base, gr.kids, depth, desc)
		for id := range desc {
			out[id] = true
		}
		if a.at {
			anc := map[string]bool{}
			gr.walk(desc, gr.parents, -1, anc)
			for id := range anc {
				out[id] = true
			}
		}
	}
	return out
}

// walk adds to out everything reachable from start along next (the library's adjacency
// or predecessor map) within depth (-1: any): one breadth-first walk from every start
// node at once, which the library's single-root walks cannot do.
func (gr *Graph) walk(start map[string]bool, next map[string]map[string]graph.Edge[string], depth int, out map[string]bool) {
	frontier := make([]string, 0, len(start))
	for id := range start {
		frontier = append(frontier, id)
		out[id] = true
	}
	for d := 0; len(frontier) > 0 && (depth < 0 || d < depth); d++ {
		var nf []string
		for _, id := range frontier {
			for n := range next[id] {
				if !out[n] {
					out[n] = true
					nf = append(nf, n)
				}
			}
		}
		frontier = nf
	}
}

func glob(pattern, s string) bool {
	if !strings.ContainsAny(pattern, "*?[") {
		return pattern == s
	}
	ok, _ := path.Match(pattern, s)
	return ok
}

// matches reports whether a node meets an atom's method:value.
func (gr *Graph) matches(a atom, n *Node) bool {
	switch a.method {
	case "":
		if strings.Contains(a.value, "/") || strings.HasSuffix(a.value, ".sql") || strings.HasSuffix(a.value, ".csv") {
			return matchPath(a.value, n.Path)
		}
		if n.Type == TypeSource {
			return false
		}
		return matchFQN(a.value, n)
	case "fqn":
		return matchFQN(a.value, n)
	case "tag":
		for _, t := range n.Tags {
			if glob(a.value, t) {
				return true
			}
		}
		return false
	case "path":
		return matchPath(a.value, n.Path)
	case "file":
		base := path.Base(n.Path)
		return glob(a.value, base) || glob(a.value, strings.TrimSuffix(base, path.Ext(base)))
	case "package":
		return glob(a.value, gr.Project.Name)
	case "resource_type":
		return glob(a.value, string(n.Type))
	case "source":
		if n.Type != TypeSource {
			return false
		}
		return glob(a.value, n.Source.Source) || glob(a.value, n.Name)
	case "exposure":
		return n.Type == TypeExposure && glob(a.value, n.Name)
	case "test_type":
		if n.Type == TypeUnitTest {
			return a.value == "unit"
		}
		if n.Type != TypeTest {
			return false
		}
		kind := "singular"
		if n.Test.Generic != "" {
			kind = "generic"
		}
		return a.value == kind || a.value == "data"
	case "test_name":
		return n.Type == TypeTest && n.Test.Generic != "" && glob(a.value, n.Test.Generic)
	case "config":
		if n.Model == nil {
			return false
		}
		v, ok := n.Model.Config.Raw[a.configKey]
		if !ok {
			return false
		}
		switch v := v.(type) {
		case []string:
			for _, x := range v {
				if glob(a.value, x) {
					return true
				}
			}
			return false
		case []any:
			for _, x := range v {
				if glob(a.value, fmt.Sprint(x)) {
					return true
				}
			}
			return false
		}
		return glob(a.value, fmt.Sprint(v))
	}
	return false
}

// matchPath matches a path selector: a folder selects everything below it.
func matchPath(sel, p string) bool {
	sel = strings.TrimSuffix(path.Clean(sel), "/")
	if glob(sel, p) {
		return true
	}
	return strings.HasPrefix(p, sel+"/")
}

// matchFQN matches a name or dotted fqn prefix (with wildcards) against a node.
func matchFQN(sel string, n *Node) bool {
	if glob(sel, n.Name) {
		return true
	}
	parts := strings.Split(sel, ".")
	for _, f := range [][]string{n.FQN, n.FQN[1:]} {
		if len(parts) > len(f) {
			continue
		}
		ok := true
		for i, p := range parts {
			if !glob(p, f[i]) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// Unmatched returns a warning for each space-separated term of a selection that matches
// no node, with the closest node name when one is close: dbt warns the same way.
func (gr *Graph) Unmatched(args []string) []string {
	var out []string
	names := make([]string, 0, len(gr.order))
	for _, n := range gr.sorted {
		if n.Type != TypeTest {
			names = append(names, n.Name)
		}
	}
	for _, arg := range args {
		for _, term := range strings.Fields(arg) {
			sel, err := ParseSelection([]string{term})
			if err != nil || len(gr.eval(sel)) > 0 {
				continue
			}
			msg := fmt.Sprintf("selector %q matches nothing", term)
			bare := strings.Trim(term, "+@0123456789")
			if !strings.ContainsAny(bare, ":*?[,") {
				msg += models.DidYouMean(bare, names)
			}
			out = append(out, msg)
		}
	}
	return out
}
