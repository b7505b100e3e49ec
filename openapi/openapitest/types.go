package openapitest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Direction says who sends the values of a type, which decides what
// "required" must say.
type Direction int

// The directions of CheckType.
const (
	// Sent means the server sends the type: every field without omitempty
	// is always present, so the schema must require it.
	Sent Direction = iota
	// Received means the server receives the type: the fields the schema
	// requires must exist, the server decides which it needs.
	Received
)

// CheckType compares the schema components.schemas[name] with the Go type
// t as encoding/json writes it: the same property names (json tags,
// embedded structs flattened), the same JSON types, null allowed exactly
// where the Go type is a pointer (or a slice or map), time.Time as a
// date-time string, and "required" as dir says; nested structs, slices and
// maps are compared in depth. Properties listed in opaque (dotted paths
// such as "data") are compared by name only. It returns one line per
// difference.
func (s *Spec) CheckType(name string, t reflect.Type, dir Direction, opaque ...string) []string {
	ptr := "/components/schemas/" + escape(name)
	schema, ok := s.object("components", "schemas")[name].(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("the document has no schema %s for Go type %s", name, t)}
	}
	c := typeCheck{s: s, dir: dir, opaque: opaque}
	c.compare(t, schema, ptr, name)
	return c.problems
}

// typeCheck collects the differences of one CheckType.
type typeCheck struct {
	s        *Spec
	dir      Direction
	opaque   []string
	problems []string
}

func (c *typeCheck) addf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// compare compares t with schema (at ptr), path naming the place for
// messages ("History.cancels[]").
func (c *typeCheck) compare(t reflect.Type, schema map[string]any, ptr, path string) {
	schema, ptr = c.s.resolve(schema, ptr)
	nullable := false
	if t.Kind() == reflect.Pointer {
		nullable = true
		t = t.Elem()
	}
	types, branches := schemaTypes(c.s, schema)
	allowsNull := slices.Contains(types, "null")
	switch {
	case nullable && !allowsNull:
		c.addf("%s: may be null in the code (%s), not in the document", path, t)
	case !nullable && allowsNull && t.Kind() != reflect.Slice && t.Kind() != reflect.Map && t != rawType:
		c.addf("%s: never null in the code (%s), the document allows null", path, t)
	}
	if t == rawType || t.Kind() == reflect.Interface {
		return // any JSON
	}
	if len(branches) == 1 {
		schema, ptr = c.s.resolve(branches[0], ptr)
		types, _ = schemaTypes(c.s, schema)
	}
	want := jsonType(t)
	if want == "integer" && slices.Contains(types, "number") {
		want = "number" // a JSON Schema number includes the integers
	}
	if len(types) > 0 && !slices.Contains(types, want) {
		c.addf("%s: JSON %s in the code (%s), the document says %v", path, want, t, types)
		return
	}
	switch {
	case t == timeType:
		if f, _ := schema["format"].(string); f != "date-time" {
			c.addf("%s: a time in the code, the document's format is %q, not date-time", path, f)
		}
	case t.Kind() == reflect.Struct:
		c.compareStruct(t, schema, ptr, path)
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		if items, ok := schema["items"].(map[string]any); ok {
			c.compare(t.Elem(), items, ptr+"/items", path+"[]")
		} else {
			c.addf("%s: an array without items in the document", path)
		}
	case t.Kind() == reflect.Map:
		if items, ok := schema["additionalProperties"].(map[string]any); ok {
			c.compare(t.Elem(), items, ptr+"/additionalProperties", path+"{}")
		} else {
			c.addf("%s: a map in the code, the document gives no additionalProperties", path)
		}
	}
}

// compareStruct compares the fields of a struct with the properties and
// required list of schema.
func (c *typeCheck) compareStruct(t reflect.Type, schema map[string]any, ptr, path string) {
	props, _ := schema["properties"].(map[string]any)
	required := map[string]bool{}
	for _, r := range asSlice(schema["required"]) {
		if name, ok := r.(string); ok {
			required[name] = true
		}
	}
	fields := jsonFields(t)
	for _, f := range fields {
		p, ok := props[f.name].(map[string]any)
		if !ok {
			c.addf("%s.%s: in the code (%s), missing from the document", path, f.name, f.typ)
			continue
		}
		if c.dir == Sent && !f.omitEmpty && !required[f.name] {
			c.addf("%s.%s: always sent, the document does not require it", path, f.name)
		}
		if slices.Contains(c.opaque, strings.TrimPrefix(path+"."+f.name, rootName(path)+".")) {
			continue
		}
		c.compare(f.typ, p, ptr+"/properties/"+escape(f.name), path+"."+f.name)
	}
	for name := range props {
		if !slices.ContainsFunc(fields, func(f field) bool { return f.name == name }) {
			c.addf("%s.%s: in the document, not in the code (%s)", path, name, t)
		}
	}
	for name := range required {
		if !slices.ContainsFunc(fields, func(f field) bool { return f.name == name }) {
			c.addf("%s: the document requires %s, which the code does not have", path, name)
		}
	}
}

// rootName is the schema name a path starts with.
func rootName(path string) string {
	name, _, _ := strings.Cut(path, ".")
	return name
}

// field is a struct field as encoding/json sees it.
type field struct {
	name      string
	typ       reflect.Type
	omitEmpty bool
}

// jsonFields returns the JSON fields of struct type t, embedded structs
// without a tag flattened, as encoding/json does.
func jsonFields(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, jsonFields(ft)...)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, field{name: name, typ: f.Type, omitEmpty: slices.Contains(strings.Split(opts, ","), "omitempty")})
	}
	return out
}

// jsonType is the JSON type encoding/json writes for t.
func jsonType(t reflect.Type) string {
	switch {
	case t == timeType:
		return "string"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return "string"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "object" // struct, map
}

// schemaTypes returns the JSON types schema allows, from type, const or
// enum ("null" included when a oneOf/anyOf branch is {"type": "null"}),
// and the branches of a oneOf/anyOf other than null. No types means the
// schema does not say.
func schemaTypes(s *Spec, schema map[string]any) (types []string, branches []map[string]any) {
	switch t := schema["type"].(type) {
	case string:
		types = append(types, t)
	case []any:
		for _, v := range t {
			if name, ok := v.(string); ok {
				types = append(types, name)
			}
		}
	}
	if v, ok := schema["const"]; ok && len(types) == 0 {
		types = append(types, valueType(v))
	}
	if len(types) == 0 {
		for _, v := range asSlice(schema["enum"]) {
			if vt := valueType(v); !slices.Contains(types, vt) {
				types = append(types, vt)
			}
		}
	}
	for _, key := range []string{"oneOf", "anyOf"} {
		for _, b := range asSlice(schema[key]) {
			bm, _ := b.(map[string]any)
			bm, _ = s.resolve(bm, "")
			if bm["type"] == "null" {
				types = append(types, "null")
				continue
			}
			branches = append(branches, bm)
		}
	}
	if len(types) == 1 && types[0] == "null" && len(branches) > 0 {
		// {"oneOf": [X, {"type": "null"}]}: X says the rest.
		bt, _ := schemaTypes(s, branches[0])
		types = append(types, bt...)
	}
	return types, branches
}

// valueType is the JSON type of a decoded JSON value.
func valueType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case []any:
		return "array"
	}
	return "object"
}

// asSlice returns v as a JSON array, or nil.
func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
