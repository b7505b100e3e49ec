package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// The default connection key and IV of the original server's .env.
const (
	testKey = "MCKOxv9B23r7EatArCFcBP03nfaS03T8"
	testIV  = "9haeYD1tIf4v8xs7"
)

const (
	historyID     = "9b1c8a64-3f0e-4a57-9c1d-2f5e8b7a6c10"
	reservationID = "0f6d1e2a-7b3c-4d5e-8f90-a1b2c3d4e5f6"
)

func mustCipher(t testing.TB) *wirecrypt.Cipher {
	t.Helper()
	c, err := wirecrypt.New(testKey, testIV)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// received is what the stub saw of one request.
type received struct {
	Method, Path string
	Header       http.Header
	// Plain is the request body, decrypted on encrypted routes.
	Plain []byte
}

// stub is a paymentctl server reduced to its wire protocol: the route
// table of the original, text/plain AES bodies both ways on the encrypted
// routes, plain JSON errors, 201 for POST and 200 otherwise. Every route
// answers the canned body set for it.
type stub struct {
	t      *testing.T
	cipher *wirecrypt.Cipher
	srv    *httptest.Server

	mu      sync.Mutex
	seen    []received
	answers map[string]any // route pattern → response body
}

// routes lists the original's routes used by the SDK: pattern, whether
// the bodies are encrypted.
var routes = []struct {
	pattern   string
	encrypted bool
}{
	{"GET /monitors/health", false},
	{"GET /monitors/performance", true},
	{"GET /monitors/system", true},
	{"POST /payments/histories", true},
	{"PATCH /payments/histories/get", true},
	{"PATCH /payments/histories/{id}", true},
	{"PUT /payments/histories/cancel", true},
	{"POST /payments/reservations", true},
	{"PATCH /payments/reservations/get", true},
	{"PATCH /payments/reservations/{id}", true},
}

func newStub(t *testing.T) *stub {
	s := &stub{t: t, cipher: mustCipher(t), answers: map[string]any{}}
	mux := http.NewServeMux()
	for _, r := range routes {
		mux.HandleFunc(r.pattern, func(w http.ResponseWriter, req *http.Request) {
			s.serve(w, req, r.pattern, r.encrypted)
		})
	}
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *stub) answer(pattern string, body any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[pattern] = body
}

func (s *stub) requests() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.seen...)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"statusCode": status, "message": msg, "error": http.StatusText(status)})
}

func (s *stub) serve(w http.ResponseWriter, r *http.Request, pattern string, encrypted bool) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "unreadable body")
		return
	}
	plain := raw
	if encrypted && len(raw) > 0 {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != wirecrypt.ContentType {
			writeError(w, http.StatusBadRequest, `Request body type is not "text/plain".`)
			return
		}
		if plain, err = s.cipher.Decrypt(raw); err != nil {
			writeError(w, http.StatusBadRequest, "Failed to decrypt the request body.")
			return
		}
	}
	s.mu.Lock()
	s.seen = append(s.seen, received{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Plain: plain})
	answer, ok := s.answers[pattern]
	s.mu.Unlock()

	status := http.StatusOK
	if r.Method == http.MethodPost {
		status = http.StatusCreated
	}
	if !ok {
		w.WriteHeader(status)
		return
	}
	out, err := json.Marshal(answer)
	if err != nil {
		s.t.Errorf("stub: encode answer: %v", err)
		writeError(w, http.StatusInternalServerError, "internal server error")
		return
	}
	if encrypted {
		out = s.cipher.Encrypt(out)
		w.Header().Set("Content-Type", wirecrypt.ContentType+"; charset=utf-8")
	}
	w.WriteHeader(status)
	w.Write(out)
}

func newClient(t *testing.T, baseURL string, mod func(*sdk.Options)) *sdk.Client {
	t.Helper()
	opts := sdk.Options{BaseURL: baseURL, Key: testKey, IV: testIV}
	if mod != nil {
		mod(&opts)
	}
	c, err := sdk.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func ptr[T any](v T) *T { return &v }

var (
	created = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	source  = sdk.Source{Schema: "shop", Table: "orders", ID: "5c7e2d1a-8b9f-4c3e-a6d2-1e0f9b8a7c65"}
	vendor  = sdk.Vendor{Code: sdk.VendorIamport, StoreID: "imp00000001", UID: "imp_123456789012"}
)

func sampleHistory() sdk.History {
	return sdk.History{
		ID:         historyID,
		VendorCode: sdk.VendorIamport,
		Vendor:     vendor,
		Source:     source,
		Data:       json.RawMessage(`{"imp_uid":"imp_123456789012","amount":10000}`),
		Currency:   "KRW",
		Price:      10000,
		Refund:     ptr[int64](3000),
		WebhookURL: ptr("http://127.0.0.1:9/hook"),
		CreatedAt:  created,
		PaidAt:     ptr(created.Add(time.Second)),
		Cancels:    []sdk.CancelHistory{{Reason: "size", Price: 3000, CreatedAt: created.Add(time.Hour)}},
	}
}

func sampleReservation() sdk.Reservation {
	return sdk.Reservation{
		ID:         reservationID,
		VendorCode: sdk.VendorToss,
		Vendor:     sdk.Vendor{Code: sdk.VendorToss, StoreID: "tosspayments", UID: "billing-key-1"},
		Source:     source,
		Title:      "my card",
		Data:       json.RawMessage(`{"billingKey":"billing-key-1"}`),
		CreatedAt:  created,
	}
}

func samplePerformance() sdk.Performance {
	var p sdk.Performance
	p.CPU.User = 1200
	p.Memory.RSS = 40 << 20
	p.Resource.MaxRSS = 41000
	p.Runtime = sdk.Runtime{Goroutines: 12, NumGC: 3, Requests: 99, Errors: 1}
	return p
}

func sampleSystem() sdk.System {
	return sdk.System{
		UID:       "2d6f6a3e-0c2b-4a11-9f3e-7e5d4c3b2a19",
		Arguments: []string{"paymentctl", "serve"},
		Commit:    sdk.Commit{ShortHash: "86e74fc", Hash: "86e74fc0", Branch: "main", Author: sdk.Signature{Name: "a", Email: "a@example.com"}},
		Package:   sdk.Package{Name: "github.com/paymentctl/paymentctl", Version: "v0.1.0", Dependencies: map[string]string{"gorm.io/gorm": "v1.31.2"}},
		CreatedAt: "2026-03-14T09:26:53Z",
	}
}

// TestRoutes calls every method against the stub and checks the method,
// the path, the decrypted request body and the decoded answer.
func TestRoutes(t *testing.T) {
	accessor := sdk.Accessor{Source: source, Password: "pw"}
	historyCreate := sdk.HistoryCreate{Vendor: vendor, Source: source, Price: 10000, Password: "pw", WebhookURL: "http://127.0.0.1:9/hook"}
	cancel := sdk.CancelCreate{Source: source, Password: "pw", Price: 3000, Reason: "size", Account: &sdk.BankAccount{Bank: "088", Account: "110123456789", Holder: "홍길동", Mobile: "01012345678"}}
	reservationCreate := sdk.ReservationCreate{Vendor: sampleReservation().Vendor, Source: source, Title: "my card", Password: "pw"}

	tests := []struct {
		name    string
		pattern string
		answer  any
		call    func(context.Context, *sdk.Client) (any, error)
		method  string
		path    string
		// body is the request body expected, nil for none.
		body any
		// want is what the method returns (dereferenced).
		want any
	}{
		{
			name: "Health", pattern: "GET /monitors/health",
			call:   func(ctx context.Context, c *sdk.Client) (any, error) { return nil, c.Health(ctx) },
			method: "GET", path: "/monitors/health",
		},
		{
			name: "Performance", pattern: "GET /monitors/performance", answer: samplePerformance(),
			call: func(ctx context.Context, c *sdk.Client) (any, error) {
				p, err := c.Performance(ctx)
				return deref(p), err
			},
			method: "GET", path: "/monitors/performance", want: samplePerformance(),
		},
		{
			name: "System", pattern: "GET /monitors/system", answer: sampleSystem(),
			call: func(ctx context.Context, c *sdk.Client) (any, error) {
				s, err := c.System(ctx)
				return deref(s), err
			},
			method: "GET", path: "/monitors/system", want: sampleSystem(),
		},
		{
			name: "CreateHistory", pattern: "POST /payments/histories", answer: sampleHistory(),
			call: func(ctx context.Context, c *sdk.Client) (any, error) {
				h, err := c.CreateHistory(ctx, historyCreate)
				return deref(h), err
			},
			method: "POST", path: "/payments/histories", body: historyCreate, want: sampleHistory(),
		},
		{
			name: "History", pattern: "PATCH /payments/histories/{id}", answer: sampleHistory(),
			call: func(ctx context.Context, c *sdk.Client) (any, error) {
				h, err := c.History(ctx, historyID, "pw")
				return deref(h), err
			},
			method: "PATCH", path: "/payments/histories/" + historyID, body: sdk.Password{Password: "pw"}, want: sampleHistory(),
		},
		{
			name: "HistoryBySource", pattern: "PATCH /payments/histories/get", answer: sampleHistory(),
			call: func(ctx context.Context, c *sdk.Client) (any, error) {
				h, err := c.HistoryBySource(ctx, accessor)
				return deref(h), err
			},
			method: "PATCH", path: "/payments/histories/get", body: accessor, want: sampleHistory(),
		},
		{
			name: "CancelHistory", pattern: "PUT /payments/histories/cancel", answer: sampleHistory(),
			call: func(ctx context.Context, c *sdk.Client) (any, error) {
				h, err := c.CancelHistory(ctx, cancel)
				return deref(h), err
			},
			method: "PUT", path: "/payments/histories/cancel", body: cancel, want: sampleHistory(),
		},
		{
			name: "CreateReservation", pattern: "POST /payments/reservations", answer: sampleReservation(),
			call: func(ctx context.Context, c *sdk.Client) (any, error) {
				r, err := c.CreateReservation(ctx, reservationCreate)
				return deref(r), err
			},
			method: "POST", path: "/payments/reservations", body: reservationCreate, want: sampleReservation(),
		},
		{
			name: "Reservation", pattern: "PATCH /payments/reservations/{id}", answer: sampleReservation(),
			call: func(ctx context.Context, c *sdk.Client) (any, error) {
				r, err := c.Reservation(ctx, reservationID, "pw")
				return deref(r), err
			},
			method: "PATCH", path: "/payments/reservations/" + reservationID, body: sdk.Password{Password: "pw"}, want: sampleReservation(),
		},
		{
			name: "ReservationBySource", pattern: "PATCH /payments/reservations/get", answer: sampleReservation(),
			call: func(ctx context.Context, c *sdk.Client) (any, error) {
				r, err := c.ReservationBySource(ctx, accessor)
				return deref(r), err
			},
			method: "PATCH", path: "/payments/reservations/get", body: accessor, want: sampleReservation(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStub(t)
			if tt.answer != nil {
				s.answer(tt.pattern, tt.answer)
			}
			c := newClient(t, s.srv.URL, nil)
			got, err := tt.call(t.Context(), c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("answer mismatch (-want +got):\n%s", diff)
			}
			reqs := s.requests()
			if len(reqs) != 1 {
				t.Fatalf("stub saw %d requests, want 1", len(reqs))
			}
			req := reqs[0]
			if req.Method != tt.method || req.Path != tt.path {
				t.Errorf("request = %s %s, want %s %s", req.Method, req.Path, tt.method, tt.path)
			}
			if tt.body == nil {
				if len(req.Plain) != 0 || req.Header.Get("Content-Type") != "" {
					t.Errorf("request has body %q (Content-Type %q), want none", req.Plain, req.Header.Get("Content-Type"))
				}
				return
			}
			if ct := req.Header.Get("Content-Type"); ct != wirecrypt.ContentType {
				t.Errorf("Content-Type = %q, want %q", ct, wirecrypt.ContentType)
			}
			want, err := json.Marshal(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(jsonValue(t, want), jsonValue(t, req.Plain)); diff != "" {
				t.Errorf("request body mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// jsonValue decodes JSON into generic values, so bodies compare by
// content rather than by field order or spacing.
func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %q: %v", b, err)
	}
	return v
}

// TestRequestIsEncryptedOnTheWire checks the bytes sent, not only what the
// stub could decrypt: the body is the exact ciphertext of the JSON.
func TestRequestIsEncryptedOnTheWire(t *testing.T) {
	var raw []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, nil)
	c.History(t.Context(), historyID, "some-password")
	// The reference vector for {"password":"some-password"}.
	if want := "/Lu96CDAgYv09JxV0IsOQy8H7LuG9o4QJ29eZjgYjeI="; string(raw) != want {
		t.Errorf("body on the wire = %q, want %q", raw, want)
	}
}

func TestHeaders(t *testing.T) {
	create := sdk.HistoryCreate{Vendor: vendor, Source: source, Price: 1, Password: "pw", WebhookURL: "http://127.0.0.1:9/"}
	tests := []struct {
		name      string
		userAgent string
		call      func(context.Context, *sdk.Client) error
		wantKey   string
		wantUA    string
	}{
		{
			name: "create history with key",
			call: func(ctx context.Context, c *sdk.Client) error {
				_, err := c.CreateHistory(ctx, create, sdk.WithIdempotencyKey("key-1"))
				return err
			},
			wantKey: "key-1", wantUA: sdk.DefaultUserAgent,
		},
		{
			name: "cancel with key",
			call: func(ctx context.Context, c *sdk.Client) error {
				_, err := c.CancelHistory(ctx, sdk.CancelCreate{Source: source, Password: "pw", Price: 1, Reason: "r"}, sdk.WithIdempotencyKey("key-2"))
				return err
			},
			wantKey: "key-2", wantUA: sdk.DefaultUserAgent,
		},
		{
			name: "create reservation with key and user agent", userAgent: "shop/1.0",
			call: func(ctx context.Context, c *sdk.Client) error {
				_, err := c.CreateReservation(ctx, sdk.ReservationCreate{Vendor: vendor, Source: source, Title: "t", Password: "pw"}, sdk.WithIdempotencyKey("key-3"))
				return err
			},
			wantKey: "key-3", wantUA: "shop/1.0",
		},
		{
			name: "last key wins",
			call: func(ctx context.Context, c *sdk.Client) error {
				_, err := c.CreateHistory(ctx, create, sdk.WithIdempotencyKey("old"), sdk.WithIdempotencyKey("new"))
				return err
			},
			wantKey: "new", wantUA: sdk.DefaultUserAgent,
		},
		{
			name: "no key",
			call: func(ctx context.Context, c *sdk.Client) error {
				_, err := c.CreateHistory(ctx, create)
				return err
			},
			wantUA: sdk.DefaultUserAgent,
		},
		{
			name: "empty key sends none",
			call: func(ctx context.Context, c *sdk.Client) error {
				_, err := c.CreateHistory(ctx, create, sdk.WithIdempotencyKey(""))
				return err
			},
			wantUA: sdk.DefaultUserAgent,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStub(t)
			s.answer("POST /payments/histories", sampleHistory())
			s.answer("PUT /payments/histories/cancel", sampleHistory())
			s.answer("POST /payments/reservations", sampleReservation())
			c := newClient(t, s.srv.URL, func(o *sdk.Options) { o.UserAgent = tt.userAgent })
			if err := tt.call(t.Context(), c); err != nil {
				t.Fatal(err)
			}
			h := s.requests()[0].Header
			if got, ok := h[http.CanonicalHeaderKey(sdk.IdempotencyKeyHeader)]; tt.wantKey == "" && ok {
				t.Errorf("Idempotency-Key sent as %q, want none", got)
			}
			if got := h.Get(sdk.IdempotencyKeyHeader); got != tt.wantKey {
				t.Errorf("Idempotency-Key = %q, want %q", got, tt.wantKey)
			}
			if got := h.Get("User-Agent"); got != tt.wantUA {
				t.Errorf("User-Agent = %q, want %q", got, tt.wantUA)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	jsonBody := func(status int, msg string) string {
		b, _ := json.Marshal(map[string]any{"statusCode": status, "message": msg, "error": http.StatusText(status)})
		return string(b)
	}
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		wantMessage string
		wantError   string
	}{
		{"400 bad request", 400, "application/json", jsonBody(400, `Request body type is not "text/plain".`), `Request body type is not "text/plain".`, `PATCH /payments/histories/get: 400 Bad Request: Request body type is not "text/plain".`},
		{"403 wrong password", 403, "application/json", jsonBody(403, "Wrong password."), "Wrong password.", "PATCH /payments/histories/get: 403 Forbidden: Wrong password."},
		{"404 not found", 404, "application/json", jsonBody(404, "No PaymentHistory found"), "No PaymentHistory found", "PATCH /payments/histories/get: 404 Not Found: No PaymentHistory found"},
		{"409 conflict", 409, "application/json", jsonBody(409, "duplicated source"), "duplicated source", "PATCH /payments/histories/get: 409 Conflict: duplicated source"},
		{"422 wrong amount", 422, "application/json", jsonBody(422, "wrong paid amount"), "wrong paid amount", "PATCH /payments/histories/get: 422 Unprocessable Entity: wrong paid amount"},
		{"500 internal", 500, "application/json", jsonBody(500, "internal server error"), "internal server error", "PATCH /payments/histories/get: 500 Internal Server Error: internal server error"},
		{"message list", 400, "application/json", `{"statusCode":400,"message":["price must be positive","password is empty"],"error":"Bad Request"}`, "price must be positive; password is empty", "PATCH /payments/histories/get: 400 Bad Request: price must be positive; password is empty"},
		{"message object", 422, "application/json", `{"statusCode":422,"message":{"code":"INVALID"}}`, `{"code":"INVALID"}`, `PATCH /payments/histories/get: 422 Unprocessable Entity: {"code":"INVALID"}`},
		{"non-JSON body", 502, "text/html", "<html>bad gateway</html>\n", "<html>bad gateway</html>", "PATCH /payments/histories/get: 502 Bad Gateway: <html>bad gateway</html>"},
		{"JSON without message", 500, "application/json", `{"statusCode":500}`, `{"statusCode":500}`, `PATCH /payments/histories/get: 500 Internal Server Error: {"statusCode":500}`},
		{"empty body", 503, "", "", "", "PATCH /payments/histories/get: 503 Service Unavailable"},
		{"304 not modified", 304, "", "", "", "PATCH /payments/histories/get: 304 Not Modified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c := newClient(t, srv.URL, nil)
			h, err := c.HistoryBySource(t.Context(), sdk.Accessor{Source: source, Password: "pw"})
			if h != nil {
				t.Errorf("history = %+v, want nil", h)
			}
			var apiErr *sdk.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v (%T) is not an *sdk.Error", err, err)
			}
			if apiErr.Status != tt.status {
				t.Errorf("Status = %d, want %d", apiErr.Status, tt.status)
			}
			if apiErr.Message != tt.wantMessage {
				t.Errorf("Message = %q, want %q", apiErr.Message, tt.wantMessage)
			}
			if string(apiErr.Body) != tt.body {
				t.Errorf("Body = %q, want %q", apiErr.Body, tt.body)
			}
			if err.Error() != tt.wantError {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.wantError)
			}
		})
	}
}

func TestLongErrorBodyIsShortened(t *testing.T) {
	body := strings.Repeat("가", 300) // 900 bytes, 3 per rune
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, body)
	}))
	defer srv.Close()
	err := newClient(t, srv.URL, nil).Health(t.Context())
	var apiErr *sdk.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v is not an *sdk.Error", err)
	}
	if want := strings.Repeat("가", 66) + "…"; apiErr.Message != want {
		t.Errorf("Message = %q, want %q", apiErr.Message, want)
	}
	if string(apiErr.Body) != body {
		t.Errorf("Body was cut to %d bytes, want %d", len(apiErr.Body), len(body))
	}
}

func TestBadSuccessBodies(t *testing.T) {
	other, err := wirecrypt.New("0123456789abcdef0123456789abcdef", testIV)
	if err != nil {
		t.Fatal(err)
	}
	c := mustCipher(t)
	tests := []struct {
		name    string
		body    []byte
		wantErr error  // matched with errors.Is when set
		wantMsg string // contained in the error otherwise
	}{
		{"empty", nil, nil, "empty response body"},
		{"plain JSON", []byte(`{"id":"x"}`), wirecrypt.ErrMalformed, ""},
		{"other key", other.Encrypt([]byte(`{"id":"x"}`)), wirecrypt.ErrMalformed, ""},
		{"not JSON inside", c.Encrypt([]byte(`not json`)), nil, "decode response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Write(tt.body)
			}))
			defer srv.Close()
			h, err := newClient(t, srv.URL, nil).History(t.Context(), historyID, "pw")
			if err == nil {
				t.Fatalf("History = %+v, want an error", h)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v does not match %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
			var apiErr *sdk.Error
			if errors.As(err, &apiErr) {
				t.Errorf("a 2xx answer gave an *sdk.Error: %v", err)
			}
		})
	}
}

func TestHealthIgnoresBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "anything")
	}))
	defer srv.Close()
	if err := newClient(t, srv.URL, nil).Health(t.Context()); err != nil {
		t.Errorf("Health: %v", err)
	}
}

func TestInvalidIDSendsNothing(t *testing.T) {
	s := newStub(t)
	c := newClient(t, s.srv.URL, nil)
	for _, id := range []string{"", "get", "../cancel", historyID + "/x", strings.ToUpper(historyID)[:35] + "g", strings.ReplaceAll(historyID, "-", "")} {
		if _, err := c.History(t.Context(), id, "pw"); err == nil {
			t.Errorf("History(%q) succeeded, want an error", id)
		}
		if _, err := c.Reservation(t.Context(), id, "pw"); err == nil {
			t.Errorf("Reservation(%q) succeeded, want an error", id)
		}
	}
	if n := len(s.requests()); n != 0 {
		t.Errorf("stub saw %d requests, want 0", n)
	}
	// Upper-case hex is a UUID too.
	s.answer("PATCH /payments/histories/{id}", sampleHistory())
	if _, err := c.History(t.Context(), strings.ToUpper(historyID), "pw"); err != nil {
		t.Errorf("History(upper-case id): %v", err)
	}
}

func TestBaseURLPathPrefix(t *testing.T) {
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
	}))
	defer srv.Close()
	for _, base := range []string{srv.URL + "/api", srv.URL + "/api/"} {
		if err := newClient(t, base, nil).Health(t.Context()); err != nil {
			t.Fatalf("Health via %s: %v", base, err)
		}
		if path != "/api/monitors/health" {
			t.Errorf("base %s: path = %q, want /api/monitors/health", base, path)
		}
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		opts sdk.Options
	}{
		{"empty base url", sdk.Options{Key: testKey, IV: testIV}},
		{"relative base url", sdk.Options{BaseURL: "127.0.0.1:37821", Key: testKey, IV: testIV}},
		{"other scheme", sdk.Options{BaseURL: "ftp://127.0.0.1", Key: testKey, IV: testIV}},
		{"query", sdk.Options{BaseURL: "http://127.0.0.1?x=1", Key: testKey, IV: testIV}},
		{"short key", sdk.Options{BaseURL: "http://127.0.0.1", Key: "short", IV: testIV}},
		{"short iv", sdk.Options{BaseURL: "http://127.0.0.1", Key: testKey, IV: "short"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, err := sdk.New(tt.opts); err == nil {
				t.Errorf("New(%+v) = %v, want an error", tt.opts, c)
			}
		})
	}
}

// hang answers once release is closed or the client went away.
func hang(release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(hang(release))
	defer srv.Close()
	defer close(release)

	tests := []struct {
		name string
		opts func(*sdk.Options)
	}{
		{"own client", func(o *sdk.Options) { o.Timeout = 50 * time.Millisecond }},
		{"given client", func(o *sdk.Options) {
			o.Timeout = 50 * time.Millisecond
			o.HTTPClient = &http.Client{}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, srv.URL, tt.opts)
			_, err := c.History(t.Context(), historyID, "pw")
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error = %v, want one matching context.DeadlineExceeded", err)
			}
		})
	}
}

func TestContextCancel(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(hang(release))
	defer srv.Close()
	defer close(release)

	c := newClient(t, srv.URL, func(o *sdk.Options) { o.Timeout = -1 })
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Performance(ctx)
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want one matching context.Canceled", err)
	}
}
