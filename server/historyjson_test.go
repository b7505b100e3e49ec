package server

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/sdk"
)

// sampleHistory is a read's answer as the service builds it.
func sampleHistory() *sdk.History {
	refund := int64(5000)
	hook := "https://shop.example/hooks/payments?x=1&y=<2>"
	created := time.Date(2026, 12, 5, 1, 2, 3, 456789000, time.UTC)
	paid := created.Add(time.Second)
	return &sdk.History{
		ID:         "0b6c7d9e-8f10-4a2b-9c3d-4e5f60718293",
		VendorCode: sdk.VendorIamport,
		Vendor:     sdk.Vendor{Code: sdk.VendorIamport, StoreID: "imp12345678", UID: "imp_123456789012"},
		Source:     sdk.Source{Schema: "shop", Table: "orders", ID: "1b6c7d9e-8f10-4a2b-9c3d-4e5f60718293"},
		Data:       json.RawMessage(`{"imp_uid":"imp_123456789012","amount":20000,"name":"카드 결제 bench","status":"paid","cancel_history":[],"custom_data":null,"escaped":"a\"b\\c\u00e9","n":1.5e3}`),
		Currency:   "KRW",
		Price:      20000,
		Refund:     &refund,
		WebhookURL: &hook,
		CreatedAt:  created,
		PaidAt:     &paid,
		Cancels:    []sdk.CancelHistory{{Reason: "고객 요청\n\t\"quoted\"", Price: 5000, CreatedAt: paid.In(time.FixedZone("KST", 9*3600))}},
	}
}

// TestAppendHistoryJSON checks the hand encoder against encoding/json,
// byte for byte, on the cases each of its paths takes.
func TestAppendHistoryJSON(t *testing.T) {
	tests := []struct {
		name string
		edit func(h *sdk.History)
	}{
		{"full", func(*sdk.History) {}},
		{"nothing optional", func(h *sdk.History) { h.Refund, h.WebhookURL, h.PaidAt, h.CancelledAt = nil, nil, nil, nil }},
		{"no cancels, empty", func(h *sdk.History) { h.Cancels = []sdk.CancelHistory{} }},
		{"no cancels, nil", func(h *sdk.History) { h.Cancels = nil }},
		{"data nil", func(h *sdk.History) { h.Data = nil }},
		{"data with whitespace", func(h *sdk.History) { h.Data = json.RawMessage("{ \"a\" : [1, 2],\n\"b\":\"x y\" }") }},
		{"data with html", func(h *sdk.History) { h.Data = json.RawMessage(`{"a":"<b>&"}`) }},
		{"data with line separator", func(h *sdk.History) { h.Data = json.RawMessage("{\"a\":\"x\u2028y\u2029\"}") }},
		{"data a scalar", func(h *sdk.History) { h.Data = json.RawMessage(`"plain"`) }},
		{"strings to escape", func(h *sdk.History) {
			h.Source.Table = "a<b>&c\x00\x01\x7f\u2028\u2029\xff\xfe\"\\\b\f\n\r\t"
			h.Vendor.UID = "\xe2\x80"
		}},
		{"time with a zone", func(h *sdk.History) { h.CreatedAt = h.CreatedAt.In(time.FixedZone("", -(3*3600 + 30*60))) }},
		{"time with no fraction", func(h *sdk.History) { h.CreatedAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"zero time", func(h *sdk.History) { h.CreatedAt = time.Time{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := sampleHistory()
			tt.edit(h)
			want, err := json.Marshal(h)
			if err != nil {
				t.Fatal(err)
			}
			got, err := appendHistoryJSON([]byte("prefix"), h)
			if err != nil {
				t.Fatalf("appendHistoryJSON: %v", err)
			}
			if !bytes.Equal(got, append([]byte("prefix"), want...)) {
				t.Errorf("appendHistoryJSON =\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestAppendHistoryJSONRefuses checks that what encoding/json refuses (a
// year past 9999, data that is not JSON) is refused, not sent.
func TestAppendHistoryJSONRefuses(t *testing.T) {
	tests := []struct {
		name string
		edit func(h *sdk.History)
	}{
		{"year 10000", func(h *sdk.History) { h.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"cancel year -1", func(h *sdk.History) { h.Cancels[0].CreatedAt = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"data empty", func(h *sdk.History) { h.Data = json.RawMessage{} }},
		{"data cut", func(h *sdk.History) { h.Data = json.RawMessage(`{"a":"b`) }},
		{"data with a control character", func(h *sdk.History) { h.Data = json.RawMessage("{\"a\":\"\x01\"}") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := sampleHistory()
			tt.edit(h)
			if _, err := appendHistoryJSON(nil, h); err == nil {
				t.Errorf("appendHistoryJSON(%s) = nil error, want one", tt.name)
			}
		})
	}
}

// FuzzAppendHistoryJSON compares the hand encoder with encoding/json on
// arbitrary strings, numbers, times and PG objects. The PG object is
// taken to be valid JSON, as the seal guarantees (the server seals
// json.Marshal's output); other data is skipped.
func FuzzAppendHistoryJSON(f *testing.F) {
	h := sampleHistory()
	f.Add(h.ID, h.Source.Table, *h.WebhookURL, h.Cancels[0].Reason, []byte(h.Data), int64(20000), int64(1764896523456789000), int32(0))
	f.Add("", "\x00<>&\u2028", "\xff", "", []byte(" { \"a\" : 1 } "), int64(-1), int64(0), int32(-12600))
	f.Add("x", "y", "z", "w", []byte(`[1,"<",{"b":null}]`), int64(1<<62), int64(-62135596800000000), int32(86399))
	f.Fuzz(func(t *testing.T, id, table, hook, reason string, data []byte, price, unixNano int64, offset int32) {
		if !json.Valid(data) {
			t.Skip()
		}
		at := time.Unix(0, unixNano).In(time.FixedZone("", int(offset)))
		h := sampleHistory()
		h.ID, h.Source.Table, h.WebhookURL, h.Data, h.Price = id, table, &hook, data, price
		h.CreatedAt, h.PaidAt = at, &at
		h.Cancels[0].Reason, h.Cancels[0].CreatedAt = reason, at
		want, wantErr := json.Marshal(h)
		got, err := appendHistoryJSON(nil, h)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("appendHistoryJSON error %v, encoding/json's %v", err, wantErr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("appendHistoryJSON =\n%q\nwant\n%q", got, want)
		}
	})
}

// BenchmarkHistoryJSON compares the hand encoder with encoding/json on a
// read's answer holding an Iamport card payment's object.
func BenchmarkHistoryJSON(b *testing.B) {
	h := sampleHistory()
	data, err := json.Marshal(iamport.Payment{PaymentBase: iamport.PaymentBase{
		ImpUID: "imp_123456789012", MerchantUID: h.Source.ID, PayMethod: iamport.PayMethodCard, Amount: 20000}})
	if err != nil {
		b.Fatal(err)
	}
	h.Data = data
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(h); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = appendHistoryJSON(buf[:0], h); err != nil {
				b.Fatal(err)
			}
		}
	})
}
