package models

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

var (
	varCallRe = regexp.MustCompile(`\bvar\(\s*['"]([^'"]+)['"]`)
	envCallRe = regexp.MustCompile(`\benv_var\(\s*['"]([^'"]+)['"]`)
)

// Inputs is what a model's output depends on besides its compiled SQL and config, for
// its fingerprint: a seed's file contents; the source of the macros its file calls
// (and the macros they call); and the values of the vars and environment variables it
// and those macros read — in any branch of its Jinja, not only the one the load render
// took (a var read under is_incremental() counts too).
func (p *Project) Inputs(m *Model) []byte {
	var b strings.Builder
	if m.Kind == KindSeed {
		data, err := os.ReadFile(filepath.Join(p.Dir, m.Path))
		if err != nil {
			b.WriteString("unreadable: " + err.Error())
		}
		b.Write(data)
		return []byte(b.String())
	}
	texts := []string{m.raw}
	for _, file := range p.macrosUsed(m.raw) {
		b.WriteString("macro " + file + "\x00" + p.macros.sources[file] + "\x00")
		texts = append(texts, p.macros.sources[file])
	}
	vars := maps.Clone(m.varsRead)
	envs := maps.Clone(m.envsRead)
	if vars == nil {
		vars = map[string]bool{}
	}
	if envs == nil {
		envs = map[string]bool{}
	}
	for _, t := range texts {
		for _, mm := range varCallRe.FindAllStringSubmatch(t, -1) {
			vars[mm[1]] = true
		}
		for _, mm := range envCallRe.FindAllStringSubmatch(t, -1) {
			envs[mm[1]] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		v, _ := json.Marshal(p.Vars[name])
		b.WriteString("var " + name + "=" + string(v) + "\x00")
	}
	env := p.renderEnv().env
	for _, name := range slices.Sorted(maps.Keys(envs)) {
		v, ok := env(name)
		if !ok {
			v = "\x01unset"
		}
		b.WriteString("env " + name + "=" + v + "\x00")
	}
	return []byte(b.String())
}

// macrosUsed lists the macro files a text calls into, transitively, sorted.
func (p *Project) macrosUsed(text string) []string {
	if p.macros == nil {
		return nil
	}
	seen := map[string]bool{}
	queue := []string{text}
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		for name, file := range p.macros.names {
			if seen[file] || !strings.Contains(t, name) || !callsMacro(t, name) {
				continue
			}
			seen[file] = true
			queue = append(queue, p.macros.sources[file])
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// callsMacro reports whether text names macro as a word followed by "(".
func callsMacro(text, name string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], name)
		if j < 0 {
			return false
		}
		j += i
		i = j + len(name)
		if j > 0 && isIdent(text[j-1]) {
			continue
		}
		if k := skipSpace(text, i); k < len(text) && text[k] == '(' {
			return true
		}
	}
}
