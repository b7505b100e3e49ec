package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/paymentctl/paymentctl/internal/safetext"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// The hostile-input fuzz targets run the real router, body decryption and
// validation over a stub service that fails the test if anything
// unchecked reaches it. The end-to-end tests (e2e_hostile_test.go) run the
// same kinds of input against the real service and databases.

const (
	fuzzKey = "MCKOxv9B23r7EatArCFcBP03nfaS03T8"
	fuzzIV  = "9haeYD1tIf4v8xs7"
)

// cleanInput fails t unless every string reachable from v is text the
// handlers accept at all: valid UTF-8, no control character, at most
// maxWebhookURL characters (the longest bound).
func cleanInput(t *testing.T, v any) {
	t.Helper()
	var walk func(path string, rv reflect.Value)
	walk = func(path string, rv reflect.Value) {
		switch rv.Kind() {
		case reflect.String:
			if s := rv.String(); !safetext.Valid(s, maxWebhookURL) {
				t.Errorf("%s = %.60q reached the service", path, s)
			}
		case reflect.Pointer:
			if !rv.IsNil() {
				walk(path, rv.Elem())
			}
		case reflect.Struct:
			for i := range rv.NumField() {
				walk(path+"."+rv.Type().Field(i).Name, rv.Field(i))
			}
		}
	}
	walk("in", reflect.ValueOf(v))
}

// stubService accepts what the handlers let through, after checking it.
type stubService struct{ t *testing.T }

func (s stubService) check(v any, ids ...string) {
	s.t.Helper()
	cleanInput(s.t, v)
	for _, id := range ids {
		if !safetext.CanonicalUUID(id) {
			s.t.Errorf("id %.60q reached the service", id)
		}
	}
}

func (s stubService) CreateHistory(_ context.Context, in sdk.HistoryCreate) (*sdk.History, error) {
	s.check(in, in.Source.ID)
	return &sdk.History{}, nil
}

func (s stubService) History(_ context.Context, id, password string) (*sdk.History, error) {
	s.check(sdk.Password{Password: password}, id)
	return &sdk.History{}, nil
}

func (s stubService) HistoryBySource(_ context.Context, in sdk.Accessor) (*sdk.History, error) {
	s.check(in, in.ID)
	return &sdk.History{}, nil
}

func (s stubService) Cancel(_ context.Context, in sdk.CancelCreate) (*sdk.History, error) {
	s.check(in, in.Source.ID)
	return &sdk.History{}, nil
}

func (s stubService) CreateReservation(_ context.Context, in sdk.ReservationCreate) (*sdk.Reservation, error) {
	s.check(in, in.Source.ID)
	return &sdk.Reservation{}, nil
}

func (s stubService) Reservation(_ context.Context, id, password string) (*sdk.Reservation, error) {
	s.check(sdk.Password{Password: password}, id)
	return &sdk.Reservation{}, nil
}

func (s stubService) ReservationBySource(_ context.Context, in sdk.Accessor) (*sdk.Reservation, error) {
	s.check(in, in.ID)
	return &sdk.Reservation{}, nil
}

// ReceiveWebhook checks what the PG routes pass on: at most maxPGBody of
// valid UTF-8 JSON without NUL.
func (s stubService) ReceiveWebhook(_ context.Context, vendor sdk.VendorCode, body []byte) error {
	if len(body) > maxPGBody || !utf8.Valid(body) || !json.Valid(body) || jsonHasNUL(body) {
		s.t.Errorf("%s webhook body %.80q reached the service", vendor, body)
	}
	return nil
}

// fuzzRouter is the route table over stubService.
func fuzzRouter(t *testing.T) http.Handler {
	t.Helper()
	wire, err := wirecrypt.New(fuzzKey, fuzzIV)
	if err != nil {
		t.Fatal(err)
	}
	svc := stubService{t: t}
	return newRouter(routerOptions{Payments: svc, Webhooks: svc, Wire: wire, Logger: slog.New(slog.DiscardHandler)})
}

// serve runs one request through h and checks the answer: never a 5xx,
// and a refusal is short, clean JSON.
func serve(t *testing.T, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body := rec.Body.Bytes()
	if rec.Code >= 500 {
		t.Fatalf("%s %.80s = %d %s", req.Method, req.URL.Path, rec.Code, body)
	}
	if rec.Code >= 400 && (len(body) > maxMessage+100 || !json.Valid(body) || bytes.Contains(body, []byte(`\u0000`))) {
		t.Fatalf("%s %.80s = %d with a refusal of %d bytes: %.200q", req.Method, req.URL.Path, rec.Code, len(body), body)
	}
	return rec
}

// fuzzRoutes are the encrypted routes that take a body; an :id route ends
// with a slash, to which the fuzzed id is appended.
var fuzzRoutes = []struct{ method, path string }{
	{http.MethodPost, "/payments/histories"},
	{http.MethodPut, "/payments/histories/cancel"},
	{http.MethodPatch, "/payments/histories/get"},
	{http.MethodPatch, "/payments/histories/"},
	{http.MethodPost, "/payments/reservations"},
	{http.MethodPatch, "/payments/reservations/get"},
	{http.MethodPatch, "/payments/reservations/"},
}

// FuzzEncryptedBody fuzzes the plaintext of every encrypted route (and the
// path id of the :id routes): decrypted by the body middleware, decoded
// and validated by the handler. Nothing may answer 5xx, and the service
// may only ever see clean input.
func FuzzEncryptedBody(f *testing.F) {
	src := `"source":{"schema":"some-schema","table":"some-table","id":"0b7e2f4c-8c1a-4e55-9f1e-3c2d6a7b8e90"}`
	vendor := `"vendor":{"code":"iamport","store_id":"test-iamport-create-id","uid":"imp_123456789012"}`
	id := "0b7e2f4c-8c1a-4e55-9f1e-3c2d6a7b8e90"
	seeds := []string{
		`{` + vendor + `,` + src + `,"price":1000,"password":"some-password","webhook_url":"http://127.0.0.1:1/hook"}`,
		`{` + src + `,"password":"p","price":1000,"reason":"r","account":{"bank":"신한은행","account":"110-1","holder":"홍길동","mobile":"010"}}`,
		`{"schema":"s","table":"t","id":"` + id + `","password":"p"}`,
		`{"password":"some-password"}`,
		`{` + vendor + `,` + src + `,"title":"t","password":"p"}`,
		`{"password":"a\u0000b"}`,
		`{"password":"a\u0085b","schema":"\u001b","table":"` + strings.Repeat("t", 65) + `","id":"urn:uuid:` + id + `"}`,
		"{\"password\":\"\xff\"}",
		`{"password":null}`,
		`{"price":1e400}`,
		`[]`, `null`, ``, `{`,
	}
	for i, r := range fuzzRoutes {
		for _, s := range seeds {
			f.Add(uint8(i), id, []byte(s))
		}
		if strings.HasSuffix(r.path, "/") {
			for _, bad := range []string{"urn:uuid:" + id, "{" + id + "}", id[:35], id + "0", "\x00", strings.ToUpper(id), ""} {
				f.Add(uint8(i), bad, []byte(`{"password":"p"}`))
			}
		}
	}
	c, err := wirecrypt.New(fuzzKey, fuzzIV)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, route uint8, id string, plain []byte) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		path := r.path
		if strings.HasSuffix(path, "/") {
			path += url.PathEscape(id)
		}
		req := httptest.NewRequest(r.method, path, bytes.NewReader(c.Encrypt(plain)))
		req.Header.Set("Content-Type", wirecrypt.ContentType)
		serve(t, fuzzRouter(t), req)
	})
}

// FuzzPGWebhookBody fuzzes the PG webhook routes' bodies, as JSON and as
// the form encoding Iamport also uses. Nothing may answer 5xx, only a
// bounded, valid UTF-8 JSON body without NUL may reach the service, and a
// refusal quotes nothing of the body (echoMarker).
func FuzzPGWebhookBody(f *testing.F) {
	for _, s := range []string{
		`{"imp_uid":"imp_123456789012","merchant_uid":"m-1","status":"paid"}`,
		`{"imp_uid":"\u0000","merchant_uid":"m","status":"paid"}`,
		`imp_uid=imp_123456789012&merchant_uid=m-1&status=paid`,
		`imp_uid=%00&merchant_uid=m&status=paid`,
		`imp_uid=%FF`,
		`{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"pk","orderId":"o-1","status":"DONE"}}`,
		`{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"\u0000"}}`,
		`{"secret":"s","status":"DONE","orderId":"o-1"}`,
		"{\"imp_uid\":\"\xff\"}",
		`{"a":"\\u0000"}`,
		strings.Repeat("a", 65<<10),
		// The field name of a form is the sender's too (e58152e).
		echoMarker + "%00=1&imp_uid=imp_1",
		"imp_uid=imp_1&" + echoMarker + "%FF=1",
		"imp_uid=" + echoMarker + "%0Alevel%3DERROR&status=paid",
		`{"imp_uid":"` + echoMarker + `\u0000"}`,
		`{"imp_uid":1` + echoMarker + `}`,
		"{\"eventType\":\"" + echoMarker + "\xff\"}",
	} {
		for _, toss := range []bool{false, true} {
			for _, form := range []bool{false, true} {
				f.Add(toss, form, []byte(s))
			}
		}
	}
	f.Fuzz(func(t *testing.T, toss, form bool, body []byte) {
		path, ct := "/payments/webhooks/iamport", "application/json"
		if toss {
			path = "/payments/webhooks/toss"
		}
		if form {
			ct = "application/x-www-form-urlencoded"
		}
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		if rec := serve(t, fuzzRouter(t), req); rec.Code >= 400 {
			checkNoEcho(t, "POST "+path, rec)
		}
	})
}

// TestFieldBounds checks each bound at its edge: as many characters as
// the bound (multi-byte ones, which count once) pass; one more fails.
func TestFieldBounds(t *testing.T) {
	id := "0b7e2f4c-8c1a-4e55-9f1e-3c2d6a7b8e90"
	source := sdk.Source{Schema: "s", Table: "t", ID: id}
	vendor := sdk.Vendor{Code: sdk.VendorIamport, StoreID: "store", UID: "imp_1"}
	history := func() sdk.HistoryCreate {
		return sdk.HistoryCreate{Vendor: vendor, Source: source, Price: 1, Password: "p", WebhookURL: "https://example.com/hook"}
	}
	cancel := func() sdk.CancelCreate {
		return sdk.CancelCreate{Source: source, Password: "p", Price: 1, Reason: "r",
			Account: &sdk.BankAccount{Bank: "b", Account: "1", Holder: "h", Mobile: "010"}}
	}
	reservation := func() sdk.ReservationCreate {
		return sdk.ReservationCreate{Vendor: vendor, Source: source, Title: "t", Password: "p"}
	}
	long := func(n int) string { return strings.Repeat("결", n) }
	tests := []struct {
		field string
		bound int
		check func(v string) error
	}{
		{"vendor.store_id", maxStoreID, func(v string) error { in := history(); in.Vendor.StoreID = v; return validateHistoryCreate(in) }},
		{"source.schema", maxSourceName, func(v string) error { in := history(); in.Source.Schema = v; return validateHistoryCreate(in) }},
		{"source.table", maxSourceName, func(v string) error { in := reservation(); in.Source.Table = v; return validateReservationCreate(in) }},
		{"password", maxPassword, func(v string) error { in := history(); in.Password = v; return validateHistoryCreate(in) }},
		{"reason", maxReason, func(v string) error { in := cancel(); in.Reason = v; return validateCancel(in) }},
		{"account.bank", maxBank, func(v string) error { in := cancel(); in.Account.Bank = v; return validateCancel(in) }},
		{"account.account", maxAccount, func(v string) error { in := cancel(); in.Account.Account = v; return validateCancel(in) }},
		{"account.holder", maxHolder, func(v string) error { in := cancel(); in.Account.Holder = v; return validateCancel(in) }},
		{"account.mobile", maxMobile, func(v string) error { in := cancel(); in.Account.Mobile = v; return validateCancel(in) }},
		{"title", maxTitle, func(v string) error { in := reservation(); in.Title = v; return validateReservationCreate(in) }},
		{"password (look-up)", maxPassword, func(v string) error { return validatePassword(sdk.Password{Password: v}) }},
	}
	for _, tt := range tests {
		if err := tt.check(long(tt.bound)); err != nil {
			t.Errorf("%s of %d characters: %v, want it accepted", tt.field, tt.bound, err)
		}
		err := tt.check(long(tt.bound + 1))
		if err == nil || !strings.Contains(err.Error(), "$input."+strings.TrimSuffix(tt.field, " (look-up)")) {
			t.Errorf("%s of %d characters: %v, want it refused", tt.field, tt.bound+1, err)
		}
	}
	// vendor.uid and webhook_url are ASCII: their bounds are in bytes too.
	uid := history()
	uid.Vendor.UID = strings.Repeat("k", maxVendorUID)
	if err := validateHistoryCreate(uid); err != nil {
		t.Errorf("vendor.uid of %d characters: %v", maxVendorUID, err)
	}
	uid.Vendor.UID += "k"
	if err := validateHistoryCreate(uid); err == nil {
		t.Errorf("vendor.uid of %d characters accepted", maxVendorUID+1)
	}
	hook := history()
	prefix := "https://example.com/"
	hook.WebhookURL = prefix + strings.Repeat("h", maxWebhookURL-len(prefix))
	if err := validateHistoryCreate(hook); err != nil {
		t.Errorf("webhook_url of %d characters: %v", maxWebhookURL, err)
	}
	hook.WebhookURL += "h"
	if err := validateHistoryCreate(hook); err == nil {
		t.Errorf("webhook_url of %d characters accepted", maxWebhookURL+1)
	}
}

// echoMarker starts every hostile value the echo tests send: a refusal
// that holds it quotes what the client sent.
const echoMarker = "zqxjvEcho"

// echoValues are hostile string values, as the raw text between the
// quotes of a JSON string: a NUL, invalid UTF-8, an injected quote, a
// newline and a value of 1 MB (the body limit: refused as too large) and
// one just under it.
var echoValues = []struct{ name, raw string }{
	{"NUL", `\u0000`},
	{"invalid UTF-8", "\xff\xfe"},
	{"quote", `\"`},
	{"injected quote", `","password":"x`},
	{"newline", `\nlevel=ERROR msg=forged`},
	{"1 MB", strings.Repeat("m", 1<<20)},
	{"700 KB", strings.Repeat("m", 700<<10)},
}

// echoRoutes are fuzzRoutes (by index) with a valid body and its string
// fields, as dotted paths.
func echoRoutes() []struct {
	route  int
	body   string
	fields []string
} {
	id := "0b7e2f4c-8c1a-4e55-9f1e-3c2d6a7b8e90"
	src := `"source":{"schema":"some-schema","table":"some-table","id":"` + id + `"}`
	vendor := `"vendor":{"code":"iamport","store_id":"test-iamport-create-id","uid":"imp_123456789012"}`
	vendorFields := []string{"vendor.code", "vendor.store_id", "vendor.uid"}
	sourceFields := []string{"source.schema", "source.table", "source.id"}
	accessor := `{"schema":"s","table":"t","id":"` + id + `","password":"p"}`
	return []struct {
		route  int
		body   string
		fields []string
	}{
		{0, `{` + vendor + `,` + src + `,"price":1000,"password":"some-password","webhook_url":"http://8.8.8.8/hook"}`,
			append(append(vendorFields, sourceFields...), "password", "webhook_url")},
		{1, `{` + src + `,"password":"p","price":1000,"reason":"r","account":{"bank":"b","account":"110-1","holder":"h","mobile":"010"}}`,
			append(sourceFields, "password", "reason", "account.bank", "account.account", "account.holder", "account.mobile")},
		{2, accessor, []string{"schema", "table", "id", "password"}},
		{3, `{"password":"p"}`, []string{"password"}},
		{4, `{` + vendor + `,` + src + `,"title":"t","password":"p"}`, append(append(vendorFields, sourceFields...), "title", "password")},
		{5, accessor, []string{"schema", "table", "id", "password"}},
		{6, `{"password":"p"}`, []string{"password"}},
	}
}

// withField returns the JSON object body with the string field at path
// (dotted) set to raw, put between quotes as it is: raw may hold what
// encoding/json would not write (invalid UTF-8, an unescaped quote).
func withField(t *testing.T, body, path, raw string) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	const placeholder = "\u2063field\u2063"
	m := doc
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		m = m[k].(map[string]any)
	}
	m[keys[len(keys)-1]] = placeholder
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Replace(b, []byte(placeholder), []byte(raw), 1)
}

// checkNoEcho fails t if the refusal rec holds echoMarker.
func checkNoEcho(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if body := rec.Body.String(); strings.Contains(body, echoMarker) {
		t.Fatalf("%s: the refusal quotes the value: %.300s", what, body)
	}
}

// TestRefusalsDoNotEcho sends each hostile value in each string field of
// each route, and as the path id: every refusal names the field and says
// what is wrong, without the value.
func TestRefusalsDoNotEcho(t *testing.T) {
	c, err := wirecrypt.New(fuzzKey, fuzzIV)
	if err != nil {
		t.Fatal(err)
	}
	h := fuzzRouter(t)
	for _, r := range echoRoutes() {
		route := fuzzRoutes[r.route]
		for _, field := range r.fields {
			for _, v := range echoValues {
				what := route.method + " " + route.path + " " + field + " " + v.name
				req := httptest.NewRequest(route.method, route.path+"0b7e2f4c-8c1a-4e55-9f1e-3c2d6a7b8e90", bytes.NewReader(c.Encrypt(withField(t, r.body, field, echoMarker+v.raw))))
				if !strings.HasSuffix(route.path, "/") {
					req.URL.Path = route.path
				}
				req.Header.Set("Content-Type", wirecrypt.ContentType)
				rec := serve(t, h, req)
				// A quote is fine in free text (and JSON escapes it back).
				quote := strings.HasSuffix(v.name, "quote")
				if rec.Code < 400 && !quote {
					t.Fatalf("%s answered %d, want a refusal", what, rec.Code)
				}
				checkNoEcho(t, what, rec)
				// A body that is not UTF-8 is refused as a whole.
				if rec.Code == http.StatusBadRequest && v.name != "invalid UTF-8" && !quote && !strings.Contains(rec.Body.String(), "$input."+field) {
					t.Errorf("%s: the refusal does not name the field: %.300s", what, rec.Body.String())
				}
			}
		}
		if !strings.HasSuffix(route.path, "/") {
			continue
		}
		for _, v := range []string{"\x00", "\xff", `"`, "\n", strings.Repeat("i", 1<<20), "-0b7e2f4c-8c1a-4e55-9f1e"} {
			req := httptest.NewRequest(route.method, route.path+url.PathEscape(echoMarker+v), bytes.NewReader(c.Encrypt([]byte(`{"password":"p"}`))))
			req.Header.Set("Content-Type", wirecrypt.ContentType)
			rec := serve(t, h, req)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("%s %s path id %.20q answered %d, want 400", route.method, route.path, v, rec.Code)
			}
			checkNoEcho(t, route.method+" "+route.path+" path id", rec)
			if !strings.Contains(rec.Body.String(), "path parameter: id") {
				t.Errorf("%s path id %.20q: the refusal does not name the path id: %.300s", route.method, v, rec.Body.String())
			}
		}
	}
}

// FuzzRefusalEcho puts a fuzzed value, after echoMarker, in one string
// field of one route (or its path id): no refusal may quote it.
func FuzzRefusalEcho(f *testing.F) {
	routes := echoRoutes()
	for i, r := range routes {
		for j := range len(r.fields) + 1 {
			for _, v := range echoValues {
				// The large values once per route: each costs a
				// megabyte's work in every run of the seeds.
				if len(v.raw) < 1<<10 || j == 0 {
					f.Add(uint8(i), uint8(j), v.raw)
				}
			}
		}
	}
	c, err := wirecrypt.New(fuzzKey, fuzzIV)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, route, field uint8, v string) {
		r := routes[int(route)%len(routes)]
		fr := fuzzRoutes[r.route]
		id, body := "0b7e2f4c-8c1a-4e55-9f1e-3c2d6a7b8e90", []byte(r.body)
		if i := int(field) % (len(r.fields) + 1); i < len(r.fields) {
			body = withField(t, r.body, r.fields[i], echoMarker+v)
		} else {
			id = echoMarker + v
		}
		path := fr.path
		if strings.HasSuffix(path, "/") {
			path += url.PathEscape(id)
		}
		req := httptest.NewRequest(fr.method, path, bytes.NewReader(c.Encrypt(body)))
		req.Header.Set("Content-Type", wirecrypt.ContentType)
		if rec := serve(t, fuzzRouter(t), req); rec.Code >= 400 {
			checkNoEcho(t, fr.method+" "+fr.path, rec)
		}
	})
}
