package portone_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/gateway/portone"
)

const commonFields = `"id":"order-1","transactionId":"tx-1","merchantId":"m","storeId":"store-1","version":"V2",
	"requestedAt":"2024-05-01T10:00:00+09:00","updatedAt":"2024-05-01T10:00:00+09:00","statusChangedAt":"2024-05-01T10:00:00+09:00",
	"orderName":"o","amount":{"total":1000,"taxFree":0,"discount":0,"paid":1000,"cancelled":300,"cancelledTaxFree":0},
	"currency":"KRW","customer":{},"futureField":{"x":1}`

func TestDecodePayment(t *testing.T) {
	tests := []struct {
		status string
		extra  string
		want   portone.Payment
	}{
		{"READY", "", &portone.ReadyPayment{}},
		{"PAY_PENDING", `,"channel":{"type":"TEST","pgProvider":"TOSSPAYMENTS","pgMerchantId":"x"}`, &portone.PayPendingPayment{}},
		{"VIRTUAL_ACCOUNT_ISSUED", `,"method":{"type":"PaymentMethodVirtualAccount","bank":"SHINHAN","accountNumber":"123","expiredAt":"2024-05-08T00:00:00Z"}`, &portone.VirtualAccountIssuedPayment{}},
		{"PAID", `,"paidAt":"2024-05-01T01:00:00Z","disputes":[],"method":{"type":"PaymentMethodEasyPay","provider":"KAKAOPAY","easyPayMethod":{"type":"PaymentMethodCard"}}`, &portone.PaidPayment{}},
		{"PARTIAL_CANCELLED", `,"cancelledAt":"2024-05-02T00:00:00Z","cancellations":[{"status":"SUCCEEDED","id":"c","totalAmount":300,"taxFreeAmount":0,"vatAmount":27,"reason":"r","requestedAt":"2024-05-02T00:00:00Z"}]`, &portone.PartialCancelledPayment{}},
		{"CANCELLED", `,"cancelledAt":"2024-05-02T00:00:00Z","cancellations":[]`, &portone.CancelledPayment{}},
		{"FAILED", `,"failedAt":"2024-05-02T00:00:00Z","failure":{"reason":"declined","pgCode":"X"}`, &portone.FailedPayment{}},
		{"SOMETHING_LATER", "", &portone.UnrecognizedPayment{}},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			body := `{"status":"` + tt.status + `",` + commonFields + tt.extra + `}`
			p, err := portone.DecodePayment([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if reflect.TypeOf(p) != reflect.TypeOf(tt.want) {
				t.Fatalf("DecodePayment = %T, want %T", p, tt.want)
			}
			b := p.Base()
			if string(b.Status) != tt.status || b.ID != "order-1" || b.StoreID != "store-1" || b.Cancellable() != 700 {
				t.Errorf("base = %+v, cancellable %d", b, b.Cancellable())
			}
			if !b.RequestedAt.Equal(time.Date(2024, 5, 1, 1, 0, 0, 0, time.UTC)) {
				t.Errorf("requestedAt = %v", b.RequestedAt)
			}
			// Encoding gives the status back, and decoding that the same
			// variant.
			out, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			again, err := portone.DecodePayment(out)
			if err != nil {
				t.Fatal(err)
			}
			if reflect.TypeOf(again) != reflect.TypeOf(tt.want) || string(again.Base().Status) != tt.status {
				t.Errorf("round trip = %T %s from %s", again, again.Base().Status, out)
			}
		})
	}
}

func TestPaymentRequiredLists(t *testing.T) {
	// The SDK's types say disputes and cancellations are arrays: a
	// variant made in Go without them still encodes [].
	tests := []struct {
		p    portone.Payment
		want string
	}{
		{&portone.PaidPayment{}, `"disputes":[]`},
		{&portone.PartialCancelledPayment{}, `"cancellations":[]`},
		{&portone.CancelledPayment{}, `"cancellations":[]`},
		{&portone.PaidPayment{}, `"status":"PAID"`},
		{&portone.FailedPayment{}, `"status":"FAILED"`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), tt.want) {
			t.Errorf("json.Marshal(%T) = %s, want it to contain %s", tt.p, b, tt.want)
		}
		if strings.Contains(string(b), `"paidAt":"0001`) && reflect.TypeOf(tt.p) != reflect.TypeOf(&portone.PaidPayment{}) {
			t.Errorf("json.Marshal(%T) = %s sends a zero optional time", tt.p, b)
		}
	}
}

func TestDecodePaymentErrors(t *testing.T) {
	for _, body := range []string{`"oops"`, `{}`, `{"status":1}`, `{"status":"PAID","amount":"x"}`, `not json`} {
		if p, err := portone.DecodePayment([]byte(body)); err == nil {
			t.Errorf("DecodePayment(%s) = %T, want an error", body, p)
		}
	}
}

func TestUnrecognizedKeepsTheBody(t *testing.T) {
	body := `{"status":"NEW","id":"p","surprise":true}`
	p, err := portone.DecodePayment([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(p)
	if string(out) != body {
		t.Errorf("json.Marshal = %s, want %s", out, body)
	}
}
