// Package openapitest checks Go types and HTTP traffic against paymentctl's
// OpenAPI document (package openapi), for tests: CheckType compares a
// schema with the Go type it describes, by reflection over json tags;
// CheckRequest and CheckResponse validate a request or an answer, bodies
// decrypted, against the operation the document gives for its method and
// path; Transport does both for every call of an http.Client.
//
// Schemas are validated as JSON Schema 2020-12, the dialect of OpenAPI 3.1,
// with github.com/santhosh-tekuri/jsonschema/v6, formats (uuid, date-time)
// asserted. The package is imported by tests only, so the binary does not
// carry the validator.
package openapitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/paymentctl/paymentctl/openapi"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// docURL is the name the document is known by to the schema compiler.
const docURL = "mem:///openapi.json"

// methods are the operations a path item can hold, in the document's key
// spelling.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Spec is a parsed OpenAPI document. It is safe for concurrent use.
type Spec struct {
	root  map[string]any
	paths []pathTemplate

	mu       sync.Mutex
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema // by JSON pointer
}

// pathTemplate is one entry of the document's paths.
type pathTemplate struct {
	template string
	segments []string // "{id}" for a parameter
	literals int
	item     map[string]any
}

// Load parses the document of package openapi.
func Load() (*Spec, error) { return Parse(openapi.Document()) }

// Parse parses an OpenAPI 3.1 document given as JSON.
func Parse(doc []byte) (*Spec, error) {
	var root map[string]any
	if err := json.Unmarshal(doc, &root); err != nil {
		return nil, fmt.Errorf("parse the OpenAPI document: %w", err)
	}
	if v, _ := root["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		return nil, fmt.Errorf("the document is OpenAPI %q, not 3.1.x", v)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("parse the OpenAPI document: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, inst); err != nil {
		return nil, err
	}
	s := &Spec{root: root, compiler: c, schemas: map[string]*jsonschema.Schema{}}
	paths, _ := root["paths"].(map[string]any)
	for tmpl, v := range paths {
		item, _ := v.(map[string]any)
		pt := pathTemplate{template: tmpl, segments: strings.Split(strings.Trim(tmpl, "/"), "/"), item: item}
		for _, seg := range pt.segments {
			if !strings.HasPrefix(seg, "{") {
				pt.literals++
			}
		}
		s.paths = append(s.paths, pt)
	}
	// Concrete paths are matched before templated ones (OpenAPI 3.1,
	// "Paths Object"), as gin does.
	sort.Slice(s.paths, func(i, j int) bool {
		if s.paths[i].literals != s.paths[j].literals {
			return s.paths[i].literals > s.paths[j].literals
		}
		return s.paths[i].template < s.paths[j].template
	})
	return s, nil
}

// Operations returns every operation of the document as "METHOD /path"
// with the document's path templates ("PATCH /payments/histories/{id}"),
// sorted by path, then method.
func (s *Spec) Operations() []string {
	var out []string
	for _, p := range s.paths {
		for _, m := range methods {
			if _, ok := p.item[m]; ok {
				out = append(out, strings.ToUpper(m)+" "+p.template)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		mi, pi, _ := strings.Cut(out[i], " ")
		mj, pj, _ := strings.Cut(out[j], " ")
		if pi != pj {
			return pi < pj
		}
		return mi < mj
	})
	return out
}

// SchemaNames returns the names of components.schemas, sorted.
func (s *Spec) SchemaNames() []string {
	var out []string
	for name := range s.object("components", "schemas") {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// operation is an operation found for a request.
type operation struct {
	key string // "PATCH /payments/histories/{id}"
	ptr string // JSON pointer of the operation object
	op  map[string]any
}

// errNoPath and errNoMethod say no operation matches a request.
var (
	errNoPath   = errors.New("no path of the document matches")
	errNoMethod = errors.New("the path is documented, the method is not")
)

// find returns the operation for method and path, matched as gin matches
// routes: per method, literal segments before parameters.
func (s *Spec) find(method, path string) (operation, error) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	m := strings.ToLower(method)
	pathFound := false
	for _, p := range s.paths {
		if !p.matches(segs) {
			continue
		}
		pathFound = true
		if op, ok := p.item[m].(map[string]any); ok {
			return operation{
				key: strings.ToUpper(m) + " " + p.template,
				ptr: "/paths/" + escape(p.template) + "/" + m,
				op:  op,
			}, nil
		}
	}
	if pathFound {
		return operation{}, errNoMethod
	}
	return operation{}, errNoPath
}

// matches reports whether the request path segments fit the template.
func (p pathTemplate) matches(segs []string) bool {
	if len(segs) != len(p.segments) {
		return false
	}
	for i, seg := range p.segments {
		if strings.HasPrefix(seg, "{") {
			if segs[i] == "" {
				return false
			}
			continue
		}
		if seg != segs[i] {
			return false
		}
	}
	return true
}

// Keys decrypts the bodies of the encrypted media types, named by their
// x-paymentctl-encryption extension.
type Keys struct {
	cbc *wirecrypt.Cipher
	gcm *wirecrypt.GCM
}

// NewKeys returns the Keys of a connection key and IV
// (PAYMENT_CONNECTION_ENCRYPTION_KEY and _IV).
func NewKeys(key, iv string) (*Keys, error) {
	cbc, err := wirecrypt.New(key, iv)
	if err != nil {
		return nil, err
	}
	gcm, err := wirecrypt.NewGCM(key)
	if err != nil {
		return nil, err
	}
	return &Keys{cbc: cbc, gcm: gcm}, nil
}

// open decrypts body, sent in direction d, in the format the document
// calls encryption.
func (k *Keys) open(encryption string, d wirecrypt.Direction, body []byte) ([]byte, error) {
	if k == nil {
		return nil, fmt.Errorf("no keys to decrypt an %s body", encryption)
	}
	switch encryption {
	case "aes-cbc":
		return k.cbc.Decrypt(body)
	case "aes-256-gcm":
		return k.gcm.Decrypt(body, d)
	}
	return nil, fmt.Errorf("unknown x-paymentctl-encryption %q", encryption)
}

// CheckResponse validates an answer to method and path: its status must
// be documented for the operation (an undocumented path only 404, a known
// path with another method only 405, both as Error), and its body, once
// decrypted with keys, must match the documented media type and schema.
// It returns the operation's key ("PATCH /payments/histories/{id}") when
// one matched.
func (s *Spec) CheckResponse(method, path string, status int, header http.Header, body []byte, keys *Keys) (string, error) {
	op, err := s.find(method, path)
	if err != nil {
		want := http.StatusNotFound
		if errors.Is(err, errNoMethod) {
			want = http.StatusMethodNotAllowed
		}
		if status != want {
			return "", fmt.Errorf("%s %s answered %d: %w", method, path, status, err)
		}
		return "", s.checkBody("/components/schemas/Error", "", body)
	}
	resp, ptr, err := s.response(op, status)
	if err != nil {
		return op.key, err
	}
	if err := s.checkContent(resp, ptr, header.Get("Content-Type"), body, keys, wirecrypt.Response); err != nil {
		return op.key, fmt.Errorf("%s answered %d: %w", op.key, status, err)
	}
	return op.key, nil
}

// CheckRequest validates a request to method and path: its body, once
// decrypted with keys, must match the operation's request body. Call it
// for requests the server accepted: a test may send a bad request on
// purpose.
func (s *Spec) CheckRequest(method, path string, header http.Header, body []byte, keys *Keys) error {
	op, err := s.find(method, path)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	rb, ok := op.op["requestBody"].(map[string]any)
	ptr := op.ptr + "/requestBody"
	if !ok {
		if len(body) > 0 {
			return fmt.Errorf("%s has a body, the document describes none", op.key)
		}
		return nil
	}
	rb, ptr = s.resolve(rb, ptr)
	if len(body) == 0 {
		if req, _ := rb["required"].(bool); req {
			return fmt.Errorf("%s has no body, the document requires one", op.key)
		}
		return nil
	}
	if err := s.checkContent(rb, ptr, header.Get("Content-Type"), body, keys, wirecrypt.Request); err != nil {
		return fmt.Errorf("request of %s: %w", op.key, err)
	}
	return nil
}

// CheckWebhook validates a request paymentctl sent as the webhook name of
// the document's webhooks (e.g. "paymentEvent"): its required headers and
// its body, decrypted with keys.
func (s *Spec) CheckWebhook(name string, header http.Header, body []byte, keys *Keys) error {
	hook, ok := s.object("webhooks", name)["post"].(map[string]any)
	if !ok {
		return fmt.Errorf("the document has no POST webhook %q", name)
	}
	ptr := "/webhooks/" + escape(name) + "/post"
	params, _ := hook["parameters"].([]any)
	for _, p := range params {
		pm, _ := p.(map[string]any)
		if pm["in"] != "header" {
			continue
		}
		pname, _ := pm["name"].(string)
		if req, _ := pm["required"].(bool); req && header.Get(pname) == "" {
			return fmt.Errorf("webhook %s without its required header %s", name, pname)
		}
	}
	rb, _ := hook["requestBody"].(map[string]any)
	if err := s.checkContent(rb, ptr+"/requestBody", header.Get("Content-Type"), body, keys, wirecrypt.Request); err != nil {
		return fmt.Errorf("webhook %s: %w", name, err)
	}
	return nil
}

// response returns the response object documented for status: the exact
// code, else its range ("4XX"), else "default".
func (s *Spec) response(op operation, status int) (map[string]any, string, error) {
	responses, _ := op.op["responses"].(map[string]any)
	code := strconv.Itoa(status)
	for _, k := range []string{code, code[:1] + "XX", "default"} {
		if r, ok := responses[k].(map[string]any); ok {
			r, ptr := s.resolve(r, op.ptr+"/responses/"+k)
			return r, ptr, nil
		}
	}
	return nil, "", fmt.Errorf("%s answered %d, which the document does not list", op.key, status)
}

// checkContent validates body against the content of a request body or
// response object obj found at ptr.
func (s *Spec) checkContent(obj map[string]any, ptr, contentType string, body []byte, keys *Keys, d wirecrypt.Direction) error {
	content, _ := obj["content"].(map[string]any)
	if len(content) == 0 {
		if len(body) > 0 {
			return fmt.Errorf("a %d-byte body where the document describes none", len(body))
		}
		return nil
	}
	if len(body) == 0 {
		for _, mt := range content {
			if m, _ := mt.(map[string]any); m["schema"] != nil {
				return errors.New("no body where the document describes one")
			}
		}
		return nil // the bodies documented are informational
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	key, media := matchMedia(content, mt)
	if media == nil {
		return fmt.Errorf("content type %s is not documented", mt)
	}
	if media["schema"] == nil {
		return nil
	}
	if enc, ok := media["x-paymentctl-encryption"].(string); ok {
		plain, err := keys.open(enc, d, body)
		if err != nil {
			return fmt.Errorf("%s body: %w", enc, err)
		}
		// The plaintext of an encrypted body is JSON, whatever the wire
		// type.
		body, mt = plain, "application/json"
	}
	return s.checkBody(ptr+"/content/"+escape(key)+"/schema", mt, body)
}

// matchMedia returns the content entry for media type mt: exact, then
// "type/*", then "*/*".
func matchMedia(content map[string]any, mt string) (string, map[string]any) {
	major, _, _ := strings.Cut(mt, "/")
	for _, k := range []string{mt, major + "/*", "*/*"} {
		if m, ok := content[k].(map[string]any); ok {
			return k, m
		}
	}
	return "", nil
}

// checkBody validates a body against the schema at the JSON pointer ptr:
// JSON as it is, a form-encoded one as an object of its fields, a plain
// text one (the probes') as one string.
func (s *Spec) checkBody(ptr, mt string, body []byte) error {
	var inst any
	switch mt {
	case "text/plain":
		inst = string(body)
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return err
		}
		obj := map[string]any{}
		for k := range vals {
			obj[k] = vals.Get(k)
		}
		inst = obj
	default:
		var err error
		if inst, err = jsonschema.UnmarshalJSON(bytes.NewReader(body)); err != nil {
			return fmt.Errorf("body is not JSON: %w", err)
		}
	}
	sch, err := s.schema(ptr)
	if err != nil {
		return err
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("body does not match %s: %w", ptr, err)
	}
	return nil
}

// schema compiles (once) the schema at the JSON pointer ptr.
func (s *Spec) schema(ptr string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.schemas[ptr]; ok {
		return sch, nil
	}
	sch, err := s.compiler.Compile(docURL + "#" + ptr)
	if err != nil {
		return nil, fmt.Errorf("compile the schema at %s: %w", ptr, err)
	}
	s.schemas[ptr] = sch
	return sch, nil
}

// CompileAll compiles every schema of components.schemas and every schema
// of a request body, response and webhook, and returns the first error.
func (s *Spec) CompileAll() error {
	var errs []error
	for _, name := range s.SchemaNames() {
		if _, err := s.schema("/components/schemas/" + escape(name)); err != nil {
			errs = append(errs, err)
		}
	}
	walk(s.root, "", func(ptr string, obj map[string]any) {
		if strings.HasSuffix(ptr, "/schema") && !strings.HasPrefix(ptr, "/components/schemas/") {
			if _, err := s.schema(ptr); err != nil {
				errs = append(errs, err)
			}
		}
	})
	return errors.Join(errs...)
}

// Refs returns every $ref of the document that does not resolve.
func (s *Spec) Refs() (broken []string) {
	walk(s.root, "", func(ptr string, obj map[string]any) {
		ref, ok := obj["$ref"].(string)
		if !ok {
			return
		}
		if _, ok := s.pointer(strings.TrimPrefix(ref, "#")); !ok || !strings.HasPrefix(ref, "#/") {
			broken = append(broken, ptr+": "+ref)
		}
	})
	sort.Strings(broken)
	return broken
}

// walk calls fn on every object of v, depth first, with its JSON pointer.
func walk(v any, ptr string, fn func(ptr string, obj map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(ptr, x)
		for k, child := range x {
			walk(child, ptr+"/"+escape(k), fn)
		}
	case []any:
		for i, child := range x {
			walk(child, ptr+"/"+strconv.Itoa(i), fn)
		}
	}
}

// resolve follows a $ref of a response, request body or parameter object.
func (s *Spec) resolve(obj map[string]any, ptr string) (map[string]any, string) {
	for range 8 {
		ref, ok := obj["$ref"].(string)
		if !ok {
			return obj, ptr
		}
		target, ok := s.pointer(strings.TrimPrefix(ref, "#"))
		next, isObj := target.(map[string]any)
		if !ok || !isObj {
			return obj, ptr
		}
		obj, ptr = next, strings.TrimPrefix(ref, "#")
	}
	return obj, ptr
}

// pointer returns the value at the JSON pointer ptr.
func (s *Spec) pointer(ptr string) (any, bool) {
	var cur any = s.root
	if ptr == "" {
		return cur, true
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// object returns the object at the path of keys, or nil.
func (s *Spec) object(keys ...string) map[string]any {
	var cur any = s.root
	for _, k := range keys {
		m, _ := cur.(map[string]any)
		cur = m[k]
	}
	m, _ := cur.(map[string]any)
	return m
}

// escape escapes a key for a JSON pointer (RFC 6901).
func escape(key string) string {
	return strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")
}

// Raw returns the document as decoded JSON, for checks of its own; it
// must not be changed.
func (s *Spec) Raw() map[string]any { return s.root }
