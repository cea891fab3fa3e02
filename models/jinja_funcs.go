package models

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nikolalohinski/gonja/v2/exec"
	"go.yaml.in/yaml/v3"
)

// dbt's context functions beyond ref, source, config and var: what dbt-core gives every
// template (tojson, fromyaml, as_bool, zip, set, modules, print, …), and the node a
// template renders for (model, with resource_type, fqn, config, package_name, …).

// dbtFunctions are set on every render's base context.
func dbtFunctions(p *Project, started time.Time) map[string]any {
	goValue := func(v *exec.Value) any { return plain(v.ToGoSimpleType(true)) }
	return map[string]any{
		"tojson": func(v *exec.Value) (string, error) {
			b, err := json.Marshal(goValue(v))
			return string(b), err
		},
		"fromjson": func(s string) (any, error) {
			dec := json.NewDecoder(strings.NewReader(s))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				return nil, fmt.Errorf("fromjson: %w", err)
			}
			return jsonNumbers(v), nil
		},
		"toyaml": func(v *exec.Value) (string, error) {
			b, err := yaml.Marshal(goValue(v))
			return string(b), err
		},
		"fromyaml": func(s string) (any, error) {
			var v any
			if err := yaml.Unmarshal([]byte(s), &v); err != nil {
				return nil, fmt.Errorf("fromyaml: %w", err)
			}
			return v, nil
		},
		"as_bool": func(v *exec.Value) (any, error) {
			if v.IsBool() {
				return v.Bool(), nil
			}
			b, err := strconv.ParseBool(strings.TrimSpace(v.String()))
			if err != nil {
				return nil, fmt.Errorf("as_bool: %q is not true or false", v.String())
			}
			return b, nil
		},
		"as_number": func(v *exec.Value) (any, error) {
			if v.IsNumber() {
				return v.Interface(), nil
			}
			s := strings.TrimSpace(v.String())
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return i, nil
			}
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("as_number: %q is not a number", s)
			}
			return f, nil
		},
		"as_native": func(v *exec.Value) any {
			if !v.IsString() {
				return v.Interface()
			}
			var out any
			if err := yaml.Unmarshal([]byte(v.String()), &out); err == nil && out != nil {
				return out
			}
			return v.String()
		},
		"as_text": func(v *exec.Value) string { return v.String() },
		"zip": func(args *exec.VarArgs) []any {
			var lists [][]any
			n := -1
			for _, a := range args.Args {
				var l []any
				a.Iterate(func(_, _ int, k, _ *exec.Value) bool { l = append(l, k.Interface()); return true }, func() {})
				lists = append(lists, l)
				if n < 0 || len(l) < n {
					n = len(l)
				}
			}
			out := make([]any, 0, max(n, 0))
			for i := 0; i < n; i++ {
				row := make([]any, len(lists))
				for j, l := range lists {
					row[j] = l[i]
				}
				out = append(out, row)
			}
			return out
		},
		"set": func(v *exec.Value) []any {
			seen := map[string]bool{}
			out := []any{}
			v.Iterate(func(_, _ int, k, _ *exec.Value) bool {
				if key := k.String(); !seen[key] {
					seen[key] = true
					out = append(out, k.Interface())
				}
				return true
			}, func() {})
			return out
		},
		"print": func(args *exec.VarArgs) string {
			parts := make([]string, len(args.Args))
			for i, a := range args.Args {
				parts[i] = a.String()
			}
			fmt.Fprintln(os.Stderr, strings.Join(parts, " "))
			return ""
		},
		"log": func(args *exec.VarArgs) string {
			if len(args.Args) == 0 {
				return ""
			}
			info := len(args.Args) > 1 && args.Args[1].IsTrue()
			if v, ok := args.KwArgs["info"]; ok {
				info = v.IsTrue()
			}
			if info {
				fmt.Fprintln(os.Stderr, args.Args[0].String())
			}
			return ""
		},
		"run_started_at": pyTime(started),
		"invocation_id":  fmt.Sprintf("%x", started.UnixNano()),
		"modules":        map[string]any{"datetime": pyDatetime(), "re": pyRe(), "itertools": pyItertools(), "pytz": map[string]any{"utc": "UTC", "timezone": func(s string) string { return s }}},
		"api": map[string]any{
			"Column":   map[string]any{"translate_type": func(t string) string { return t }, "create": func(name, dtype string) map[string]any { return column(name, dtype) }},
			"Relation": map[string]any{"create": p.createRelation, "add_ephemeral_prefix": func(s string) string { return "__dbt__cte__" + s }},
		},
	}
}

// createRelation is api.Relation.create(database=, schema=, identifier=, type=).
func (p *Project) createRelation(args *exec.VarArgs) relation {
	get := func(k string) string {
		if v, ok := args.KwArgs[k]; ok && !v.IsNil() {
			return v.String()
		}
		return ""
	}
	schema, ident, kind := get("schema"), get("identifier"), get("type")
	if schema == "" {
		schema = p.Warehouse.Schema
	}
	if kind == "" {
		kind = "table"
	}
	return p.newRelation(schema, ident, kind)
}

// pyTimeValue is a time as a template sees Python's datetime: it renders as one.
type pyTimeValue map[string]any

func (t pyTimeValue) String() string { return fmt.Sprint(t["__str"]) }

// pyTime is a time as a template sees Python's datetime.
func pyTime(t time.Time) pyTimeValue {
	return pyTimeValue{
		"year": t.Year(), "month": int(t.Month()), "day": t.Day(), "hour": t.Hour(), "minute": t.Minute(), "second": t.Second(),
		"strftime":  func(f string) string { return strftime(t, f) },
		"isoformat": func(*exec.VarArgs) string { return t.Format("2006-01-02T15:04:05.000000") },
		"timestamp": func() float64 { return float64(t.UnixNano()) / 1e9 },
		"date":      func() pyTimeValue { return pyTime(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())) },
		"__str":     t.Format("2006-01-02 15:04:05.000000"),
	}
}

func pyDatetime() map[string]any {
	return map[string]any{
		"datetime": map[string]any{
			"now":    func(*exec.VarArgs) pyTimeValue { return pyTime(time.Now()) },
			"utcnow": func() pyTimeValue { return pyTime(time.Now().UTC()) },
			"strptime": func(s, f string) (pyTimeValue, error) {
				t, err := time.Parse(goLayout(f), s)
				if err != nil {
					return nil, fmt.Errorf("strptime(%q, %q): %w", s, f, err)
				}
				return pyTime(t), nil
			},
		},
		"date": map[string]any{"today": func() pyTimeValue {
			n := time.Now()
			return pyTime(time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.Local))
		}},
		"timedelta": func(args *exec.VarArgs) map[string]any {
			var d time.Duration
			for k, v := range args.KwArgs {
				unit := map[string]time.Duration{"days": 24 * time.Hour, "hours": time.Hour, "minutes": time.Minute, "seconds": time.Second, "weeks": 7 * 24 * time.Hour}[k]
				d += time.Duration(v.Float() * float64(unit))
			}
			return map[string]any{"days": int(d / (24 * time.Hour)), "seconds": int((d % (24 * time.Hour)) / time.Second), "total_seconds": func() float64 { return d.Seconds() }}
		},
	}
}

var strftimeCodes = map[byte]string{'Y': "2006", 'm': "01", 'd': "02", 'H': "15", 'M': "04", 'S': "05", 'y': "06", 'b': "Jan", 'B': "January", 'a': "Mon", 'A': "Monday", 'p': "PM", 'f': "000000", 'z': "-0700", 'Z': "MST", 'j': "002"}

// goLayout turns a strftime format into a Go time layout.
func goLayout(f string) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] == '%' && i+1 < len(f) {
			if l, ok := strftimeCodes[f[i+1]]; ok {
				b.WriteString(l)
				i++
				continue
			}
			if f[i+1] == '%' {
				b.WriteByte('%')
				i++
				continue
			}
		}
		b.WriteByte(f[i])
	}
	return b.String()
}

func strftime(t time.Time, f string) string {
	return strings.ReplaceAll(t.Format(strings.ReplaceAll(goLayout(f), ".000000", ",000000")), ",000000", t.Format(".000000")[1:])
}

func pyRe() map[string]any {
	compile := func(p string) (*regexp.Regexp, error) {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("modules.re: %q: %w", p, err)
		}
		return re, nil
	}
	match := func(re *regexp.Regexp, s string, anchored bool) any {
		loc := re.FindStringSubmatchIndex(s)
		if loc == nil || anchored && loc[0] != 0 {
			return nil
		}
		groups := []any{}
		for i := 2; i+1 < len(loc); i += 2 {
			if loc[i] < 0 {
				groups = append(groups, nil)
			} else {
				groups = append(groups, s[loc[i]:loc[i+1]])
			}
		}
		whole := s[loc[0]:loc[1]]
		return map[string]any{"group": func(args *exec.VarArgs) any {
			if len(args.Args) == 0 || args.Args[0].Integer() == 0 {
				return whole
			}
			if i := args.Args[0].Integer(); i <= len(groups) {
				return groups[i-1]
			}
			return nil
		}, "groups": func() []any { return groups }}
	}
	return map[string]any{
		"match": func(p, s string) (any, error) {
			re, err := compile(p)
			if err != nil {
				return nil, err
			}
			return match(re, s, true), nil
		},
		"search": func(p, s string) (any, error) {
			re, err := compile(p)
			if err != nil {
				return nil, err
			}
			return match(re, s, false), nil
		},
		"fullmatch": func(p, s string) (any, error) {
			re, err := compile("^(?:" + p + ")$")
			if err != nil {
				return nil, err
			}
			return match(re, s, true), nil
		},
		"sub": func(p, repl, s string) (string, error) {
			re, err := compile(p)
			if err != nil {
				return "", err
			}
			return re.ReplaceAllString(s, strings.ReplaceAll(repl, `\`, "$")), nil
		},
		"findall": func(p, s string) ([]any, error) {
			re, err := compile(p)
			if err != nil {
				return nil, err
			}
			out := []any{}
			for _, m := range re.FindAllString(s, -1) {
				out = append(out, m)
			}
			return out, nil
		},
		"split": func(p, s string) ([]any, error) {
			re, err := compile(p)
			if err != nil {
				return nil, err
			}
			out := []any{}
			for _, m := range re.Split(s, -1) {
				out = append(out, m)
			}
			return out, nil
		},
		"escape": func(s string) string { return regexp.QuoteMeta(s) },
	}
}

func pyItertools() map[string]any {
	items := func(v *exec.Value) []any {
		var l []any
		v.Iterate(func(_, _ int, k, _ *exec.Value) bool { l = append(l, k.Interface()); return true }, func() {})
		return l
	}
	return map[string]any{
		"chain": func(args *exec.VarArgs) []any {
			out := []any{}
			for _, a := range args.Args {
				out = append(out, items(a)...)
			}
			return out
		},
		"product": func(args *exec.VarArgs) []any {
			out := []any{[]any{}}
			for _, a := range args.Args {
				var next []any
				for _, prefix := range out {
					for _, x := range items(a) {
						next = append(next, append(append([]any{}, prefix.([]any)...), x))
					}
				}
				out = next
			}
			return out
		},
		"combinations": func(v *exec.Value, r int) []any {
			l := items(v)
			var out []any
			var rec func(start int, cur []any)
			rec = func(start int, cur []any) {
				if len(cur) == r {
					out = append(out, append([]any{}, cur...))
					return
				}
				for i := start; i < len(l); i++ {
					rec(i+1, append(cur, l[i]))
				}
			}
			rec(0, nil)
			return out
		},
	}
}

// plain is a template's value as JSON and YAML encode it: string-keyed maps all the way.
func plain(v any) any {
	switch x := v.(type) {
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = plain(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case *exec.Value:
		return plain(x.ToGoSimpleType(true))
	}
	return v
}

// jsonNumbers makes JSON's numbers ints where they are whole, as Python's json does.
func jsonNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = jsonNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = jsonNumbers(e)
		}
	}
	return v
}
