package toss

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPaymentJSONShape(t *testing.T) {
	approved := "2024-02-13T12:18:14+09:00"
	tests := []struct {
		name    string
		p       Payment
		null    []string // keys that must be present and null
		absent  []string // keys that must be absent
		present []string // keys that must be present and not null
	}{
		{
			name:    "new card payment",
			p:       Payment{Method: MethodCard, Status: StatusInProgress, Card: &Card{Number: "1"}},
			null:    []string{"approvedAt", "cancels", "cashReceipt", "discount", "easyPay"},
			absent:  []string{"secret", "failure", "lastTransactionKey", "virtualAccount", "transfer", "mobilePhone", "giftCertificate"},
			present: []string{"card", "mId", "version", "paymentKey", "transactionKey", "orderName", "totalAmount", "balanceAmount", "suppliedAmount", "vat", "taxFreeAmount", "useEscrow", "cultureExpense", "requestedAt"},
		},
		{
			name: "paid virtual account",
			p: Payment{Method: MethodVirtualAccount, Status: StatusDone, Secret: "s", ApprovedAt: &approved,
				VirtualAccount: &VirtualAccount{AccountNumber: "1"}, Cancels: []Cancel{{CancelAmount: 1}}},
			// Only the method's own keys: the SDK tells the union apart by them.
			absent:  []string{"card", "discount", "easyPay", "transfer", "mobilePhone", "giftCertificate"},
			present: []string{"secret", "virtualAccount", "approvedAt", "cancels"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.p)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range tt.null {
				if v, ok := m[k]; !ok || string(v) != "null" {
					t.Errorf("%s = %s (present %v), want null", k, v, ok)
				}
			}
			for _, k := range tt.absent {
				if v, ok := m[k]; ok {
					t.Errorf("%s = %s, want absent", k, v)
				}
			}
			for _, k := range tt.present {
				if v, ok := m[k]; !ok || string(v) == "null" {
					t.Errorf("%s = %s (present %v), want a value", k, v, ok)
				}
			}
		})
	}
}

func TestPaymentClone(t *testing.T) {
	approved := "2024-01-01T00:00:00+09:00"
	p := Payment{
		ApprovedAt:     &approved,
		Cancels:        []Cancel{{CancelAmount: 1}},
		Card:           &Card{AcquireStatus: AcquireStatusReady},
		VirtualAccount: &VirtualAccount{RefundReceiveAccount: &RefundAccount{HolderName: "a"}},
		CashReceipt:    &CashReceiptSummary{Amount: 1},
	}
	want := p.Clone()
	c := p.Clone()
	*c.ApprovedAt = "changed"
	c.Cancels[0].CancelAmount = 99
	c.Card.AcquireStatus = AcquireStatusCanceled
	c.VirtualAccount.RefundReceiveAccount.HolderName = "b"
	c.CashReceipt.Amount = 2
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("changing a clone changed the original (-want +got):\n%s", diff)
	}
}

func TestEasyPayJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want EasyPay
		out  string
	}{
		{"SDK string", `"토스결제"`, EasyPay{Provider: "토스결제"}, `"토스결제"`},
		{"real object", `{"provider":"토스페이","amount":1000,"discountAmount":100}`,
			EasyPay{Provider: "토스페이", Amount: 1000, DiscountAmount: 100},
			`{"provider":"토스페이","amount":1000,"discountAmount":100}`},
		{"object without amounts", `{"provider":"페이코","amount":0,"discountAmount":0}`, EasyPay{Provider: "페이코"}, `"페이코"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got EasyPay
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatalf("Unmarshal(%s): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Unmarshal(%s) = %+v, want %+v", tt.in, got, tt.want)
			}
			out, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.out {
				t.Errorf("Marshal = %s, want %s", out, tt.out)
			}
		})
	}
	var e EasyPay
	if err := json.Unmarshal([]byte(`[1]`), &e); err == nil {
		t.Error("Unmarshal([1]) succeeded, want an error")
	}
}

func TestTime(t *testing.T) {
	instant := time.Date(2024, 2, 13, 3, 18, 14, 123456000, time.UTC)
	if got, want := FormatTime(instant), "2024-02-13T12:18:14+09:00"; got != want {
		t.Errorf("FormatTime = %q, want %q", got, want)
	}
	if got, want := FormatWebhookTime(instant), "2024-02-13T12:18:14.123456"; got != want {
		t.Errorf("FormatWebhookTime = %q, want %q", got, want)
	}
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2024-02-13T12:18:14+09:00", instant.Truncate(time.Second)},
		{"2024-02-13T03:18:14.123456Z", instant},
		{"2024-02-13T12:18:14.123456", instant},
		{"2024-02-13", time.Date(2024, 2, 12, 15, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
	if _, err := ParseTime("Thu Jul 07 2022"); err == nil {
		t.Error("ParseTime(Date.toString form) succeeded, want an error")
	}
}

func TestParseWebhook(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    Event
		wantErr error // nil: any error when wantAny, else success
		wantAny bool
	}{
		{
			name: "status changed with the full payment",
			body: `{"eventType":"PAYMENT_STATUS_CHANGED","createdAt":"2024-02-13T12:18:14.123456",
				"data":{"paymentKey":"pk","orderId":"o1","status":"DONE","method":"카드","totalAmount":1000}}`,
			want: Event{Type: EventPaymentStatusChanged, StatusChanged: &PaymentStatusChanged{
				EventType: EventPaymentStatusChanged, CreatedAt: "2024-02-13T12:18:14.123456",
				Data: Payment{PaymentKey: "pk", OrderID: "o1", Status: StatusDone, Method: MethodCard, TotalAmount: 1000}}},
		},
		{
			name: "SDK's stub without createdAt",
			body: `{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"pk","orderId":"o1","status":"WAITING_FOR_DEPOSIT"}}`,
			want: Event{Type: EventPaymentStatusChanged, StatusChanged: &PaymentStatusChanged{
				EventType: EventPaymentStatusChanged,
				Data:      Payment{PaymentKey: "pk", OrderID: "o1", Status: StatusWaitingForDeposit}}},
		},
		{
			name: "flat deposit callback",
			body: `{"createdAt":"2024-02-13T12:18:14.000000","secret":"sec","status":"DONE","transactionKey":"tx","orderId":"o1"}`,
			want: Event{Type: EventDepositCallback, Deposit: &DepositCallback{
				CreatedAt: "2024-02-13T12:18:14.000000", Secret: "sec", Status: StatusDone, TransactionKey: "tx", OrderID: "o1"}},
		},
		{name: "payout event", body: `{"eventType":"PAYOUT_STATUS_CHANGED","data":{}}`, wantErr: ErrUnknownEvent},
		{name: "status change without a payment key", body: `{"eventType":"PAYMENT_STATUS_CHANGED","data":{}}`, wantAny: true},
		{name: "not JSON", body: `eventType=x`, wantAny: true},
		{name: "neither kind", body: `{"status":"DONE"}`, wantAny: true},
		// Not unknown events (which a caller ignores): malformed ones.
		{name: "NUL event type", body: `{"eventType":"PAYMENT_STATUS_CHANGED\u0000","data":{"paymentKey":"pk"}}`, wantAny: true},
		{name: "event type with a space", body: `{"eventType":"PAYOUT STATUS","data":{}}`, wantAny: true},
		{name: "over-long event type", body: `{"eventType":"` + strings.Repeat("A", 65) + `","data":{}}`, wantAny: true},
		{name: "empty event type", body: `{"eventType":"","secret":"s"}`, wantAny: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWebhook([]byte(tt.body))
			if tt.wantAny && errors.Is(err, ErrUnknownEvent) {
				t.Errorf("ParseWebhook error = %v, want a decode error, not an unknown event", err)
			}
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("ParseWebhook error = %v, want %v", err, tt.wantErr)
				}
			case tt.wantAny:
				if err == nil {
					t.Errorf("ParseWebhook = %+v, want an error", got)
				}
			default:
				if err != nil {
					t.Fatalf("ParseWebhook: %v", err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("ParseWebhook mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// FuzzParseWebhook checks that any body either decodes into exactly one
// event or fails with a short message: the message reaches the PG as a 400
// and the logs.
func FuzzParseWebhook(f *testing.F) {
	for _, s := range []string{
		`{"eventType":"PAYMENT_STATUS_CHANGED","createdAt":"2024-02-13T12:18:14.123456","data":{"paymentKey":"pk","orderId":"o1","status":"DONE"}}`,
		`{"createdAt":"2024-02-13T12:18:14.000000","secret":"sec","status":"DONE","transactionKey":"tx","orderId":"o1"}`,
		`{"eventType":"DEPOSIT_CALLBACK","secret":"sec","orderId":"o1","status":"WAITING_FOR_DEPOSIT"}`,
		`{"eventType":"PAYOUT_STATUS_CHANGED","data":{}}`,
		`{"eventType":"PAYMENT_STATUS_CHANGED\u0000","data":{"paymentKey":"pk"}}`,
		`{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"\u0000"}}`,
		`{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"a\xffb"}}`,
		`{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":1}}`,
		"{\"eventType\":\"\xff\"}",
		`{"secret":null}`, `[]`, `null`, ``, `{"data":null,"secret":"s"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseWebhook(body)
		if err != nil {
			if msg := err.Error(); len(msg) > 512 || strings.ContainsRune(msg, 0) {
				t.Fatalf("ParseWebhook(%q) error too long or with NUL: %q", body, msg)
			}
			return
		}
		switch ev.Type {
		case EventPaymentStatusChanged:
			if ev.StatusChanged == nil || ev.Deposit != nil || ev.StatusChanged.Data.PaymentKey == "" {
				t.Fatalf("ParseWebhook(%q) = %+v", body, ev)
			}
		case EventDepositCallback:
			if ev.Deposit == nil || ev.StatusChanged != nil {
				t.Fatalf("ParseWebhook(%q) = %+v", body, ev)
			}
		default:
			t.Fatalf("ParseWebhook(%q) = %+v: unknown type", body, ev)
		}
	})
}

func TestStatusPaid(t *testing.T) {
	for s, want := range map[Status]bool{
		StatusDone: true, StatusPartialCanceled: true, StatusCanceled: false,
		StatusWaitingForDeposit: false, StatusInProgress: false, StatusAborted: false,
	} {
		if got := s.Paid(); got != want {
			t.Errorf("%s.Paid() = %v, want %v", s, got, want)
		}
	}
}
