package sdk_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/sdk"
)

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHistoryData(t *testing.T) {
	imp := iamport.Payment{PaymentBase: iamport.PaymentBase{
		PayMethod: iamport.PayMethodCard, ImpUID: "imp_1", MerchantUID: source.ID,
		Amount: 10000, Currency: iamport.CurrencyKRW, Status: iamport.StatusPaid, PaidAt: 1773480413,
		CancelHistory: []iamport.PaymentCancel{},
	}, CardDetails: iamport.CardDetails{CardName: "신한카드", CardQuota: 0}}
	approved := "2026-03-14T18:26:53+09:00"
	tp := toss.Payment{PaymentKey: "pk_1", OrderID: source.ID, Method: toss.MethodCard, Status: toss.StatusDone, Currency: "KRW", TotalAmount: 10000, BalanceAmount: 10000, ApprovedAt: &approved}

	impHistory := sdk.History{VendorCode: sdk.VendorIamport, Data: mustJSON(t, imp)}
	tossHistory := sdk.History{VendorCode: sdk.VendorToss, Data: mustJSON(t, tp)}

	gotImp, err := impHistory.IamportPayment()
	if err != nil {
		t.Fatalf("IamportPayment: %v", err)
	}
	if diff := cmp.Diff(imp, *gotImp); diff != "" {
		t.Errorf("iamport payment mismatch (-want +got):\n%s", diff)
	}
	gotToss, err := tossHistory.TossPayment()
	if err != nil {
		t.Fatalf("TossPayment: %v", err)
	}
	if diff := cmp.Diff(tp, *gotToss); diff != "" {
		t.Errorf("toss payment mismatch (-want +got):\n%s", diff)
	}

	if _, err := impHistory.TossPayment(); !errors.Is(err, sdk.ErrVendorMismatch) {
		t.Errorf("TossPayment of an iamport history = %v, want %v", err, sdk.ErrVendorMismatch)
	}
	if _, err := tossHistory.IamportPayment(); !errors.Is(err, sdk.ErrVendorMismatch) {
		t.Errorf("IamportPayment of a toss history = %v, want %v", err, sdk.ErrVendorMismatch)
	}

	bad := []struct {
		name string
		h    sdk.History
	}{
		{"no data", sdk.History{VendorCode: sdk.VendorIamport}},
		{"null data", sdk.History{VendorCode: sdk.VendorIamport, Data: json.RawMessage("null")}},
		{"fractional amount", sdk.History{VendorCode: sdk.VendorIamport, Data: json.RawMessage(`{"amount":100.5}`)}},
		{"not an object", sdk.History{VendorCode: sdk.VendorIamport, Data: json.RawMessage(`[1]`)}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := tt.h.IamportPayment(); err == nil {
				t.Errorf("IamportPayment = %+v, want an error", p)
			}
		})
	}
}

func TestReservationData(t *testing.T) {
	name := "홍길동"
	key := iamport.BillingKey{CustomerUID: source.ID, PGProvider: "nice", CardName: "신한카드", CardNumber: "4092-****-****-1234", CustomerName: &name, Inserted: 1773480413, Updated: 1773480413}
	billing := toss.Billing{MID: "tosspayments", CustomerKey: source.ID, BillingKey: "bk_1", Method: toss.MethodCard, CardCompany: "신한", CardNumber: "4092****1234", AuthenticatedAt: "2026-03-14T18:26:53+09:00"}

	impR := sdk.Reservation{VendorCode: sdk.VendorIamport, Data: mustJSON(t, key)}
	tossR := sdk.Reservation{VendorCode: sdk.VendorToss, Data: mustJSON(t, billing)}

	gotKey, err := impR.IamportBillingKey()
	if err != nil {
		t.Fatalf("IamportBillingKey: %v", err)
	}
	if diff := cmp.Diff(key, *gotKey); diff != "" {
		t.Errorf("billing key mismatch (-want +got):\n%s", diff)
	}
	gotBilling, err := tossR.TossBilling()
	if err != nil {
		t.Fatalf("TossBilling: %v", err)
	}
	if diff := cmp.Diff(billing, *gotBilling); diff != "" {
		t.Errorf("billing mismatch (-want +got):\n%s", diff)
	}

	if _, err := impR.TossBilling(); !errors.Is(err, sdk.ErrVendorMismatch) {
		t.Errorf("TossBilling of an iamport reservation = %v, want %v", err, sdk.ErrVendorMismatch)
	}
	if _, err := tossR.IamportBillingKey(); !errors.Is(err, sdk.ErrVendorMismatch) {
		t.Errorf("IamportBillingKey of a toss reservation = %v, want %v", err, sdk.ErrVendorMismatch)
	}
	if _, err := (&sdk.Reservation{VendorCode: "paypal", Data: mustJSON(t, billing)}).TossBilling(); !errors.Is(err, sdk.ErrVendorMismatch) {
		t.Errorf("TossBilling of an unknown vendor = %v, want %v", err, sdk.ErrVendorMismatch)
	}
	if _, err := (&sdk.Reservation{VendorCode: sdk.VendorToss}).TossBilling(); err == nil {
		t.Error("TossBilling without data succeeded")
	}
}

// TestWebhookHistoryData decodes the payments of an event, as a receiver
// does to see what changed.
func TestWebhookHistoryData(t *testing.T) {
	before := iamport.Payment{PaymentBase: iamport.PaymentBase{ImpUID: "imp_1", Amount: 10000, Status: iamport.StatusPaid}}
	after := before
	after.CancelAmount, after.Status = 10000, iamport.StatusCancelled
	ev := sdk.WebhookHistory{
		Previous: sdk.History{VendorCode: sdk.VendorIamport, Data: mustJSON(t, before)},
		Current:  sdk.History{VendorCode: sdk.VendorIamport, Data: mustJSON(t, after)},
	}
	p, err := ev.Previous.IamportPayment()
	if err != nil {
		t.Fatal(err)
	}
	c, err := ev.Current.IamportPayment()
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != iamport.StatusPaid || c.Status != iamport.StatusCancelled || c.Remaining() != 0 {
		t.Errorf("previous %s, current %s with %d remaining; want paid, cancelled with 0", p.Status, c.Status, c.Remaining())
	}
}
