package iamport

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAmountUnmarshal(t *testing.T) {
	tests := []struct {
		in      string
		want    Amount
		wantErr bool
	}{
		{in: `1000`, want: 1000},
		{in: `1000.0`, want: 1000},
		{in: `1e3`, want: 1000},
		{in: `-500`, want: -500},
		{in: `0`, want: 0},
		{in: `null`, want: 0},
		{in: `9007199254740993`, want: 9007199254740993},
		{in: `1000.5`, wantErr: true},
		{in: `"1000"`, wantErr: true},
		{in: `true`, wantErr: true},
		{in: `1e300`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got struct {
				A Amount `json:"a"`
			}
			err := json.Unmarshal([]byte(`{"a":`+tt.in+`}`), &got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Unmarshal(%s) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err == nil && got.A != tt.want {
				t.Errorf("Unmarshal(%s) = %d, want %d", tt.in, got.A, tt.want)
			}
		})
	}
}

func TestTimestampUnmarshal(t *testing.T) {
	tests := []struct {
		in      string
		want    Timestamp
		wantErr bool
	}{
		{in: `1700000000`, want: 1700000000},
		{in: `1700000000.987`, want: 1700000000},
		{in: `null`, want: 0},
		{in: `"1700000000"`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got Timestamp
			err := json.Unmarshal([]byte(tt.in), &got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Unmarshal(%s) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Unmarshal(%s) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestTimestampTime(t *testing.T) {
	if got := Timestamp(0).Time(); !got.IsZero() {
		t.Errorf("Timestamp(0).Time() = %v, want zero", got)
	}
	at := time.Date(2024, 12, 2, 9, 0, 0, 0, time.UTC)
	if got := TimestampOf(at).Time(); !got.Equal(at) {
		t.Errorf("round trip = %v, want %v", got, at)
	}
	if got := TimestampOf(time.Time{}); got != 0 {
		t.Errorf("TimestampOf(zero) = %d, want 0", got)
	}
}

func TestPaymentMarshalOnlyOwnDetails(t *testing.T) {
	name := "order"
	tests := []struct {
		method  PayMethod
		present []string
		absent  []string
	}{
		{PayMethodCard, []string{"card_code", "card_quota", "apply_num"}, []string{"vbank_num", "bank_code"}},
		{PayMethodSamsung, []string{"card_number"}, []string{"vbank_code"}},
		{PayMethodVBank, []string{"vbank_num", "vbank_issued_at", "vbank_holder"}, []string{"card_code", "bank_name"}},
		{PayMethodTrans, []string{"bank_code", "bank_name"}, []string{"card_code", "vbank_num"}},
		{PayMethodKakaoPay, nil, []string{"card_code", "vbank_num", "bank_code"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.method), func(t *testing.T) {
			p := Payment{PaymentBase: PaymentBase{PayMethod: tt.method, ImpUID: "imp_1", Name: &name, Amount: 1000}}
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range tt.present {
				if _, ok := m[k]; !ok {
					t.Errorf("%s missing from %s", k, b)
				}
			}
			for _, k := range tt.absent {
				if _, ok := m[k]; ok {
					t.Errorf("%s present in %s", k, b)
				}
			}
			for _, k := range []string{"buyer_email", "fail_reason", "customer_uid"} {
				if v, ok := m[k]; !ok || v != nil {
					t.Errorf("%s = %v (present %v), want null", k, v, ok)
				}
			}
			if h, ok := m["cancel_history"].([]any); !ok || len(h) != 0 {
				t.Errorf("cancel_history = %v, want []", m["cancel_history"])
			}
			if strings.Contains(string(b), "notice_url") {
				t.Errorf("empty notice_url sent: %s", b)
			}
		})
	}
}

func TestPaymentRoundTrip(t *testing.T) {
	reason := "no stock"
	want := Payment{
		PaymentBase: PaymentBase{
			PayMethod: PayMethodVBank, ImpUID: "imp_1", MerchantUID: "m1", Amount: 19900, CancelAmount: 3980,
			Currency: CurrencyKRW, Status: StatusPaid, PaidAt: 1700000000, CancelReason: &reason,
			CancelHistory: []PaymentCancel{{PGTID: "t", Amount: 3980, CancelledAt: 1700000100, Reason: reason}},
		},
		VBankDetails: VBankDetails{VBankCode: "088", VBankNum: "123", VBankHolder: "Samchon", VBankDate: 1700600000, VBankIssuedAt: 1699999000},
	}
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var got Payment
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got.Remaining() != 15920 {
		t.Errorf("Remaining() = %d, want 15920", got.Remaining())
	}
}

func TestPaymentDecodesFractionalFakeOutput(t *testing.T) {
	// The TypeScript fake sent fractional seconds and integral floats.
	in := `{"pay_method":"card","imp_uid":"x","amount":20000.0,"cancel_amount":0,"paid_at":1700000000.123,"status":"paid","card_quota":0,"cancel_history":[]}`
	var p Payment
	if err := json.Unmarshal([]byte(in), &p); err != nil {
		t.Fatal(err)
	}
	if p.Amount != 20000 || p.PaidAt != 1700000000 || p.Status != StatusPaid {
		t.Errorf("decoded %+v", p.PaymentBase)
	}
}
