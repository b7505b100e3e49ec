package openapi_test

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/openapi"
	"github.com/paymentctl/paymentctl/openapi/openapitest"
	"github.com/paymentctl/paymentctl/sdk"
)

// TestDocsCopy keeps docs/openapi.json, for readers of the repository,
// identical to the embedded document.
func TestDocsCopy(t *testing.T) {
	docs, err := os.ReadFile(filepath.Join("..", "docs", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(docs, openapi.Document()) {
		t.Errorf("docs/openapi.json differs from openapi/openapi.json (the canonical copy): cp openapi/openapi.json docs/openapi.json")
	}
}

// TestDocumentIsWellFormed checks what a JSON Schema validator does not:
// OpenAPI 3.1, every $ref resolves, every schema compiles as JSON Schema
// 2020-12, operation ids are unique, every operation documents a success
// and declares its path parameters, and tags are declared.
func TestDocumentIsWellFormed(t *testing.T) {
	spec, err := openapitest.Parse(openapi.Document())
	if err != nil {
		t.Fatal(err)
	}
	if broken := spec.Refs(); len(broken) > 0 {
		t.Errorf("$refs that do not resolve:\n%s", strings.Join(broken, "\n"))
	}
	if err := spec.CompileAll(); err != nil {
		t.Errorf("schemas that do not compile: %v", err)
	}
	doc := spec.Raw()
	tags := map[string]bool{}
	for _, tag := range doc["tags"].([]any) {
		tags[tag.(map[string]any)["name"].(string)] = true
	}
	ids := map[string]string{}
	param := regexp.MustCompile(`\{([^}]+)\}`)
	for _, key := range spec.Operations() {
		method, path, _ := strings.Cut(key, " ")
		op := doc["paths"].(map[string]any)[path].(map[string]any)[strings.ToLower(method)].(map[string]any)
		id, _ := op["operationId"].(string)
		if id == "" {
			t.Errorf("%s has no operationId", key)
		} else if other, dup := ids[id]; dup {
			t.Errorf("%s and %s share the operationId %s", key, other, id)
		}
		ids[id] = key
		for _, tag := range op["tags"].([]any) {
			if !tags[tag.(string)] {
				t.Errorf("%s has the undeclared tag %s", key, tag)
			}
		}
		responses, _ := op["responses"].(map[string]any)
		if !slices.ContainsFunc(keys(responses), func(code string) bool { return strings.HasPrefix(code, "2") }) {
			t.Errorf("%s documents no success", key)
		}
		var declared []string
		for _, p := range asSlice(op["parameters"]) {
			if pm, _ := p.(map[string]any); pm["in"] == "path" {
				declared = append(declared, pm["name"].(string))
			}
		}
		for _, m := range param.FindAllStringSubmatch(path, -1) {
			if !slices.Contains(declared, m[1]) {
				t.Errorf("%s does not declare its path parameter %s", key, m[1])
			}
		}
	}
}

// typedSchema is a schema of the document and the Go type it describes.
type typedSchema struct {
	name   string
	typ    reflect.Type
	dir    openapitest.Direction
	opaque []string
}

// schemaTypes maps the document's schemas to the Go types they describe.
// Every schema is here or in untyped; every exported sdk struct with json
// tags is here (TestEverySDKTypeDocumented).
func schemaTypes() []typedSchema {
	return []typedSchema{
		{name: "Vendor", typ: reflect.TypeFor[sdk.Vendor](), dir: openapitest.Sent},
		{name: "Source", typ: reflect.TypeFor[sdk.Source](), dir: openapitest.Sent},
		{name: "Password", typ: reflect.TypeFor[sdk.Password](), dir: openapitest.Received},
		{name: "Accessor", typ: reflect.TypeFor[sdk.Accessor](), dir: openapitest.Received},
		{name: "History", typ: reflect.TypeFor[sdk.History](), dir: openapitest.Sent},
		{name: "HistoryCreate", typ: reflect.TypeFor[sdk.HistoryCreate](), dir: openapitest.Received},
		{name: "CancelHistory", typ: reflect.TypeFor[sdk.CancelHistory](), dir: openapitest.Sent},
		{name: "BankAccount", typ: reflect.TypeFor[sdk.BankAccount](), dir: openapitest.Received},
		{name: "CancelCreate", typ: reflect.TypeFor[sdk.CancelCreate](), dir: openapitest.Received},
		{name: "Reservation", typ: reflect.TypeFor[sdk.Reservation](), dir: openapitest.Sent},
		{name: "ReservationCreate", typ: reflect.TypeFor[sdk.ReservationCreate](), dir: openapitest.Received},
		{name: "WebhookHistory", typ: reflect.TypeFor[sdk.WebhookHistory](), dir: openapitest.Sent},
		{name: "Performance", typ: reflect.TypeFor[sdk.Performance](), dir: openapitest.Sent},
		{name: "Resource", typ: reflect.TypeFor[sdk.Resource](), dir: openapitest.Sent},
		{name: "Runtime", typ: reflect.TypeFor[sdk.Runtime](), dir: openapitest.Sent},
		{name: "System", typ: reflect.TypeFor[sdk.System](), dir: openapitest.Sent},
		{name: "Commit", typ: reflect.TypeFor[sdk.Commit](), dir: openapitest.Sent},
		{name: "Signature", typ: reflect.TypeFor[sdk.Signature](), dir: openapitest.Sent},
		{name: "Package", typ: reflect.TypeFor[sdk.Package](), dir: openapitest.Sent},
		{name: "Repository", typ: reflect.TypeFor[sdk.Repository](), dir: openapitest.Sent},
		{name: "PackageURL", typ: reflect.TypeFor[sdk.URL](), dir: openapitest.Sent},
		{name: "IamportWebhook", typ: reflect.TypeFor[iamport.Webhook](), dir: openapitest.Received},
		{name: "TossDepositCallback", typ: reflect.TypeFor[toss.DepositCallback](), dir: openapitest.Received},
		// Only data.paymentKey of the payment is read.
		{name: "TossPaymentStatusChanged", typ: reflect.TypeFor[toss.PaymentStatusChanged](), dir: openapitest.Received, opaque: []string{"data"}},
		// Only data.paymentId is used.
		{name: "PortOneWebhook", typ: reflect.TypeFor[portone.Webhook](), dir: openapitest.Received, opaque: []string{"data"}},
	}
}

// untyped returns the schemas without a Go type of their own here: the
// vendor code is a string type (checked where used), Toss's webhook is a
// union of two typed schemas, and Error is the server's unexported error
// body (checked in package server).
func untyped() []string { return []string{"VendorCode", "TossWebhook", "Error"} }

// TestSchemasMatchTypes fails when a field of a Go type is missing from its
// schema, a property is not in the code, or a type, nullability or
// required list differs.
func TestSchemasMatchTypes(t *testing.T) {
	spec, err := openapitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	var mapped []string
	for _, tc := range schemaTypes() {
		mapped = append(mapped, tc.name)
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range spec.CheckType(tc.name, tc.typ, tc.dir, tc.opaque...) {
				t.Error(p)
			}
		})
	}
	for _, name := range spec.SchemaNames() {
		if !slices.Contains(mapped, name) && !slices.Contains(untyped(), name) {
			t.Errorf("schema %s is compared with no Go type: add it to schemaTypes", name)
		}
	}
}

// TestEverySDKTypeDocumented fails when an exported struct of package sdk
// that goes on the wire (it has json tags) has no schema in schemaTypes.
func TestEverySDKTypeDocumented(t *testing.T) {
	documented := map[string]bool{}
	for _, tc := range schemaTypes() {
		if tc.typ.PkgPath() == reflect.TypeFor[sdk.History]().PkgPath() {
			documented[tc.typ.Name()] = true
		}
	}
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join("..", "sdk", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, ts := range wireStructs(f) {
			if !documented[ts] {
				t.Errorf("sdk.%s has json tags but no schema: document it and add it to schemaTypes", ts)
			}
		}
	}
}

// wireStructs returns the exported struct types of f with a json tag.
func wireStructs(f *ast.File) []string {
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || !ts.Name.IsExported() {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			return false
		}
		for _, fld := range st.Fields.List {
			if fld.Tag != nil && strings.Contains(fld.Tag.Value, `json:"`) {
				out = append(out, ts.Name.Name)
				break
			}
		}
		return false
	})
	return out
}

// TestCheckTypeFindsDrift shows that CheckType reports each kind of
// difference, so TestSchemasMatchTypes cannot pass vacuously.
func TestCheckTypeFindsDrift(t *testing.T) {
	spec, err := openapitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	type vendorPlus struct {
		sdk.Vendor
		Extra string `json:"extra"`
	}
	type vendorMinus struct {
		Code    sdk.VendorCode `json:"code"`
		StoreID string         `json:"store_id"`
	}
	type vendorInt struct {
		Code    sdk.VendorCode `json:"code"`
		StoreID int            `json:"store_id"`
		UID     string         `json:"uid"`
	}
	type vendorNull struct {
		Code    sdk.VendorCode `json:"code"`
		StoreID *string        `json:"store_id"`
		UID     string         `json:"uid"`
	}
	tests := []struct {
		name string
		typ  reflect.Type
		want string
	}{
		{name: "field missing from the document", typ: reflect.TypeFor[vendorPlus](), want: "Vendor.extra: in the code"},
		{name: "property not in the code", typ: reflect.TypeFor[vendorMinus](), want: "Vendor.uid: in the document, not in the code"},
		{name: "type differs", typ: reflect.TypeFor[vendorInt](), want: "Vendor.store_id: JSON integer in the code"},
		{name: "nullability differs", typ: reflect.TypeFor[vendorNull](), want: "Vendor.store_id: may be null"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := spec.CheckType("Vendor", tc.typ, openapitest.Sent)
			if !slices.ContainsFunc(got, func(p string) bool { return strings.HasPrefix(p, tc.want) }) {
				t.Errorf("CheckType(Vendor, %s) = %q, want a line starting %q", tc.typ, got, tc.want)
			}
		})
	}
	if got := spec.CheckType("Vendor", reflect.TypeFor[sdk.Vendor](), openapitest.Sent); len(got) > 0 {
		t.Errorf("CheckType(Vendor, sdk.Vendor) = %q, want nothing", got)
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// Example_operations lists what the document describes.
func Example_operations() {
	spec, err := openapitest.Load()
	if err != nil {
		panic(err)
	}
	for _, op := range spec.Operations() {
		fmt.Println(op)
	}
	// Output:
	// GET /livez
	// GET /monitors/health
	// GET /monitors/performance
	// GET /monitors/system
	// GET /openapi.json
	// POST /payments/histories
	// PUT /payments/histories/cancel
	// PATCH /payments/histories/get
	// PATCH /payments/histories/{id}
	// POST /payments/internal/webhook
	// POST /payments/reservations
	// PATCH /payments/reservations/get
	// PATCH /payments/reservations/{id}
	// POST /payments/webhooks/iamport
	// POST /payments/webhooks/portone
	// POST /payments/webhooks/toss
	// GET /readyz
}
