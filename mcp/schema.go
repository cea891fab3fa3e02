package mcp

import (
	"reflect"

	"github.com/google/jsonschema-go/jsonschema"
)

// outputSchema is the schema of a tool's answer, inferred from its Go type and made
// portable: every list and map in an answer is filled in (never null: see fillNil), so
// its type is the one JSON type, not ["null", "array"], which clients that map schemas
// onto a single-type dialect reject; and a free value lists the JSON types it may have, not a bare `true`.
func outputSchema[T any]() (*jsonschema.Schema, error) {
	s, err := jsonschema.For[T](nil)
	if err != nil {
		return nil, err
	}
	portable(s)
	return s, nil
}

func portable(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	if len(s.Types) > 0 {
		var keep []string
		for _, t := range s.Types {
			if t != "null" {
				keep = append(keep, t)
			}
		}
		if len(keep) == 1 {
			s.Type, s.Types = keep[0], nil
		} else {
			s.Types = keep
		}
	}
	if reflect.ValueOf(*s).IsZero() {
		// a free value (a query's cell, a config value): each JSON type, spelled out
		for _, t := range []string{"string", "number", "boolean", "object", "array", "null"} {
			s.AnyOf = append(s.AnyOf, &jsonschema.Schema{Type: t})
		}
		return
	}
	for _, c := range s.Properties {
		portable(c)
	}
	for _, c := range s.Defs {
		portable(c)
	}
	for _, c := range append(append(append(s.PrefixItems, s.AnyOf...), s.OneOf...), s.AllOf...) {
		portable(c)
	}
	portable(s.Items)
	portable(s.AdditionalProperties)
}

// fillNil replaces every nil slice and map reachable from v with an empty one, so an
// answer never says null where its schema says a list.
func fillNil(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			fillNil(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				fillNil(f)
			}
		}
	case reflect.Slice:
		if v.IsNil() {
			if v.CanSet() {
				v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			}
			return
		}
		for i := range v.Len() {
			fillNil(v.Index(i))
		}
	case reflect.Map:
		if v.IsNil() && v.CanSet() {
			v.Set(reflect.MakeMap(v.Type()))
		}
	}
}
