package models

import (
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// renderStatic renders a model at load without gonja when its Jinja is only what dbt's
// static parser reads: expressions {{ ... }} that are calls of ref, source, config, var
// or env_var with literal arguments (strings, integers, booleans, none, lists, dicts), or
// the names this and the window variables, and comments {# ... #}. It is
// most models of most projects, and it skips gonja's lexer and parser, which are most of
// a first load's time. The calls are the very functions gonja's context binds (calls),
// and values print as gonja prints them, so the output, refs, sources and config are
// the same. ok is false for anything else (a block, a filter, an attribute,
// a macro, an expression), and when a call fails or warns: gonja renders the model then,
// and reports what is wrong as it always does.
func (re *renderEnv) renderStatic(self string, st *renderState) (out string, ok bool) {
	src := st.raw
	if strings.Contains(src, "{%") || strings.Contains(src, placeholderMark) {
		return "", false
	}
	if !strings.Contains(src, "{{") && !strings.Contains(src, "{#") {
		// no Jinja at all: gonja would only normalize the newlines
		return normalizeNewlines(src), true
	}
	if re.needsMacros(src) {
		return "", false // a macro may be called, or may override one of dbt's functions
	}
	src = normalizeNewlines(src)
	c := calls{re: re, st: st}
	var b strings.Builder
	b.Grow(len(src) + 64)
	trimLeft := false
	for {
		i := nextTag(src)
		data := src
		if i >= 0 {
			data = src[:i]
		}
		if trimLeft {
			data = strings.TrimLeft(data, " \r\n\t")
		}
		if i < 0 {
			b.WriteString(data)
			break
		}
		comment := src[i+1] == '#'
		rest := src[i+2:]
		if strings.HasPrefix(rest, "-") {
			data = strings.TrimRight(data, " \r\n\t")
			rest = rest[1:]
		} else if strings.HasPrefix(rest, "+") {
			return "", false
		}
		b.WriteString(data)
		if comment {
			end := strings.Index(rest, "#}")
			if end < 0 || strings.HasSuffix(rest[:end], "+") {
				return "", false
			}
			trimLeft = strings.HasSuffix(rest[:end], "-")
			src = rest[end+2:]
			continue
		}
		// the expression ends at the first "}}": one that holds it (in a string, a
		// dict) is gonja's to read
		end := strings.Index(rest, "}}")
		if end < 0 {
			return "", false
		}
		x := &exprScanner{s: rest[:end]}
		val, good := x.expression(c, self)
		if !good {
			return "", false
		}
		x.space()
		trimLeft = x.s == "-"
		if x.s != "" && !trimLeft {
			return "", false
		}
		b.WriteString(val)
		src = rest[end+2:]
	}
	if len(st.errs) > 0 || len(st.warnings) > 0 {
		return "", false
	}
	return b.String(), true
}

// nextTag is where the next {{ or {# starts in src, or -1.
func nextTag(src string) int {
	for i := 0; ; {
		j := strings.IndexByte(src[i:], '{')
		if j < 0 || i+j+1 >= len(src) {
			return -1
		}
		i += j
		if src[i+1] == '{' || src[i+1] == '#' {
			return i
		}
		i++
	}
}

// normalizeNewlines is what gonja's lexer does to a template's text first: \r\n and \r
// become \n, and one trailing newline is dropped (dbt's keep_trailing_newline=False).
func normalizeNewlines(src string) string {
	if strings.IndexByte(src, '\r') >= 0 {
		src = strings.ReplaceAll(src, "\r\n", "\n")
		src = strings.ReplaceAll(src, "\r", "\n")
	}
	return strings.TrimSuffix(src, "\n")
}

// exprScanner reads one expression of the static subset.
type exprScanner struct{ s string }

func (x *exprScanner) space() {
	x.s = x.s[skipSpace(x.s, 0):]
}

func (x *exprScanner) ident() string {
	i := 0
	for i < len(x.s) && isIdent(x.s[i]) {
		i++
	}
	if i == 0 || x.s[0] >= '0' && x.s[0] <= '9' {
		return ""
	}
	id := x.s[:i]
	x.s = x.s[i:]
	return id
}

// expression evaluates a name or a call, and prints its value as gonja does.
func (x *exprScanner) expression(c calls, self string) (string, bool) {
	x.space()
	name := x.ident()
	if name == "" {
		return "", false
	}
	x.space()
	if !strings.HasPrefix(x.s, "(") {
		switch {
		case name == "this" && self != "":
			return exec.AsValue(c.re.project.refRelation(self)).String(), true
		case c.st.window == nil:
			if v, ok := sampleVars[name]; ok {
				return v, true
			}
		}
		return "", false
	}
	x.s = x.s[1:]
	args, ok := x.arguments()
	if !ok {
		return "", false
	}
	var v any
	var err error
	switch name {
	case "ref":
		if len(args.KwArgs) > 0 {
			return "", false
		}
		v, err = c.ref(args)
	case "source":
		if len(args.KwArgs) > 0 || len(args.Args) != 2 || !args.Args[0].IsString() || !args.Args[1].IsString() {
			return "", false
		}
		v = c.source(args.Args[0].String(), args.Args[1].String())
	case "config":
		if len(args.Args) > 0 {
			return "", false
		}
		v = c.config(args)
	case "var":
		if len(args.KwArgs) > 0 {
			return "", false
		}
		v, err = c.var_(args)
	case "env_var":
		if len(args.KwArgs) > 0 {
			return "", false
		}
		v, err = c.envVar(args)
	default:
		return "", false
	}
	if err != nil {
		return "", false
	}
	return exec.AsValue(v).String(), true
}

// arguments reads a call's literal arguments up to its closing parenthesis: positional
// ones first, then keywords, as Python requires.
func (x *exprScanner) arguments() (*exec.VarArgs, bool) {
	args := &exec.VarArgs{KwArgs: map[string]*exec.Value{}}
	ok := x.seq(')', func() bool {
		x.space()
		save := x.s
		if key := x.ident(); key != "" {
			x.space()
			if strings.HasPrefix(x.s, "=") && !strings.HasPrefix(x.s, "==") {
				x.s = x.s[1:]
				v, ok := x.literal()
				if _, dup := args.KwArgs[key]; !ok || dup {
					return false
				}
				args.KwArgs[key] = v
				return true
			}
			x.s = save // a name as a value: true, none, …
		}
		v, ok := x.literal()
		if !ok || len(args.KwArgs) > 0 {
			return false
		}
		args.Args = append(args.Args, v)
		return true
	})
	return args, ok
}

// seq reads items separated by commas up to close, and past it; none at all is fine. A
// trailing comma is gonja's to read (its parse of one is rewritten first).
func (x *exprScanner) seq(close byte, item func() bool) bool {
	x.space()
	if x.s != "" && x.s[0] == close {
		x.s = x.s[1:]
		return true
	}
	for {
		if !item() {
			return false
		}
		x.space()
		switch {
		case x.s != "" && x.s[0] == close:
			x.s = x.s[1:]
			return true
		case strings.HasPrefix(x.s, ","):
			x.s = x.s[1:]
			x.space()
			if x.s != "" && x.s[0] == close {
				return false
			}
		default:
			return false
		}
	}
}

// literal reads a string without escapes, a decimal integer, a boolean, none, or a list
// or dict of them, as the values gonja's evaluator makes of them.
func (x *exprScanner) literal() (*exec.Value, bool) {
	x.space()
	if x.s == "" {
		return nil, false
	}
	switch q := x.s[0]; {
	case q == '\'' || q == '"':
		end := strings.IndexByte(x.s[1:], q)
		if end < 0 {
			return nil, false
		}
		text := x.s[1 : 1+end]
		if strings.IndexByte(text, '\\') >= 0 {
			return nil, false
		}
		x.s = x.s[2+end:]
		return exec.AsValue(text), true
	case q >= '0' && q <= '9':
		i := 0
		for i < len(x.s) && x.s[i] >= '0' && x.s[i] <= '9' {
			i++
		}
		if i < len(x.s) && (isIdent(x.s[i]) || x.s[i] == '.') || q == '0' && i > 1 {
			return nil, false // a float, hex, octal or underscores: gonja's to read
		}
		n, err := strconv.Atoi(x.s[:i])
		if err != nil {
			return nil, false
		}
		x.s = x.s[i:]
		return exec.AsValue(n), true
	case q == '{':
		return x.dict()
	case q == '[':
		x.s = x.s[1:]
		list := exec.ValuesList{}
		ok := x.seq(']', func() bool {
			v, ok := x.literal()
			list = append(list, v)
			return ok
		})
		return exec.AsValue(list), ok
	}
	switch id := x.ident(); id {
	case "true", "True":
		return exec.AsValue(true), true
	case "false", "False":
		return exec.AsValue(false), true
	case "none", "None":
		return exec.AsValue(nil), true
	}
	return nil, false
}

// dict reads a dict of string keys and literal values, as gonja's evaluator makes it.
func (x *exprScanner) dict() (*exec.Value, bool) {
	x.s = x.s[1:]
	d := &exec.Dict{}
	ok := x.seq('}', func() bool {
		x.space()
		if x.s == "" || x.s[0] != '\'' && x.s[0] != '"' {
			return false
		}
		k, ok := x.literal()
		x.space()
		if !ok || !strings.HasPrefix(x.s, ":") {
			return false
		}
		x.s = x.s[1:]
		v, ok := x.literal()
		d.Pairs = append(d.Pairs, &exec.Pair{Key: k, Value: v})
		return ok
	})
	return exec.AsValue(d), ok
}
