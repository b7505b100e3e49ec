package payment

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/internal/safetext"
	"github.com/paymentctl/paymentctl/sdk"
)

func TestWebhookUID(t *testing.T) {
	orderID := "0b7e2f4c-8c1a-4e55-9f1e-3c2d6a7b8e90"
	tests := []struct {
		name   string
		vendor sdk.VendorCode
		body   string
		want   event
		errHas string // non-empty: an error holding it
	}{
		{"iamport paid", sdk.VendorIamport, `{"imp_uid":"imp_123456789012","merchant_uid":"m-1","status":"paid"}`,
			event{uid: "imp_123456789012"}, ""},
		{"iamport ready is ignored", sdk.VendorIamport, `{"imp_uid":"imp_1","merchant_uid":"m-1","status":"ready"}`,
			event{uid: "imp_1", ignore: true}, ""},
		{"iamport without imp_uid", sdk.VendorIamport, `{"merchant_uid":"m"}`, event{}, "without imp_uid"},
		{"iamport NUL imp_uid", sdk.VendorIamport, `{"imp_uid":"\u0000"}`, event{}, `imp_uid: expected "imp_" and 1 to 64 letters or digits, got a value without that prefix`},
		{"iamport imp_uid alone", sdk.VendorIamport, `{"imp_uid":"imp_"}`, event{}, "imp_uid"},
		{"iamport UUID imp_uid", sdk.VendorIamport, `{"imp_uid":"` + orderID + `"}`, event{}, "imp_uid"},
		{"iamport imp_uid with a slash", sdk.VendorIamport, `{"imp_uid":"imp_1/2"}`, event{}, "imp_uid"},
		{"iamport long imp_uid", sdk.VendorIamport, `{"imp_uid":"imp_` + strings.Repeat("9", 65) + `"}`, event{}, `imp_uid: expected "imp_" and 1 to 64 letters or digits, got 65 characters`},
		{"iamport control in merchant_uid", sdk.VendorIamport, `{"imp_uid":"imp_1","merchant_uid":"a\tb"}`, event{}, "merchant_uid"},
		{"iamport odd status", sdk.VendorIamport, `{"imp_uid":"imp_1","status":"paid!"}`, event{}, "status"},
		{"toss status changed", sdk.VendorToss,
			`{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"tgen_20240213121814Abc12","orderId":"` + orderID + `","status":"DONE"}}`,
			event{uid: "tgen_20240213121814Abc12"}, ""},
		{"toss waiting is ignored", sdk.VendorToss,
			`{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"ABCDEFGHIJKLMNOPQRSTUVWXYZ","status":"WAITING_FOR_DEPOSIT"}}`,
			event{uid: "ABCDEFGHIJKLMNOPQRSTUVWXYZ", ignore: true}, ""},
		{"toss deposit callback", sdk.VendorToss, `{"secret":"ps_Z1aOwX7K8mYJZ7wPxzO03yQxzvNP","status":"DONE","orderId":"order-1_a="}`,
			event{orderID: "order-1_a=", secret: "ps_Z1aOwX7K8mYJZ7wPxzO03yQxzvNP"}, ""},
		{"toss unknown event is ignored", sdk.VendorToss, `{"eventType":"PAYOUT_STATUS_CHANGED","data":{}}`, event{ignore: true}, ""},
		{"toss NUL paymentKey", sdk.VendorToss, `{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"pk\u0000"}}`, event{}, `data.paymentKey`},
		{"toss paymentKey with a dot", sdk.VendorToss, `{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"a.b"}}`, event{}, `data.paymentKey`},
		{"toss long paymentKey", sdk.VendorToss, `{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"` + strings.Repeat("k", 201) + `"}}`, event{}, `data.paymentKey`},
		{"toss orderId with a space", sdk.VendorToss, `{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"pk","orderId":"a b"}}`, event{}, `data.orderId`},
		{"toss status with NUL", sdk.VendorToss, `{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"pk","status":"DONE\u0000"}}`, event{}, `data.status`},
		{"toss NUL event type", sdk.VendorToss, `{"eventType":"X\u0000","data":{}}`, event{}, `eventType`},
		{"toss deposit without orderId", sdk.VendorToss, `{"secret":"s","status":"DONE"}`, event{}, `orderId`},
		{"toss deposit bad secret", sdk.VendorToss, `{"secret":"my secret","status":"DONE","orderId":"o-1"}`, event{}, `secret: expected`},
		{"portone paid", sdk.VendorPortOne,
			`{"type":"Transaction.Paid","timestamp":"2026-12-04T10:00:00Z","data":{"paymentId":"` + orderID + `","storeId":"store-1","transactionId":"tx-1"}}`,
			event{uid: orderID}, ""},
		{"portone partial cancel", sdk.VendorPortOne,
			`{"type":"Transaction.PartialCancelled","timestamp":"2026-12-04T10:00:00Z","data":{"paymentId":"pay_1","storeId":"s","transactionId":"t","cancellationId":"c"}}`,
			event{uid: "pay_1"}, ""},
		{"portone cancelled", sdk.VendorPortOne, `{"type":"Transaction.Cancelled","data":{"paymentId":"a.b:c@d"}}`, event{uid: "a.b:c@d"}, ""},
		{"portone issued is ignored", sdk.VendorPortOne, `{"type":"Transaction.VirtualAccountIssued","data":{"paymentId":"p"}}`, event{ignore: true}, ""},
		{"portone ready is ignored", sdk.VendorPortOne, `{"type":"Transaction.Ready","data":{"paymentId":"p"}}`, event{ignore: true}, ""},
		{"portone billing key is ignored", sdk.VendorPortOne, `{"type":"BillingKey.Issued","data":{"billingKey":"bk","storeId":"s"}}`, event{ignore: true}, ""},
		{"portone unknown type is ignored", sdk.VendorPortOne, `{"type":"Payout.Settled","data":{}}`, event{ignore: true}, ""},
		{"portone without paymentId", sdk.VendorPortOne, `{"type":"Transaction.Paid","data":{}}`, event{}, "paymentId"},
		{"portone paymentId with a slash", sdk.VendorPortOne, `{"type":"Transaction.Paid","data":{"paymentId":"a/b"}}`, event{}, "data.paymentId"},
		{"portone NUL paymentId", sdk.VendorPortOne, `{"type":"Transaction.Paid","data":{"paymentId":"p\u0000"}}`, event{}, "data.paymentId"},
		{"portone long paymentId", sdk.VendorPortOne, `{"type":"Transaction.Paid","data":{"paymentId":"` + strings.Repeat("p", 201) + `"}}`, event{}, "data.paymentId"},
		{"portone NUL type", sdk.VendorPortOne, `{"type":"X\u0000","data":{}}`, event{}, "type"},
		{"portone not JSON", sdk.VendorPortOne, `[]`, event{}, "decode webhook"},
		{"unknown vendor", "paypal", `{}`, event{}, "unknown vendor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := webhookUID(tt.vendor, []byte(tt.body))
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("webhookUID(%s, %.60q) = %+v, %v; want an error with %q", tt.vendor, tt.body, got, err, tt.errHas)
				}
				if strings.Contains(err.Error(), "my secret") {
					t.Errorf("error echoes the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("webhookUID(%s, %.60q): %v", tt.vendor, tt.body, err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(event{})); diff != "" {
				t.Errorf("webhookUID(%s, %.60q) mismatch (-want +got):\n%s", tt.vendor, tt.body, diff)
			}
		})
	}
}

// FuzzWebhookUID fuzzes the parse of both PGs' webhook bodies. An accepted
// body names ids of its PG's formats (they reach a PG's URL, the logs and
// the database); a refused one gets a short, clean message (it reaches
// the PG as a 400, the logs and a job's error record).
func FuzzWebhookUID(f *testing.F) {
	for _, s := range []string{
		`{"imp_uid":"imp_123456789012","merchant_uid":"m-1","status":"paid"}`,
		`{"imp_uid":"\u0000","merchant_uid":"m","status":"paid"}`,
		`{"imp_uid":"imp_1\u0000"}`,
		"{\"imp_uid\":\"imp_\xff\"}",
		`{"imp_uid":"imp_1","merchant_uid":"\u0085"}`,
		`{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"pk","orderId":"o-1","status":"DONE"}}`,
		`{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"\u0000"}}`,
		`{"secret":"s","status":"DONE","orderId":"o-1"}`,
		`{"eventType":"PAYOUT_STATUS_CHANGED","data":{}}`,
		`{"eventType":"\u0000"}`,
		strings.Repeat("\x00", 64),
		`[]`, `null`, ``,
	} {
		f.Add(false, []byte(s))
		f.Add(true, []byte(s))
	}
	for _, w := range echoWebhooks() {
		if w.vendor != sdk.VendorPortOne {
			f.Add(w.vendor == sdk.VendorToss, []byte(w.body))
		}
	}
	f.Fuzz(func(t *testing.T, toss bool, body []byte) {
		vendor := sdk.VendorIamport
		if toss {
			vendor = sdk.VendorToss
		}
		ev, err := webhookUID(vendor, body)
		if err != nil {
			checkRefusal(t, vendor, body, err)
			return
		}
		for name, v := range map[string]string{"uid": ev.uid, "orderID": ev.orderID, "secret": ev.secret} {
			if v != "" && !safetext.Token(v, maxPaymentKey, "-_=") {
				t.Fatalf("webhookUID(%s, %q) accepted %s %q", vendor, body, name, v)
			}
		}
		if !ev.ignore && ev.uid == "" && (ev.orderID == "" || ev.secret == "") {
			t.Fatalf("webhookUID(%s, %q) = %+v: nothing to fetch", vendor, body, ev)
		}
	})
}

// FuzzPortOneEvent fuzzes the parse of PortOne V2 webhook bodies, as
// FuzzWebhookUID does the other PGs'.
func FuzzPortOneEvent(f *testing.F) {
	for _, s := range []string{
		`{"type":"Transaction.Paid","timestamp":"2026-12-04T10:00:00Z","data":{"paymentId":"p-1","storeId":"s","transactionId":"t"}}`,
		`{"type":"Transaction.Cancelled","data":{"paymentId":"\u0000"}}`,
		`{"type":"BillingKey.Deleted","data":{"billingKey":"bk"}}`,
		`{"type":"\u0085","data":{}}`,
		"{\"type\":\"Transaction.Paid\",\"data\":{\"paymentId\":\"\xff\"}}",
		`[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	for _, w := range echoWebhooks() {
		if w.vendor == sdk.VendorPortOne {
			f.Add([]byte(w.body))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := webhookUID(sdk.VendorPortOne, body)
		if err != nil {
			checkRefusal(t, sdk.VendorPortOne, body, err)
			return
		}
		if ev.ignore {
			return
		}
		if !safetext.Token(ev.uid, maxPortOnePaymentID, portonePaymentIDExtra) {
			t.Fatalf("webhookUID(portone, %q) accepted paymentId %q", body, ev.uid)
		}
	})
}

// echoMarker starts every hostile value of echoWebhooks: a refusal that
// holds it quotes what the sender sent.
const echoMarker = "zqxjvEcho"

// checkRefusal fails t unless err, webhookUID's refusal of body, is short,
// clean text without the sender's bytes (echoMarker).
func checkRefusal(t *testing.T, vendor sdk.VendorCode, body []byte, err error) {
	t.Helper()
	msg := err.Error()
	if len(msg) > 512 || strings.ContainsRune(msg, 0) || !utf8.ValidString(msg) {
		t.Fatalf("webhookUID(%s, %.80q) error %q: too long or not clean", vendor, body, msg)
	}
	if strings.Contains(msg, echoMarker) {
		t.Fatalf("webhookUID(%s, %.80q) error %q quotes the body", vendor, body, msg)
	}
}

// echoWebhook is a webhook body with a hostile value in one field.
type echoWebhook struct {
	name   string
	vendor sdk.VendorCode
	body   string
	field  string // what the refusal names
}

// echoWebhooks puts each hostile value (a NUL, invalid UTF-8, a quote, a
// newline, 1 MB, a number's literal, a bad character of the JSON itself)
// in each field the checks read.
func echoWebhooks() []echoWebhook {
	values := []struct{ name, literal string }{
		{"NUL", `\u0000`},
		{"invalid UTF-8", "\xff\xfe"},
		{"quote", `\"`},
		{"newline", `\nlevel=ERROR msg=forged`},
		{"slash", `/../x`},
		{"1 MB", strings.Repeat("m", 1<<20)},
	}
	fields := []struct {
		vendor      sdk.VendorCode
		field, body string // body with %s where the value goes
	}{
		{sdk.VendorIamport, "imp_uid", `{"imp_uid":"imp_%s","status":"paid"}`},
		{sdk.VendorIamport, "imp_uid", `{"imp_uid":"%s","status":"paid"}`},
		{sdk.VendorIamport, "merchant_uid", `{"imp_uid":"imp_1","merchant_uid":"%s","status":"paid"}`},
		{sdk.VendorIamport, "status", `{"imp_uid":"imp_1","status":"%s"}`},
		{sdk.VendorToss, "data.paymentKey", `{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"%s","status":"DONE"}}`},
		{sdk.VendorToss, "data.orderId", `{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"pk","orderId":"%s","status":"DONE"}}`},
		{sdk.VendorToss, "data.status", `{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"pk","status":"%s"}}`},
		{sdk.VendorToss, "eventType", `{"eventType":"%s","data":{}}`},
		{sdk.VendorToss, "orderId", `{"secret":"s","status":"DONE","orderId":"%s"}`},
		{sdk.VendorToss, "status", `{"secret":"s","status":"%s","orderId":"o-1"}`},
		{sdk.VendorPortOne, "type", `{"type":"%s","data":{}}`},
		{sdk.VendorPortOne, "data.paymentId", `{"type":"Transaction.Paid","data":{"paymentId":"%s"}}`},
	}
	var out []echoWebhook
	for _, f := range fields {
		for _, v := range values {
			body := strings.Replace(f.body, "%s", echoMarker+v.literal, 1)
			out = append(out, echoWebhook{string(f.vendor) + " " + f.field + " " + v.name, f.vendor, body, f.field})
		}
	}
	// encoding/json's own messages quote a number's literal and a bad
	// character.
	for _, vendor := range []sdk.VendorCode{sdk.VendorIamport, sdk.VendorToss, sdk.VendorPortOne} {
		out = append(out,
			echoWebhook{string(vendor) + " number literal", vendor, `{"imp_uid":1` + echoMarker + `,"eventType":1` + echoMarker + `,"type":1` + echoMarker + `}`, "JSON"},
			echoWebhook{string(vendor) + " number of the wrong type", vendor, `{"imp_uid":12345678901234567890,"eventType":12345678901234567890,"type":12345678901234567890}`, "wrong type"},
			echoWebhook{string(vendor) + " not an object", vendor, `"` + echoMarker + `"`, "JSON"},
		)
	}
	return out
}

// TestWebhookRefusalsDoNotEcho: a refused webhook's error names the field
// and what is wrong, without the value, whatever the value holds. The
// error reaches the poster's 400, the log and a job's error record.
func TestWebhookRefusalsDoNotEcho(t *testing.T) {
	for _, w := range echoWebhooks() {
		t.Run(w.name, func(t *testing.T) {
			got, err := webhookUID(w.vendor, []byte(w.body))
			if err == nil && w.field == "merchant_uid" {
				return // free text: a quote or a slash is fine, and encoding/json makes invalid UTF-8 U+FFFD
			}
			if err == nil {
				t.Fatalf("webhookUID(%s, %.80q) = %+v, want a refusal", w.vendor, w.body, got)
			}
			checkRefusal(t, w.vendor, []byte(w.body), err)
			if strings.Contains(w.body, "12345678901234567890") && strings.Contains(err.Error(), "12345678901234567890") {
				t.Errorf("webhookUID(%s, %.80q) error %q quotes the number", w.vendor, w.body, err)
			}
			if !strings.Contains(err.Error(), w.field) {
				t.Errorf("webhookUID(%s, %.80q) error %q does not name %s", w.vendor, w.body, err, w.field)
			}
		})
	}
}
