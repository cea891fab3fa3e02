package models

import (
	"fmt"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// gonja parses less of Jinja than dbt's projects and packages write. Before a template is
// parsed, its expressions are rewritten into what gonja parses, with the same meaning:
//   - `A if B else C` anywhere (gonja has it only in a set tag) becomes
//     `(((B) and [A]) or [C])[0]`, which evaluates only the branch taken, as Jinja does;
//   - a trailing comma in a call, list, tuple or dict is dropped;
//   - `f(x, *args, **kwargs)` becomes `__splat(f, [x], args, {}, kwargs)`.
// Text outside {{ }} and {% %}, comments and {% raw %} blocks are left as they are, so
// positions in error messages keep their lines.

// rewriteJinja rewrites every expression of a template.
func rewriteJinja(src string) string {
	if !strings.Contains(src, " if ") && !strings.Contains(src, ",") && !strings.Contains(src, "*") {
		return src
	}
	var b strings.Builder
	for i := 0; i < len(src); {
		j := strings.Index(src[i:], "{")
		if j < 0 || i+j+1 >= len(src) {
			b.WriteString(src[i:])
			break
		}
		j += i
		b.WriteString(src[i:j])
		switch src[j+1] {
		case '#':
			end := strings.Index(src[j:], "#}")
			if end < 0 {
				b.WriteString(src[j:])
				return b.String()
			}
			b.WriteString(src[j : j+end+2])
			i = j + end + 2
		case '{', '%':
			end := tagEnd(src, j+2, src[j+1])
			if end < 0 {
				b.WriteString(src[j:])
				return b.String()
			}
			inner := src[j+2 : end]
			if src[j+1] == '%' && isRawTag(inner) {
				stop := strings.Index(src[end:], "endraw")
				if stop < 0 {
					b.WriteString(src[j:])
					return b.String()
				}
				b.WriteString(src[j : end+stop])
				i = end + stop
				continue
			}
			b.WriteString(src[j : j+2])
			// whitespace control stays outside the expression: {%- … -%}
			lead, trail := "", ""
			if strings.HasPrefix(inner, "-") || strings.HasPrefix(inner, "+") {
				lead, inner = inner[:1], inner[1:]
			}
			if strings.HasSuffix(inner, "-") || strings.HasSuffix(inner, "+") {
				inner, trail = inner[:len(inner)-1], inner[len(inner)-1:]
			}
			b.WriteString(lead)
			if src[j+1] == '{' {
				b.WriteString(rewriteElem(lex(inner)))
			} else {
				b.WriteString(rewriteTag(inner))
			}
			b.WriteString(trail)
			i = end
		default:
			b.WriteByte('{')
			i = j + 1
		}
	}
	return b.String()
}

func isRawTag(inner string) bool {
	return strings.TrimSpace(strings.Trim(strings.TrimSpace(inner), "-+")) == "raw"
}

// tagEnd finds where a {{ or {% started before from closes: the offset of its closing
// }} or %} (a whitespace-control - before it belongs to the tag), or -1.
func tagEnd(src string, from int, kind byte) int {
	closer := byte('}')
	if kind == '%' {
		closer = '%'
	}
	depth := 0
	for i := from; i < len(src)-1; i++ {
		switch c := src[i]; c {
		case '\'', '"':
			i = skipString(src, i)
		case '{', '[', '(':
			depth++
		case ']', ')':
			depth--
		case '}':
			if kind == '{' && depth <= 0 && src[i+1] == '}' {
				return i
			}
			depth--
		case '%':
			if closer == '%' && src[i+1] == '}' {
				return i
			}
		}
	}
	return -1
}

// skipString returns the offset of the quote that closes the string starting at i.
func skipString(src string, i int) int {
	q := src[i]
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case q:
			return j
		}
	}
	return len(src) - 1
}

// rewriteTag rewrites a statement's expressions, after its keyword.
func rewriteTag(inner string) string {
	toks := lex(inner)
	k := 0
	for k < len(toks) && (toks[k].kind == ' ' || toks[k].text == "-" || toks[k].text == "+") {
		k++
	}
	if k >= len(toks) || toks[k].kind != 'n' {
		return inner
	}
	head, rest := joinToks(toks[:k+1]), toks[k+1:]
	switch toks[k].text {
	case "set":
		for i, t := range rest {
			if t.text == "=" {
				return head + joinToks(rest[:i+1]) + rewriteElem(rest[i+1:])
			}
		}
		return head + rewriteGroups(rest, false)
	case "do", "if", "elif", "return":
		return head + rewriteElem(rest)
	case "macro", "call":
		return head + rewriteGroups(rest, true)
	case "for", "with", "filter", "import", "from", "include":
		return head + rewriteGroups(rest, false)
	}
	return inner
}

type tok struct {
	kind byte // n name, s string, ' ' space, p punctuation or anything else
	text string
}

func lex(s string) []tok {
	var out []tok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\'' || c == '"':
			j := skipString(s, i)
			out = append(out, tok{'s', s[i : j+1]})
			i = j + 1
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			j := i
			for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r') {
				j++
			}
			out = append(out, tok{' ', s[i:j]})
			i = j
		case isIdent(c):
			j := i
			for j < len(s) && isIdent(s[j]) {
				j++
			}
			out = append(out, tok{'n', s[i:j]})
			i = j
		case c == '*' && i+1 < len(s) && s[i+1] == '*':
			out = append(out, tok{'p', "**"})
			i += 2
		default:
			out = append(out, tok{'p', s[i : i+1]})
			i++
		}
	}
	return out
}

func joinToks(ts []tok) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString(t.text)
	}
	return b.String()
}

var closing = map[string]string{"(": ")", "[": "]", "{": "}"}

// match finds the index of the token closing the group opened at i.
func match(ts []tok, i int) int {
	depth := 0
	for j := i; j < len(ts); j++ {
		switch ts[j].text {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// rewriteElem rewrites one expression: its groups, then a conditional at its top level.
func rewriteElem(ts []tok) string {
	ifAt, elseAt := -1, -1
	for i := 0; i < len(ts); i++ {
		t := ts[i]
		if _, ok := closing[t.text]; ok && t.kind == 'p' {
			if j := match(ts, i); j > 0 {
				i = j
				continue
			}
		}
		if t.kind == 'n' && t.text == "if" && ifAt < 0 && i > 0 {
			ifAt = i
		} else if t.kind == 'n' && t.text == "else" && ifAt >= 0 {
			elseAt = i
			break
		}
	}
	if ifAt < 0 || strings.TrimSpace(joinToks(ts[:ifAt])) == "" {
		return rewriteGroups(ts, false)
	}
	cond, alt := ts[ifAt+1:], "none" // `a if b` is a when b holds, else nothing
	if elseAt >= 0 {
		cond, alt = ts[ifAt+1:elseAt], strings.TrimSpace(rewriteElem(ts[elseAt+1:]))
	}
	lead, a := splitLead(ts[:ifAt])
	out := lead + fmt.Sprintf("((((%s) and [%s]) or [%s])[0])",
		strings.TrimSpace(rewriteGroups(cond, false)), strings.TrimSpace(rewriteGroups(a, false)), alt)
	// the lines stay where they were, for error positions after it
	if n := strings.Count(joinToks(ts), "\n") - strings.Count(out, "\n"); n > 0 {
		out += strings.Repeat("\n", n)
	}
	return out
}

// splitLead keeps leading whitespace out of a rewritten expression.
func splitLead(ts []tok) (string, []tok) {
	if len(ts) > 0 && ts[0].kind == ' ' {
		return ts[0].text, ts[1:]
	}
	return "", ts
}

// rewriteGroups rewrites what is inside each bracket group: its elements, trailing
// commas, and splats in calls (not in a macro's own parameters: def).
func rewriteGroups(ts []tok, def bool) string {
	var b strings.Builder
	for i := 0; i < len(ts); i++ {
		t := ts[i]
		cl, ok := closing[t.text]
		if !ok || t.kind != 'p' {
			b.WriteString(t.text)
			continue
		}
		j := match(ts, i)
		if j < 0 {
			b.WriteString(joinToks(ts[i:]))
			break
		}
		elems := splitElems(ts[i+1:j], t.text == "{")
		isCall := t.text == "(" && calleeEnds(b.String())
		if isCall && !def && hasSplat(elems) {
			callee, before := splitCallee(b.String())
			b.Reset()
			b.WriteString(before)
			b.WriteString(splat(callee, elems))
		} else {
			b.WriteString(t.text)
			for k, e := range elems {
				if k > 0 {
					b.WriteString(e.sep)
				}
				switch {
				case t.text == "(" && isKwarg(e.toks):
					// name=value: the value is the expression (a macro's default too)
					i := 0
					for e.toks[i].text != "=" {
						i++
					}
					b.WriteString(joinToks(e.toks[:i+1]) + rewriteElem(e.toks[i+1:]))
				case def:
					b.WriteString(rewriteGroups(e.toks, true))
				default:
					b.WriteString(rewriteElem(e.toks))
				}
			}
			b.WriteString(cl)
		}
		i = j
	}
	return b.String()
}

type elem struct {
	sep  string // what came before it: "," or ":"
	toks []tok
}

// splitElems splits a group's content at its top-level commas (and a dict's colons),
// dropping a trailing comma.
func splitElems(ts []tok, dict bool) []elem {
	var out []elem
	start, sep := 0, ""
	for i := 0; i < len(ts); i++ {
		t := ts[i]
		if _, ok := closing[t.text]; ok && t.kind == 'p' {
			if j := match(ts, i); j > 0 {
				i = j
			}
			continue
		}
		if t.kind == 'p' && (t.text == "," || dict && t.text == ":") {
			out = append(out, elem{sep, ts[start:i]})
			start, sep = i+1, t.text
		}
	}
	last := ts[start:]
	if sep == "," && strings.TrimSpace(joinToks(last)) == "" && len(out) > 0 {
		return out // a trailing comma
	}
	return append(out, elem{sep, last})
}

func hasSplat(es []elem) bool {
	for _, e := range es {
		if t := firstTok(e.toks); t.text == "*" || t.text == "**" {
			return true
		}
	}
	return false
}

func firstTok(ts []tok) tok {
	for _, t := range ts {
		if t.kind != ' ' {
			return t
		}
	}
	return tok{}
}

// calleeEnds says the text so far ends with something callable: a name, a call, a
// subscript.
func calleeEnds(s string) bool {
	s = strings.TrimRight(s, " \t\r\n")
	if s == "" {
		return false
	}
	c := s[len(s)-1]
	if c == ')' || c == ']' {
		return true
	}
	if !isIdent(c) {
		return false
	}
	i := len(s)
	for i > 0 && isIdent(s[i-1]) {
		i--
	}
	switch s[i:] {
	case "and", "or", "not", "in", "is", "if", "else":
		return false
	}
	return true
}

// splitCallee splits the text so far into what precedes the callee and the callee: a
// chain of names, dots, calls and subscripts.
func splitCallee(s string) (callee, before string) {
	i := len(s)
	for i > 0 {
		c := s[i-1]
		switch {
		case isIdent(c) || c == '.':
			i--
		case c == ')' || c == ']':
			open := map[byte]byte{')': '(', ']': '['}[c]
			depth := 0
			for i > 0 {
				i--
				if s[i] == c {
					depth++
				} else if s[i] == open {
					depth--
					if depth == 0 {
						break
					}
				}
			}
		default:
			return s[i:], s[:i]
		}
	}
	return s[i:], s[:i]
}

// splat writes a call with *args and **kwargs as a call of __splat.
func splat(callee string, es []elem) string {
	var pos, kw []string
	star, kwargs := "[]", "{}"
	for _, e := range es {
		t := firstTok(e.toks)
		body := strings.TrimSpace(joinToks(e.toks))
		switch {
		case t.text == "**":
			kwargs = rewriteElem(lex(strings.TrimPrefix(body, "**")))
		case t.text == "*":
			star = rewriteElem(lex(strings.TrimPrefix(body, "*")))
		case len(e.toks) > 0 && isKwarg(e.toks):
			k, v, _ := strings.Cut(body, "=")
			kw = append(kw, fmt.Sprintf("'%s': %s", strings.TrimSpace(k), rewriteElem(lex(v))))
		case body != "":
			pos = append(pos, rewriteElem(e.toks))
		}
	}
	return fmt.Sprintf("__splat(%s, [%s], %s, {%s}, %s)", callee, strings.Join(pos, ", "), star, strings.Join(kw, ", "), kwargs)
}

// isKwarg says an element is name=value (and not name == value).
func isKwarg(ts []tok) bool {
	var seen []tok
	for _, t := range ts {
		if t.kind != ' ' {
			seen = append(seen, t)
		}
	}
	return len(seen) >= 3 && seen[0].kind == 'n' && seen[1].text == "=" && seen[2].text != "="
}

// splatFunc calls a macro or function with positional and keyword arguments gathered
// from lists and dicts: what f(*args, **kwargs) does.
func splatFunc(args *exec.VarArgs) (*exec.Value, error) {
	if len(args.Args) != 5 {
		return nil, fmt.Errorf("__splat: bad call")
	}
	fn := args.Args[0]
	call := exec.NewVarArgs()
	for _, list := range []*exec.Value{args.Args[1], args.Args[2]} {
		list.Iterate(func(_, _ int, k, _ *exec.Value) bool { call.Args = append(call.Args, k); return true }, func() {})
	}
	for _, dict := range []*exec.Value{args.Args[3], args.Args[4]} {
		dict.Iterate(func(_, _ int, k, v *exec.Value) bool { call.KwArgs[k.String()] = v; return true }, func() {})
	}
	switch f := fn.Interface().(type) {
	case exec.Macro:
		return f(call), nil
	case func(*exec.VarArgs) (any, error):
		v, err := f(call)
		return exec.AsValue(v), err
	case func(*exec.VarArgs) (string, error):
		v, err := f(call)
		return exec.AsValue(v), err
	}
	return nil, fmt.Errorf("*args and **kwargs work with macros; %s is not one", fn.String())
}
