package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/migrations"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// Issue 9, "Hostile input": whatever a client or a forged PG webhook
// sends, the answer is a 4xx with a short message, never a 5xx, on SQLite
// and on PostgreSQL.

// maxRefusal bounds the body of a refusal: a message names the field and
// says what is wrong with the value, without quoting it.
const maxRefusal = 600

// echoMarker starts the hostile values: a refusal that holds it quotes
// what the client sent.
const echoMarker = "zqxjvEcho"

// hostile is a bad value for a string field, as the JSON literal sent
// (raw bytes, so invalid UTF-8 reaches the server as it is).
type hostile struct {
	name    string
	literal string
	// notUTF8 marks a body the decoder refuses as a whole, before any
	// field is looked at.
	notUTF8 bool
}

// hostileValues are tried in every string field of every route; bound is
// the field's length limit. Each but "only NUL" starts with echoMarker.
func hostileValues(bound int) []hostile {
	return []hostile{
		{name: "NUL", literal: `"` + echoMarker + `\u0000b"`},
		{name: "only NUL", literal: `"\u0000"`},
		{name: "control character", literal: `"` + echoMarker + `\u0001b"`},
		{name: "newline", literal: `"` + echoMarker + `\nb"`},
		{name: "DEL", literal: `"` + echoMarker + `\u007fb"`},
		{name: "C1 control", literal: `"` + echoMarker + `\u0085b"`},
		{name: "escape sequence", literal: `"` + echoMarker + `\u001b[31mred"`},
		{name: "invalid UTF-8", literal: "\"" + echoMarker + "\xffb\"", notUTF8: true},
		{name: "cut character", literal: "\"" + echoMarker + "결"[:2] + "\"", notUTF8: true},
		{name: "one over the bound", literal: `"` + echoMarker + strings.Repeat("a", bound+1-len(echoMarker)) + `"`},
		{name: "760 KB", literal: `"` + echoMarker + strings.Repeat("a", 760<<10) + `"`},
	}
}

// apiField is a string field of a route and its bound.
type apiField struct {
	path  string // dotted path in the body, as the message names it
	bound int
}

// apiRoute is an encrypted route with a valid body to spoil.
type apiRoute struct {
	method, path string
	body         map[string]any
	fields       []apiField
}

// apiRoutes are the routes that take a body, with every string field.
func apiRoutes(h *harness) []apiRoute {
	vendor := func() map[string]any {
		return map[string]any{"code": "iamport", "store_id": iamportStoreID, "uid": "imp_123456789012"}
	}
	source := func() map[string]any {
		return map[string]any{"schema": "some-schema", "table": "some-table", "id": uuid.NewString()}
	}
	vendorFields := []apiField{{"vendor.code", 16}, {"vendor.store_id", 128}, {"vendor.uid", 200}}
	sourceFields := []apiField{{"source.schema", 64}, {"source.table", 64}, {"source.id", 36}}
	accessor := func() map[string]any {
		return map[string]any{"schema": "some-schema", "table": "some-table", "id": uuid.NewString(), "password": testPassword}
	}
	accessorFields := []apiField{{"schema", 64}, {"table", 64}, {"id", 36}, {"password", 256}}
	id := uuid.NewString()
	return []apiRoute{
		{"POST", "/payments/histories", map[string]any{
			"vendor": vendor(), "source": source(), "price": 1000, "password": testPassword, "webhook_url": h.webhookURL(),
		}, append(append(vendorFields, sourceFields...), apiField{"password", 256}, apiField{"webhook_url", 1024})},
		{"PUT", "/payments/histories/cancel", map[string]any{
			"source": source(), "password": testPassword, "price": 1000, "reason": "customer asked",
			"account": map[string]any{"bank": "신한은행", "account": "110-123-456789", "holder": "홍길동", "mobile": "010-1234-5678"},
		}, append(sourceFields, apiField{"password", 256}, apiField{"reason", 1000}, apiField{"account.bank", 64},
			apiField{"account.account", 64}, apiField{"account.holder", 128}, apiField{"account.mobile", 32})},
		{"PATCH", "/payments/histories/get", accessor(), accessorFields},
		{"PATCH", "/payments/histories/" + id, map[string]any{"password": testPassword}, []apiField{{"password", 256}}},
		{"POST", "/payments/reservations", map[string]any{
			"vendor": vendor(), "source": source(), "title": "some-title", "password": testPassword,
		}, append(append(vendorFields, sourceFields...), apiField{"title", 256}, apiField{"password", 256})},
		{"PATCH", "/payments/reservations/get", accessor(), accessorFields},
		{"PATCH", "/payments/reservations/" + id, map[string]any{"password": testPassword}, []apiField{{"password", 256}}},
	}
}

// placeholder marks the spoilt field in a marshalled body.
const placeholder = "\"\u2063hostile\u2063\""

// spoil returns body as JSON with the field at path set to the raw JSON
// literal.
func spoil(t *testing.T, body map[string]any, path, literal string) []byte {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	m := doc
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		m = m[k].(map[string]any)
	}
	m[keys[len(keys)-1]] = strings.Trim(placeholder, `"`)
	b, err = json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	ph, _ := json.Marshal(strings.Trim(placeholder, `"`))
	return bytes.Replace(b, ph, []byte(literal), 1)
}

// send makes an API request with plain encrypted as the SDK does, and
// returns the status and the body.
func (h *harness) send(method, path string, plain []byte, header http.Header) (int, string) {
	h.t.Helper()
	c, err := wirecrypt.New(connectionKey, connectionIV)
	if err != nil {
		h.t.Fatal(err)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, bytes.NewReader(c.Encrypt(plain)))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", wirecrypt.ContentType)
	for k, v := range header {
		req.Header[k] = v
	}
	return h.do(req)
}

// do sends req and returns the status and the body.
func (h *harness) do(req *http.Request) (int, string) {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// checkRefusal fails unless the answer is want with a short body holding
// every fragment of has and nothing of what was sent (echoMarker).
func checkRefusal(t *testing.T, status int, body string, want int, has ...string) {
	t.Helper()
	if status != want {
		t.Errorf("status %d (%.200s), want %d", status, body, want)
	}
	if len(body) > maxRefusal {
		t.Errorf("refusal of %d bytes, want at most %d: %.200s…", len(body), maxRefusal, body)
	}
	for _, s := range has {
		if !strings.Contains(body, s) {
			t.Errorf("refusal %.300s lacks %q", body, s)
		}
	}
	if strings.Contains(body, `\u0000`) || !json.Valid([]byte(body)) {
		t.Errorf("refusal is not clean JSON: %.300q", body)
	}
	if strings.Contains(body, echoMarker) {
		t.Errorf("refusal quotes what was sent: %.300s", body)
	}
}

func TestHostileAPIInput(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		// Hundreds of bad bodies from one address: the throttle would answer
		// 429 long before the end, which TestThrottle covers.
		h := startWith(t, dsn(t), map[string]string{"PAYMENT_THROTTLE_FAILURES": "0"}, nil)
		for _, r := range apiRoutes(h) {
			for _, f := range r.fields {
				t.Run(r.method+" "+strings.ReplaceAll(r.path, "/", "_")+" "+f.path, func(t *testing.T) {
					for _, v := range hostileValues(f.bound) {
						status, body := h.send(r.method, r.path, spoil(t, r.body, f.path, v.literal), nil)
						if v.notUTF8 {
							// Not UTF-8 is not JSON: the one answer every
							// unusable body gets (no padding oracle).
							checkRefusal(t, status, body, http.StatusBadRequest, "Failed to decrypt the request body.")
						} else {
							checkRefusal(t, status, body, http.StatusBadRequest, "$input."+f.path)
						}
					}
				})
			}
		}
		t.Run("numbers", func(t *testing.T) {
			r := apiRoutes(h)[0]
			for _, lit := range []string{`1e400`, `99999999999999999999`, `-1`, `1.5`, `"1000"`, `null`, `{"a":1}`, strings.Repeat("9", 700<<10)} {
				status, body := h.send(r.method, r.path, spoil(t, r.body, "price", lit), nil)
				checkRefusal(t, status, body, http.StatusBadRequest, "$input.price")
			}
		})
		t.Run("Idempotency-Key", func(t *testing.T) {
			r := apiRoutes(h)[0]
			plain, _ := json.Marshal(r.body)
			for _, key := range []string{"\xff\xfe", "결제", strings.Repeat("k", 256)} {
				status, body := h.send(r.method, r.path, plain, http.Header{"Idempotency-Key": {key}})
				checkRefusal(t, status, body, http.StatusBadRequest, "Idempotency-Key")
			}
		})
	})
}

func TestHostilePathIDs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		hist := paid(t, h, methods()[0], 1000)
		id := uuid.NewString()
		password, _ := json.Marshal(sdk.Password{Password: testPassword})
		for _, base := range []string{"/payments/histories/", "/payments/reservations/"} {
			for _, tt := range []struct {
				name, id string // id as it appears in the escaped path
			}{
				{"urn:uuid", "urn:uuid:" + id},
				{"braces", "%7B" + id + "%7D"},
				{"no hyphens", strings.ReplaceAll(id, "-", "")},
				{"35 characters", id[:35]},
				{"37 characters", id + "0"},
				{"hyphens misplaced", id[:7] + "-" + id[7:8] + id[9:]},
				{"NUL", "%00"},
				{"NUL in a UUID", id[:35] + "%00"},
				{"invalid UTF-8", id[:35] + "%FF"},
				{"marked NUL", echoMarker + "%00"},
				{"marked quote", echoMarker + "%22"},
				{"marked newline", echoMarker + "%0A"},
				{"100 KB", echoMarker + strings.Repeat("a", 100<<10)},
			} {
				t.Run(base+tt.name, func(t *testing.T) {
					status, body := h.send("PATCH", base+tt.id, password, nil)
					checkRefusal(t, status, body, http.StatusBadRequest, "id")
				})
			}
			t.Run(base+"upper case, unknown", func(t *testing.T) {
				status, body := h.send("PATCH", base+strings.ToUpper(id), password, nil)
				checkRefusal(t, status, body, http.StatusNotFound)
			})
		}
		t.Run("upper case finds the history", func(t *testing.T) {
			got, err := h.api.History(context.Background(), strings.ToUpper(hist.ID), testPassword)
			if err != nil || got.ID != hist.ID {
				t.Errorf("History(%s) = %+v, %v; want %s", strings.ToUpper(hist.ID), got, err, hist.ID)
			}
		})
	})
}

// pgWebhook is a request to a PG webhook route.
type pgWebhook struct {
	name, route, contentType, body string
	want                           int
}

const (
	iamportRoute = "/payments/webhooks/iamport"
	tossRoute    = "/payments/webhooks/toss"
	jsonType     = "application/json"
	formType     = "application/x-www-form-urlencoded"
)

func hostileWebhooks() []pgWebhook {
	big := strings.Repeat("a", 65<<10)
	return []pgWebhook{
		{"iamport NUL imp_uid", iamportRoute, jsonType, `{"imp_uid":"\u0000","merchant_uid":"m","status":"paid"}`, 400},
		{"iamport NUL after imp_uid", iamportRoute, jsonType, `{"imp_uid":"imp_1\u0000","merchant_uid":"m","status":"paid"}`, 400},
		{"iamport form NUL imp_uid", iamportRoute, formType, `imp_uid=%00&merchant_uid=m&status=paid`, 400},
		{"iamport form invalid UTF-8", iamportRoute, formType, `imp_uid=imp_1%FF&merchant_uid=m&status=paid`, 400},
		{"iamport form control in merchant_uid", iamportRoute, formType, `imp_uid=imp_1&merchant_uid=a%01b&status=paid`, 400},
		{"iamport imp_uid with a path", iamportRoute, jsonType, `{"imp_uid":"imp_1/../2","status":"paid"}`, 400},
		{"iamport imp_uid without its prefix", iamportRoute, jsonType, `{"imp_uid":"` + uuid.NewString() + `","status":"paid"}`, 400},
		{"iamport imp_uid over-long", iamportRoute, jsonType, `{"imp_uid":"imp_` + strings.Repeat("1", 65) + `","status":"paid"}`, 400},
		{"iamport C1 in merchant_uid", iamportRoute, jsonType, `{"imp_uid":"imp_1","merchant_uid":"\u0085","status":"paid"}`, 400},
		{"iamport control in status", iamportRoute, jsonType, `{"imp_uid":"imp_1","status":"paid\u0001"}`, 400},
		{"iamport NUL in a field not read", iamportRoute, jsonType, `{"imp_uid":"imp_1","status":"paid","x":["\u0000"]}`, 400},
		{"iamport invalid UTF-8", iamportRoute, jsonType, "{\"imp_uid\":\"imp_1\",\"merchant_uid\":\"\xff\"}", 400},
		{"iamport 65 KB", iamportRoute, jsonType, `{"imp_uid":"imp_1","merchant_uid":"` + big + `"}`, 413},
		{"iamport form 65 KB", iamportRoute, formType, `imp_uid=imp_1&merchant_uid=` + big, 413},
		{"iamport 760 KB imp_uid", iamportRoute, jsonType, `{"imp_uid":"` + strings.Repeat("1", 760<<10) + `"}`, 413},
		{"toss NUL paymentKey", tossRoute, jsonType, `{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"\u0000","orderId":"o-1","status":"DONE"}}`, 400},
		{"toss paymentKey with a slash", tossRoute, jsonType, `{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"a/b","status":"DONE"}}`, 400},
		{"toss paymentKey over-long", tossRoute, jsonType, `{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"` + strings.Repeat("k", 201) + `","status":"DONE"}}`, 400},
		{"toss orderId with a space", tossRoute, jsonType, `{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"pk","orderId":"o 1","status":"DONE"}}`, 400},
		{"toss NUL event type", tossRoute, jsonType, `{"eventType":"PAYMENT_STATUS_CHANGED\u0000","data":{"paymentKey":"pk"}}`, 400},
		{"toss control in status", tossRoute, jsonType, `{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"pk","status":"DONE\u001b"}}`, 400},
		{"toss NUL in a field not read", tossRoute, jsonType, `{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"pk","orderName":"\u0000","status":"DONE"}}`, 400},
		{"toss deposit NUL orderId", tossRoute, jsonType, `{"secret":"s","status":"DONE","orderId":"\u0000"}`, 400},
		{"toss deposit bad secret", tossRoute, jsonType, `{"secret":"not so secret","status":"DONE","orderId":"o-1"}`, 400},
		{"toss invalid UTF-8", tossRoute, jsonType, "{\"eventType\":\"\xff\"}", 400},
		{"iamport marked imp_uid", iamportRoute, jsonType, `{"imp_uid":"imp_` + echoMarker + `\"\n","status":"paid"}`, 400},
		{"iamport marked number", iamportRoute, jsonType, `{"imp_uid":1` + strings.Repeat("0", 30) + `,"merchant_uid":"` + echoMarker + `"}`, 400},
		{"iamport form marked field name", iamportRoute, formType, echoMarker + `%00=1&imp_uid=imp_1&status=paid`, 400},
		{"toss marked eventType", tossRoute, jsonType, `{"eventType":"` + echoMarker + `\u0000","data":{}}`, 400},
		{"toss marked orderId", tossRoute, jsonType, `{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"pk","orderId":"` + echoMarker + `/..","status":"DONE"}}`, 400},
		{"toss 65 KB", tossRoute, jsonType, `{"eventType":"PAYOUT_STATUS_CHANGED","data":{"x":"` + big + `"}}`, 413},
	}
}

func TestHostilePGWebhooks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		post := func(w pgWebhook) (int, string) {
			req, err := http.NewRequest(http.MethodPost, h.srv.URL+w.route, strings.NewReader(w.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", w.contentType)
			return h.do(req)
		}
		for _, w := range hostileWebhooks() {
			t.Run(w.name, func(t *testing.T) {
				status, body := post(w)
				checkRefusal(t, status, body, w.want)
				if strings.Contains(body, "not so secret") {
					t.Errorf("refusal echoes the deposit secret: %s", body)
				}
			})
		}
		// What the PGs really send still gets through.
		for _, w := range []pgWebhook{
			{"iamport form", iamportRoute, formType, `imp_uid=imp_123456789012&merchant_uid=m-1&status=ready`, 201},
			{"iamport JSON", iamportRoute, jsonType, `{"imp_uid":"imp_123456789012","merchant_uid":"m-1","status":"failed"}`, 201},
			{"toss unknown event", tossRoute, jsonType, `{"eventType":"PAYOUT_STATUS_CHANGED","data":{"note":"tab\tand newline\n"}}`, 200},
			{"toss waiting for deposit", tossRoute, jsonType, `{"eventType":"PAYMENT_STATUS_CHANGED","createdAt":"2024-02-13T12:18:14.123456","data":{"paymentKey":"tgen_20240213121814Abc12","orderId":"` + uuid.NewString() + `","status":"WAITING_FOR_DEPOSIT"}}`, 200},
		} {
			t.Run("accepted "+w.name, func(t *testing.T) {
				if status, body := post(w); status != w.want {
					t.Errorf("status %d (%s), want %d", status, body, w.want)
				}
			})
		}
		h.drainJobs()
	})
}

// TestHostileWebhookJobs is issue 9's test: the NUL webhook is refused
// with 400, and the same body stored as a job anyway (as a receiver
// without the checks did) does not affect later jobs: on PostgreSQL its
// error record once failed River's whole completion batch, so the jobs
// around it ran again and delivered twice. Here the service's own checks
// end such a job with a clean error; that River gets clean text whatever
// a job's error says is TestHostileErrorTextDoesNotStallQueue's
// (server/webhook).
func TestHostileWebhookJobs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		ctx := context.Background()
		nul := `{"imp_uid":"\u0000","merchant_uid":"m","status":"paid"}`
		resp, err := http.Post(h.srv.URL+iamportRoute, jsonType, strings.NewReader(nul))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("NUL webhook answered %d, want 400", resp.StatusCode)
		}

		raw := []struct {
			vendor sdk.VendorCode
			body   string
		}{
			{sdk.VendorIamport, nul},
			{sdk.VendorIamport, `{"imp_uid":"imp_1\u0000","status":"paid"}`},
			{sdk.VendorIamport, "{\"imp_uid\":\"imp_\xff\xfe\",\"status\":\"paid\"}"},
			{sdk.VendorIamport, strings.Repeat("\x00", 1000)},
			// Well-formed, no such payment here: kept as pending without
			// asking the PG (a completed job, not a cancelled one).
			{sdk.VendorIamport, `{"imp_uid":"imp_404404404404","status":"paid"}`},
			{sdk.VendorToss, `{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"\u0000pk","status":"DONE"}}`},
		}
		for _, r := range raw {
			if err := h.srv.EnqueueRawInbound(ctx, r.vendor, []byte(r.body)); err != nil {
				t.Fatalf("enqueue %.40q: %v", r.body, err)
			}
		}
		// Later jobs: deposits into virtual accounts, each an inbound job
		// and a delivery.
		before := len(h.srv.Inbox.Events())
		var hists []*sdk.History
		for _, m := range []method{methods()[1], methods()[3], methods()[1], methods()[3]} {
			hists = append(hists, paid(t, h, m, 5000))
		}
		h.drainJobs()

		rows, err := h.srv.Store.SQLDB().QueryContext(ctx, "SELECT kind, state, attempt FROM river_job")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cancelled := 0
		for rows.Next() {
			var kind, state string
			var attempt int
			if err := rows.Scan(&kind, &state, &attempt); err != nil {
				t.Fatal(err)
			}
			switch {
			case state == "cancelled" && kind == "webhook_inbound":
				cancelled++
			case state != "completed":
				t.Errorf("a %s job is %s, want completed", kind, state)
			}
			if attempt != 1 {
				t.Errorf("a %s job (%s) ran %d times, want once", kind, state, attempt)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if cancelled != len(raw)-1 {
			t.Errorf("%d inbound jobs cancelled, want the %d hostile ones", cancelled, len(raw)-1)
		}
		errorsText := "SELECT errors FROM river_job WHERE state = 'cancelled'"
		if h.srv.Store.Dialect() == migrations.Postgres {
			errorsText = "SELECT errors::text FROM river_job WHERE state = 'cancelled'"
		}
		var records []string
		erows, err := h.srv.Store.SQLDB().QueryContext(ctx, errorsText)
		if err != nil {
			t.Fatal(err)
		}
		defer erows.Close()
		for erows.Next() {
			var s string
			if err := erows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			records = append(records, s)
		}
		for _, s := range records {
			if strings.Contains(s, `\u0000`) || len(s) > 2048 {
				t.Errorf("stored job error is not clean: %.300s (%d bytes)", s, len(s))
			}
		}

		evs := h.srv.Inbox.Events()[before:]
		seen := map[string]int{}
		for _, ev := range evs {
			seen[ev.ID]++
		}
		for _, hist := range hists {
			n := 0
			for _, ev := range evs {
				if ev.Current.ID == hist.ID {
					n++
				}
			}
			if n != 1 {
				t.Errorf("history %s: %d events delivered, want 1", hist.ID, n)
			}
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("event %s delivered %d times", id, n)
			}
		}
	})
}
