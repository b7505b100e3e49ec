package portone_test

import (
	"testing"

	"github.com/paymentctl/paymentctl/gateway/portone"
)

// FuzzParseWebhook checks that any body either parses into a webhook whose
// type is a bounded token and whose payment events name a payment, or is
// refused, without panicking.
func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"type":"Transaction.Paid","timestamp":"2024-05-01T00:00:00Z","data":{"paymentId":"p","storeId":"s","transactionId":"t"}}`))
	f.Add([]byte(`{"type":"BillingKey.Deleted","data":{"billingKey":"b","storeId":"s"}}`))
	f.Add([]byte(`{"type":"Transaction.Paid","data":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := portone.ParseWebhook(body)
		if err != nil {
			return
		}
		if w.Type == "" || len(w.Type) > 64 {
			t.Errorf("ParseWebhook accepted type %q", w.Type)
		}
		if w.IsTransaction() && w.Data.PaymentID == "" {
			t.Errorf("ParseWebhook accepted %s without a paymentId", w.Type)
		}
	})
}

// FuzzDecodePayment checks that any body decodes into a variant whose
// status is the body's, or is refused, without panicking.
func FuzzDecodePayment(f *testing.F) {
	f.Add([]byte(`{"status":"PAID","id":"p","amount":{"total":1}}`))
	f.Add([]byte(`{"status":"NEW"}`))
	f.Add([]byte(`{"status":"CANCELLED","cancellations":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := portone.DecodePayment(body)
		if err != nil {
			return
		}
		if p.Base().Status == "" && string(body) != "" {
			// A status of "" is a (strange) unrecognised one; it must
			// still be what the body said.
			if _, ok := p.(*portone.UnrecognizedPayment); !ok {
				t.Errorf("DecodePayment(%q) = %T with no status", body, p)
			}
		}
	})
}
