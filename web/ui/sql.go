package ui

import (
	"strings"
	"unicode"
)

// sqlKeywords are the words Highlight marks: SQL's common keywords and functions' heads.
var sqlKeywords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`select from where and or not as join left right inner outer full cross on
		group by order having limit offset union all distinct with case when then else end is null in
		exists between like ilike insert into values update set delete create replace table view
		materialized or temporary temp drop alter add column primary key references cast over partition
		rows range window qualify asc desc nulls first last true false interval using except intersect
		lateral unnest filter within coalesce count sum avg min max date timestamp`) {
		sqlKeywords[w] = true
	}
}

// Highlight splits SQL (with Jinja in it, for a model's source) into tokens to colour:
// keywords, strings, numbers, comments and Jinja tags. It never fails: what it does not
// know stays plain text.
func Highlight(sql string) []Token {
	var out []Token
	emit := func(class, text string) {
		if text == "" {
			return
		}
		if n := len(out); n > 0 && out[n-1].Class == class {
			out[n-1].Text += text
			return
		}
		out = append(out, Token{Class: class, Text: text})
	}
	for i := 0; i < len(sql); {
		rest := sql[i:]
		switch {
		case strings.HasPrefix(rest, "{{"), strings.HasPrefix(rest, "{%"), strings.HasPrefix(rest, "{#"):
			closer := map[byte]string{'{': "}}", '%': "%}", '#': "#}"}[rest[1]]
			n := strings.Index(rest[2:], closer)
			if n < 0 {
				n = len(rest)
			} else {
				n += 4
			}
			emit("jinja", rest[:n])
			i += n
		case strings.HasPrefix(rest, "--"):
			n := strings.IndexByte(rest, '\n')
			if n < 0 {
				n = len(rest)
			}
			emit("com", rest[:n])
			i += n
		case strings.HasPrefix(rest, "/*"):
			n := strings.Index(rest, "*/")
			if n < 0 {
				n = len(rest)
			} else {
				n += 2
			}
			emit("com", rest[:n])
			i += n
		case rest[0] == '\'':
			n := 1
			for n < len(rest) {
				if rest[n] == '\'' {
					if n+1 < len(rest) && rest[n+1] == '\'' {
						n += 2
						continue
					}
					n++
					break
				}
				n++
			}
			emit("str", rest[:n])
			i += n
		case isWord(rune(rest[0])):
			n := 0
			for n < len(rest) && isWord(rune(rest[n])) {
				n++
			}
			w := rest[:n]
			switch {
			case sqlKeywords[strings.ToLower(w)]:
				emit("kw", w)
			case unicode.IsDigit(rune(w[0])):
				emit("num", w)
			default:
				emit("", w)
			}
			i += n
		default:
			emit("", rest[:1])
			i++
		}
	}
	return out
}

func isWord(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || r >= 0x80 }
