package models

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// The list, dict and string methods of dbtEnvironment: Python's, working in place on a
// list a set boxed and on a dict itself, and giving plain Go strings.

// boxedList is the slice a value holds behind a pointer, if it does.
func boxedList(v *exec.Value) (reflect.Value, bool) {
	if v.Val.IsValid() && v.Val.Kind() == reflect.Pointer && v.Val.Elem().Kind() == reflect.Slice {
		return v.Val.Elem(), true
	}
	return reflect.Value{}, false
}

// item is x as an element of a slice of type t.
func item(t reflect.Type, x *exec.Value) reflect.Value {
	if reflect.TypeOf(x).AssignableTo(t.Elem()) {
		return reflect.ValueOf(x)
	}
	if i := x.Interface(); i != nil && reflect.TypeOf(i).AssignableTo(t.Elem()) {
		return reflect.ValueOf(i)
	}
	return reflect.Zero(t.Elem())
}

// listMethods are gonja's list methods, with the changing ones working in place on a
// boxed list, and Python's extend, insert, pop, remove, index and count.
func listMethods(base *exec.MethodSet[[]any]) *exec.MethodSet[[]any] {
	methods := map[string]exec.Method[[]any]{}
	builtinReverse, _ := base.Get("reverse")
	methods["reverse"] = func(self []any, v *exec.Value, args *exec.VarArgs) (any, error) {
		if _, ok := boxedList(v); !ok {
			return builtinReverse(self, v, args)
		}
		out := make([]any, len(self))
		for i, x := range self {
			out[len(self)-1-i] = x
		}
		setList(v, out)
		return nil, nil
	}
	methods["sort"] = func(self []any, v *exec.Value, args *exec.VarArgs) (any, error) {
		out := append([]any{}, self...)
		desc := false
		if r, ok := args.KwArgs["reverse"]; ok {
			desc = r.IsTrue()
		}
		sort.SliceStable(out, func(i, j int) bool {
			a, b := exec.AsValue(out[i]), exec.AsValue(out[j])
			var less bool
			if a.IsNumber() && b.IsNumber() {
				less = a.Float() < b.Float()
			} else {
				less = a.String() < b.String()
			}
			if desc {
				return !less && a.String() != b.String()
			}
			return less
		})
		setList(v, out)
		return nil, nil
	}
	if m, ok := base.Get("copy"); ok {
		methods["copy"] = m
	}
	builtinAppend, _ := base.Get("append")
	methods["append"] = func(self []any, v *exec.Value, args *exec.VarArgs) (any, error) {
		list, ok := boxedList(v)
		if !ok {
			return builtinAppend(self, v, args)
		}
		if len(args.Args) != 1 {
			return nil, exec.ErrInvalidCall(fmt.Errorf("append() takes exactly one argument"))
		}
		list.Set(reflect.Append(list, item(list.Type(), args.Args[0])))
		return nil, nil
	}
	methods["extend"] = func(self []any, v *exec.Value, args *exec.VarArgs) (any, error) {
		if len(args.Args) != 1 {
			return nil, exec.ErrInvalidCall(fmt.Errorf("extend() takes exactly one argument"))
		}
		var more []*exec.Value
		args.Args[0].Iterate(func(_, _ int, k, _ *exec.Value) bool { more = append(more, k); return true }, func() {})
		if list, ok := boxedList(v); ok {
			for _, x := range more {
				list.Set(reflect.Append(list, item(list.Type(), x)))
			}
			return nil, nil
		}
		out := append([]any{}, self...)
		for _, x := range more {
			out = append(out, x.Interface())
		}
		*v = *exec.AsValue(out)
		return nil, nil
	}
	methods["insert"] = func(self []any, v *exec.Value, args *exec.VarArgs) (any, error) {
		if len(args.Args) != 2 || !args.Args[0].IsInteger() {
			return nil, exec.ErrInvalidCall(fmt.Errorf("insert() takes an index and a value"))
		}
		i := min(max(args.Args[0].Integer(), 0), len(self))
		out := append(append(append([]any{}, self[:i]...), args.Args[1].Interface()), self[i:]...)
		setList(v, out)
		return nil, nil
	}
	methods["pop"] = func(self []any, v *exec.Value, args *exec.VarArgs) (any, error) {
		if len(self) == 0 {
			return nil, fmt.Errorf("pop from an empty list")
		}
		i := len(self) - 1
		if len(args.Args) == 1 && args.Args[0].IsInteger() {
			i = args.Args[0].Integer()
			if i < 0 {
				i += len(self)
			}
		}
		if i < 0 || i >= len(self) {
			return nil, fmt.Errorf("pop index out of range")
		}
		x := self[i]
		setList(v, append(append([]any{}, self[:i]...), self[i+1:]...))
		return x, nil
	}
	methods["remove"] = func(self []any, v *exec.Value, args *exec.VarArgs) (any, error) {
		if len(args.Args) != 1 {
			return nil, exec.ErrInvalidCall(fmt.Errorf("remove() takes exactly one argument"))
		}
		for i, x := range self {
			if exec.AsValue(x).EqualValueTo(args.Args[0]) {
				setList(v, append(append([]any{}, self[:i]...), self[i+1:]...))
				return nil, nil
			}
		}
		return nil, fmt.Errorf("list.remove(x): x not in list")
	}
	// an agate table's columns: columns.items() gives (name, column) pairs
	methods["items"] = func(self []any, _ *exec.Value, _ *exec.VarArgs) (any, error) {
		out := make([]any, 0, len(self))
		for _, x := range self {
			col, ok := x.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("items() is for dicts, and an agate table's columns")
			}
			out = append(out, []any{col["name"], col})
		}
		return out, nil
	}
	methods["index"] = func(self []any, _ *exec.Value, args *exec.VarArgs) (any, error) {
		for i, x := range self {
			if len(args.Args) == 1 && exec.AsValue(x).EqualValueTo(args.Args[0]) {
				return i, nil
			}
		}
		return nil, fmt.Errorf("list.index(x): x not in list")
	}
	methods["count"] = func(self []any, _ *exec.Value, args *exec.VarArgs) (any, error) {
		n := 0
		for _, x := range self {
			if len(args.Args) == 1 && exec.AsValue(x).EqualValueTo(args.Args[0]) {
				n++
			}
		}
		return n, nil
	}
	return exec.NewMethodSet(methods)
}

// setList replaces a list's items: in place when it is boxed.
func setList(v *exec.Value, items []any) {
	if list, ok := boxedList(v); ok {
		out := reflect.MakeSlice(list.Type(), 0, len(items))
		for _, x := range items {
			out = reflect.Append(out, item(list.Type(), exec.AsValue(x)))
		}
		list.Set(out)
		return
	}
	*v = *exec.AsValue(items)
}

// dictMethods are gonja's dict methods, run on the dict itself rather than on a copy:
// a Go map is shared, so its changes are seen wherever it was set.
func dictMethods(base *exec.MethodSet[map[string]any]) *exec.MethodSet[map[string]any] {
	methods := map[string]exec.Method[map[string]any]{}
	for _, name := range []string{"keys", "values", "items", "get", "pop", "setdefault", "update", "copy", "clear"} {
		m, ok := base.Get(name)
		if !ok {
			continue
		}
		name := name
		methods[name] = func(self map[string]any, v *exec.Value, args *exec.VarArgs) (any, error) {
			if d, ok := v.Interface().(*exec.Dict); ok && d != nil {
				if out, done, err := dictInPlace(d, name, args); done {
					return out, err
				}
			}
			rv := v.Val
			for rv.IsValid() && rv.Kind() == reflect.Pointer {
				rv = rv.Elem()
			}
			if rv.IsValid() && rv.Kind() == reflect.Map {
				if orig, ok := rv.Interface().(map[string]any); ok {
					return m(orig, v, args)
				}
			}
			return m(self, v, args)
		}
	}
	return exec.NewMethodSet(methods)
}

// dictInPlace runs a changing method on a dict literal's value itself.
func dictInPlace(d *exec.Dict, name string, args *exec.VarArgs) (any, bool, error) {
	set := func(k, v *exec.Value) {
		for _, p := range d.Pairs {
			if p.Key.String() == k.String() {
				p.Value = v
				return
			}
		}
		d.Pairs = append(d.Pairs, &exec.Pair{Key: k, Value: v})
	}
	switch name {
	case "update":
		for _, a := range args.Args {
			a.Iterate(func(_, _ int, k, v *exec.Value) bool { set(k, v); return true }, func() {})
		}
		for k, v := range args.KwArgs {
			set(exec.AsValue(k), v)
		}
		return nil, true, nil
	case "setdefault":
		if len(args.Args) == 0 {
			return nil, true, fmt.Errorf("setdefault() needs a key")
		}
		if got := d.Get(args.Args[0]); got != nil {
			return got.Interface(), true, nil
		}
		def := exec.AsValue(nil)
		if len(args.Args) > 1 {
			def = args.Args[1]
		}
		set(args.Args[0], def)
		return def.Interface(), true, nil
	case "pop":
		if len(args.Args) == 0 {
			return nil, true, fmt.Errorf("pop() needs a key")
		}
		for i, p := range d.Pairs {
			if p.Key.String() == args.Args[0].String() {
				d.Pairs = append(d.Pairs[:i:i], d.Pairs[i+1:]...)
				return p.Value.Interface(), true, nil
			}
		}
		if len(args.Args) > 1 {
			return args.Args[1].Interface(), true, nil
		}
		return nil, true, fmt.Errorf("pop(%s): no such key", args.Args[0].String())
	case "clear":
		d.Pairs = d.Pairs[:0]
		return nil, true, nil
	}
	return nil, false, nil
}

// strMethodNames are gonja's string methods (Python's).
var strMethodNames = strings.Fields(`capitalize capwords casefold center count encode endswith expandtabs find format
	format_map isalnum isalpha isascii isdecimal isdigit islower isnumeric isprintable isspace istitle isupper join ljust
	lower lstrip partition removeprefix removesuffix replace rfind rjust rpartition rsplit rstrip split splitlines
	startswith strip swapcase title upper zfill`)

// strMethods are gonja's string methods giving plain Go strings (and lists of them):
// gonja's own string type is refused by every Go function taking a string
// (exceptions.raise_compiler_error(msg.format(…)) failed).
func strMethods(base *exec.MethodSet[string]) *exec.MethodSet[string] {
	methods := map[string]exec.Method[string]{}
	for _, name := range strMethodNames {
		m, ok := base.Get(name)
		if !ok {
			continue
		}
		methods[name] = func(self string, v *exec.Value, args *exec.VarArgs) (any, error) {
			out, err := m(self, v, args)
			return plainStrings(out), err
		}
	}
	return exec.NewMethodSet(methods)
}

// plainStrings turns a string-kind value (gonja's PyString) into a string, and a list of
// them into a list of strings.
func plainStrings(x any) any {
	if x == nil {
		return nil
	}
	rv := reflect.ValueOf(x)
	switch {
	case rv.Kind() == reflect.String && rv.Type() != reflect.TypeFor[string]():
		return rv.String()
	case rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.String && rv.Type().Elem() != reflect.TypeFor[string]():
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).String()
		}
		return out
	}
	return x
}
