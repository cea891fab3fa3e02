package models

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Jinja errors: gonja's messages placed at their file, line and column, with its wrapping
// removed, and rewritten for the mistakes users make (a misspelt macro, a package not
// installed, an error inside a macro placed at the macro's own line).

var (
	syntaxPosRe = regexp.MustCompile(`\(Line: (\d+) Col: (\d+), near "([^"]*)"\)`)
	linePosRe   = regexp.MustCompile(`at line (\d+)`)
	// a macro call's error: gonja names the Go function it called and the macro chain
	callNoiseRe  = regexp.MustCompile(`(call\(\[[^\]]*\], map\[[^\]]*\]\): )?invalid call to function '[^']*': `)
	macroChainRe = regexp.MustCompile(`Unable to execute macro '(\w+)': (unable to evaluate parameters: )?`)
	wrapNoiseRe  = regexp.MustCompile(`(unable to execute template: |Unable to render expression at line \d+: [^:]*: |Unable to execute controlStructure at line \d+: [^:]*: |failed to parse template '(?s:.*?)': )`)
)

// jinjaError turns a gonja error into a placed Error with gonja's wrapping removed.
func jinjaError(file string, err error, what string) *Error {
	msg := err.Error()
	line, col := 0, 0
	if m := syntaxPosRe.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		col, _ = strconv.Atoi(m[2])
		msg = strings.Replace(msg, m[0], fmt.Sprintf("near %q", m[3]), 1)
	} else if m := linePosRe.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	msg = wrapNoiseRe.ReplaceAllString(msg, "")
	msg = callNoiseRe.ReplaceAllString(msg, "")
	msg = macroChainRe.ReplaceAllString(msg, "in macro $1: ")
	return errorf(file, line, col, "%s: %s", what, strings.TrimSpace(msg))
}

var controlRe = regexp.MustCompile(`controlStructure "(\w+)"`)

// placeTag places a parse error gonja gave no position for at the end of the first tag
// of the kind it names ("for", "if", …), where the parser stopped.
func placeTag(e *Error, src string) *Error {
	if e.Line != 0 {
		return e
	}
	m := controlRe.FindStringSubmatch(e.Msg)
	if m == nil {
		return e
	}
	tag := regexp.MustCompile(`\{%-?\s*` + m[1] + `\b[^%]*?(-?%\})`)
	if loc := tag.FindStringSubmatchIndex(src); loc != nil {
		p := (&renderState{raw: src, file: e.File}).at(loc[2])
		e.Line, e.Col = p.Line, p.Col
	}
	return e
}

var (
	notCallableRe = regexp.MustCompile(`(\w+) is not callable`)
	methodCallRe  = regexp.MustCompile(`invalid call to method '(\w+)'`)
)

var inMacroRe = regexp.MustCompile(`in macro \w+: `)

var macroLevelRe = regexp.MustCompile(`Unable to execute macro '(\w+)': (?:unable to evaluate parameters: )?(?:[^:']*: )*?Unable to (?:render expression|execute controlStructure) at line (\d+)`)

// macroError places an error raised inside a macro at the macro's own file and line,
// saying which model called it and through which macros.
func (re *renderEnv) macroError(file string, err error) *Error {
	raw := err.Error()
	levels := macroLevelRe.FindAllStringSubmatch(raw, -1)
	if len(levels) == 0 {
		return nil
	}
	inner := levels[len(levels)-1]
	mfile := re.macroFile(inner[1])
	if mfile == "" {
		return nil
	}
	line, _ := strconv.Atoi(inner[2])
	var chain []string
	for _, l := range levels {
		chain = append(chain, l[1])
	}
	at := file
	if m := linePosRe.FindStringSubmatch(raw); m != nil {
		at += ":" + m[1]
	}
	msg := jinjaError(file, err, "").Msg
	if locs := inMacroRe.FindAllStringIndex(msg, -1); len(locs) > 0 {
		msg = msg[locs[len(locs)-1][1]:] // what the innermost macro said
	}
	msg = strings.TrimPrefix(msg, ": ")
	return errorf(mfile, line, 0, "in macro %s, called from %s (%s): %s", inner[1], at, strings.Join(chain, " → "), msg)
}

// macroFile is the file that defines a macro: the project's own, else a package's, else
// dbt's.
func (re *renderEnv) macroFile(name string) string {
	if ms := re.project.macros; ms != nil {
		if f := ms.names[name]; f != "" {
			return f
		}
		for _, key := range slices.Sorted(maps.Keys(ms.names)) {
			if strings.HasSuffix(key, "."+name) {
				return ms.names[key]
			}
		}
	}
	if f := dbtMacros().names[dbtNamespace+"."+name]; f != "" {
		return f
	}
	return ""
}

// builtinNames are the functions a template can call besides the project's macros.
var builtinNames = []string{"ref", "source", "config", "var", "env_var", "doc", "is_incremental", "log", "range", "dict", "namespace"}

// explain rewrites gonja's messages for the mistakes users make: a misspelt macro, a
// macro from a dbt package.
func (st *renderState) explain(e *Error, p *Project) *Error {
	if m := methodCallRe.FindStringSubmatch(e.Msg); m != nil && (strings.Contains(e.Msg, " of : ") || strings.Contains(e.Msg, "for ''")) { // an undefined name's method: a package's macro
		if loc := regexp.MustCompile(`(\w+)\.` + regexp.QuoteMeta(m[1]) + `\s*\(`).FindStringSubmatchIndex(st.raw); loc != nil {
			pkg := st.raw[loc[2]:loc[3]]
			pos := st.at(loc[0])
			if p != nil {
				for _, installed := range p.Packages {
					if installed.Name == pkg {
						var names []string
						for key := range p.macros.names {
							if name, ok := strings.CutPrefix(key, pkg+"."); ok {
								names = append(names, name)
							}
						}
						return errorf(st.file, pos.Line, pos.Col, "package %s has no macro %s%s", pkg, m[1], didYouMean(m[1], names))
					}
				}
			}
			return errorf(st.file, pos.Line, pos.Col, "%s.%s: no package %s is installed: list it in packages.yml and run strata deps", pkg, m[1], pkg)
		}
	}
	if m := notCallableRe.FindStringSubmatch(e.Msg); m != nil {
		if loc := regexp.MustCompile(`\b` + regexp.QuoteMeta(m[1]) + `\s*\(`).FindStringIndex(st.raw); loc != nil {
			names := append([]string{}, builtinNames...)
			if p != nil && p.macros != nil {
				names = append(names, slices.Sorted(maps.Keys(p.macros.names))...)
			}
			pos := st.at(loc[0])
			return errorf(st.file, pos.Line, pos.Col, "unknown macro %q%s: define it in macros/ with {%% macro %s(...) %%}", m[1], didYouMean(m[1], names), m[1])
		}
	}
	return e
}
