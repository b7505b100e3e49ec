package iamport

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	gw "github.com/paymentctl/paymentctl/gateway/iamport"
)

func TestGetToken(t *testing.T) {
	e := newEnv(t, Options{})
	creds := gw.TokenRequest{ImpKey: DefaultKey, ImpSecret: DefaultSecret}

	var first gw.Token
	e.ok(e.call("POST", "/users/getToken", "", creds), &first)
	if len(first.AccessToken) != 40 {
		t.Errorf("access_token %q, want 40 hex characters", first.AccessToken)
	}
	if got, want := first.ExpiredAt-first.Now, gw.Timestamp(30*60); got != want {
		t.Errorf("lifetime = %d s, want %d", got, want)
	}
	if first.Now != gw.TimestampOf(e.clock.Now()) {
		t.Errorf("now = %d, want the fake's clock %d", first.Now, gw.TimestampOf(e.clock.Now()))
	}

	// While valid the same token comes back, unchanged.
	e.clock.Advance(20 * time.Minute)
	var again gw.Token
	e.ok(e.call("POST", "/users/getToken", "", creds), &again)
	if again.AccessToken != first.AccessToken || again.ExpiredAt != first.ExpiredAt {
		t.Errorf("second getToken = %+v, want same token and expiry as %+v", again, first)
	}
	// In its last minute it is extended by five minutes.
	e.clock.Advance(9*time.Minute + 30*time.Second)
	var extended gw.Token
	e.ok(e.call("POST", "/users/getToken", "", creds), &extended)
	if extended.AccessToken != first.AccessToken || extended.ExpiredAt != first.ExpiredAt+300 {
		t.Errorf("getToken in last minute = %+v, want expiry %d", extended, first.ExpiredAt+300)
	}
	// After expiry it is refused and a new one is issued.
	e.clock.Advance(6 * time.Minute)
	e.fails(e.call("GET", "/payments/x", first.AccessToken, nil), 401, -1)
	var fresh gw.Token
	e.ok(e.call("POST", "/users/getToken", "", creds), &fresh)
	if fresh.AccessToken == first.AccessToken {
		t.Error("expired token handed out again")
	}
}

func TestGetTokenRefusals(t *testing.T) {
	e := newEnv(t, Options{Key: "k", Secret: "s"})
	tests := []struct {
		name   string
		body   any
		status int
	}{
		{"wrong secret", gw.TokenRequest{ImpKey: "k", ImpSecret: "nope"}, 401},
		{"default keys not accepted when configured", gw.TokenRequest{ImpKey: DefaultKey, ImpSecret: DefaultSecret}, 401},
		{"missing secret", `{"imp_key":"k"}`, 400},
		{"number key", `{"imp_key":1,"imp_secret":"s"}`, 400},
		{"not JSON", `imp_key=k`, 400},
		{"empty body", ``, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.with(t)
			e.fails(e.call("POST", "/users/getToken", "", tt.body), tt.status, -1)
		})
	}
}

func TestAuthorization(t *testing.T) {
	e := newEnv(t, Options{})
	p := e.cardPayment(1000)
	path := "/payments/" + p.ImpUID
	tests := []struct {
		name   string
		auth   string
		status int
	}{
		{"raw token", e.token, 200},
		{"bearer token", "Bearer " + e.token, 200},
		{"lower-case bearer", "bearer " + e.token, 200},
		{"missing", "", 401},
		{"unknown", "Bearer 0123456789abcdef0123456789abcdef01234567", 401},
		{"basic scheme", "Basic " + e.token, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.with(t)
			r := e.call("GET", path, tt.auth, nil)
			if tt.status == 200 {
				e.ok(r, nil)
			} else {
				e.fails(r, tt.status, -1)
			}
		})
	}
	t.Run("every route but getToken and the sink", func(t *testing.T) {
		e := e.with(t)
		for _, rt := range [][2]string{
			{"POST", "/payments/cancel"}, {"POST", "/subscribe/payments/onetime"}, {"POST", "/subscribe/payments/again"},
			{"GET", "/subscribe/customers/c"}, {"POST", "/vbanks"}, {"PUT", "/vbanks"}, {"GET", "/receipts/x"},
			{"POST", "/certifications/otp/request"}, {"PUT", "/internal/deposit/x"}, {"GET", "/payments/findAll/m"},
		} {
			e.fails(e.call(rt[0], rt[1], "", `{}`), 401, -1)
		}
	})
}

func TestUnknownRoute(t *testing.T) {
	e := newEnv(t, Options{})
	e.fails(e.do("GET", "/nowhere", nil), 404, -1)
	e.fails(e.do("DELETE", "/payments/imp_1", nil), 404, -1)
}

func TestGetPayment(t *testing.T) {
	e := newEnv(t, Options{})
	p := e.cardPayment(20000)
	e.ok(e.do("GET", "/payments/"+p.ImpUID+"?extension=true", nil), nil)
	e.fails(e.do("GET", "/payments/"+p.ImpUID+"?extension=maybe", nil), 400, -1)
	e.fails(e.do("GET", "/payments/imp_000000000000", nil), 404, 1)
}

func TestOnetimePayment(t *testing.T) {
	e := newEnv(t, Options{})
	in := onetimeRequest(20000)
	in.BuyerEmail = "buyer@example.com"
	in.CustomData = `{"k":1}`
	var p gw.Payment
	e.ok(e.do("POST", "/subscribe/payments/onetime", in), &p)

	now := gw.TimestampOf(e.clock.Now())
	want := gw.PaymentBase{
		PayMethod: gw.PayMethodCard, ImpUID: p.ImpUID, MerchantUID: in.MerchantUID, Name: &in.Name,
		Amount: 20000, Currency: gw.CurrencyKRW, ReceiptURL: receiptBase + p.ImpUID, Channel: "api",
		PGProvider: pgProvider, PGID: pgID, PGTID: p.PGTID, BuyerEmail: &in.BuyerEmail, CustomData: &in.CustomData,
		UserAgent: p.UserAgent, Status: gw.StatusPaid, StartedAt: now, PaidAt: now, CancelHistory: []gw.PaymentCancel{},
	}
	if diff := cmp.Diff(want, p.PaymentBase); diff != "" {
		t.Errorf("payment (-want +got):\n%s", diff)
	}
	if p.CardNumber != in.CardNumber || p.CardName == "" || p.CardCode == "" || p.ApplyNum == "" {
		t.Errorf("card details = %+v", p.CardDetails)
	}
	if !strings.HasPrefix(p.ImpUID, "imp_") || len(p.ImpUID) != 16 {
		t.Errorf("imp_uid = %q, want imp_ + 12 digits", p.ImpUID)
	}
	// The stored payment is what was answered, and has no vbank fields.
	got := e.do("GET", "/payments/"+p.ImpUID, nil)
	if strings.Contains(string(got.env.Response), "vbank_") {
		t.Errorf("card payment carries vbank fields: %s", got.env.Response)
	}
	if diff := cmp.Diff(p, e.payment(p.ImpUID)); diff != "" {
		t.Errorf("stored payment (-answered +stored):\n%s", diff)
	}
	// Paying the same order again is refused.
	in.CardNumber = "4321-4321-4321-4321"
	e.fails(e.do("POST", "/subscribe/payments/onetime", in), 422, 1)
}

func TestOnetimeValidation(t *testing.T) {
	e := newEnv(t, Options{})
	valid := func() map[string]any {
		return map[string]any{
			"card_number": "1234-1234-1234-1234", "expiry": "2028-12", "birth": "880311",
			"merchant_uid": nextOrder(), "amount": 1000, "name": "n",
		}
	}
	tests := []struct {
		name string
		edit func(m map[string]any)
	}{
		{"card number without dashes", func(m map[string]any) { m["card_number"] = "1234123412341234" }},
		{"card number padded", func(m map[string]any) { m["card_number"] = "x1234-1234-1234-1234" }},
		{"expiry month 13", func(m map[string]any) { m["expiry"] = "2028-13" }},
		{"birth month 00", func(m map[string]any) { m["birth"] = "880011" }},
		{"pwd_2digit three digits", func(m map[string]any) { m["pwd_2digit"] = "123" }},
		{"missing amount", func(m map[string]any) { delete(m, "amount") }},
		{"null name", func(m map[string]any) { m["name"] = nil }},
		{"amount as string", func(m map[string]any) { m["amount"] = "1000" }},
		{"fractional amount", func(m map[string]any) { m["amount"] = 10.5 }},
		{"zero amount", func(m map[string]any) { m["amount"] = 0 }},
		{"empty merchant_uid", func(m map[string]any) { m["merchant_uid"] = "" }},
		{"bad e-mail", func(m map[string]any) { m["buyer_email"] = "not-an-email" }},
		{"relative notice_url", func(m map[string]any) { m["notice_url"] = "/hooks" }},
		{"unknown currency", func(m map[string]any) { m["currency"] = "GBP" }},
		{"tax_free over amount", func(m map[string]any) { m["tax_free"] = 2000 }},
		{"negative card_quota", func(m map[string]any) { m["card_quota"] = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.with(t)
			m := valid()
			tt.edit(m)
			e.fails(e.do("POST", "/subscribe/payments/onetime", m), 400, -1)
		})
	}
	t.Run("valid with extras tolerated", func(t *testing.T) {
		e := e.with(t)
		m := valid()
		m["amount"] = 1000.0
		m["whatever"] = true
		m["currency"] = "USD"
		e.ok(e.do("POST", "/subscribe/payments/onetime", m), nil)
	})
}

func TestOnetimeWithCustomerUIDKeepsBillingKey(t *testing.T) {
	e := newEnv(t, Options{})
	in := onetimeRequest(5000)
	in.CustomerUID = "cu-" + randomHex(4)
	in.BuyerName = "남정호"
	var p gw.Payment
	e.ok(e.do("POST", "/subscribe/payments/onetime", in), &p)
	if p.CustomerUID == nil || *p.CustomerUID != in.CustomerUID || p.CustomerUIDUsage == nil || *p.CustomerUIDUsage != "issue" {
		t.Errorf("customer_uid %v usage %v", p.CustomerUID, p.CustomerUIDUsage)
	}
	var k gw.BillingKey
	e.ok(e.do("GET", "/subscribe/customers/"+in.CustomerUID, nil), &k)
	if k.CardNumber != in.CardNumber || k.CustomerName == nil || *k.CustomerName != "남정호" {
		t.Errorf("billing key = %+v", k)
	}
}

func TestBillingKeys(t *testing.T) {
	e := newEnv(t, Options{})
	uid := "cu-" + randomHex(4)
	in := map[string]any{
		"customer_uid": uid, "card_number": "1234-5678-1234-5678", "expiry": "2028-12", "birth": "880311",
		"customer_name": "Samchon", "customer_tel": "010-1111-2222", "customer_email": "s@example.com",
		"customr_addr": "Seoul", "customer_postcode": "04524",
	}
	var k gw.BillingKey
	e.ok(e.do("POST", "/subscribe/customers/"+uid, in), &k)
	str := func(s string) *string { return &s }
	now := gw.TimestampOf(e.clock.Now())
	want := gw.BillingKey{
		CustomerUID: uid, PGProvider: pgProvider, PGID: pgID, CardName: "신한카드", CardCode: "366",
		CardNumber: "1234-5678-1234-5678", CardType: "credit", CustomerName: str("Samchon"), CustomerTel: str("010-1111-2222"),
		CustomerEmail: str("s@example.com"), CustomerAddr: str("Seoul"), CustomerPostcode: str("04524"), Inserted: now, Updated: now,
	}
	if diff := cmp.Diff(want, k); diff != "" {
		t.Errorf("billing key (-want +got):\n%s", diff)
	}

	// Re-registering keeps inserted and moves updated.
	e.clock.Advance(time.Hour)
	delete(in, "customer_uid") // the real API takes it from the path only
	var k2 gw.BillingKey
	e.ok(e.do("POST", "/subscribe/customers/"+uid, in), &k2)
	if k2.Inserted != now || k2.Updated != now+3600 {
		t.Errorf("inserted/updated = %d/%d, want %d/%d", k2.Inserted, k2.Updated, now, now+3600)
	}

	e.ok(e.do("GET", "/subscribe/customers/"+uid, nil), nil)
	e.ok(e.do("DELETE", "/subscribe/customers/"+uid, nil), nil)
	e.fails(e.do("GET", "/subscribe/customers/"+uid, nil), 404, 1)
	e.fails(e.do("DELETE", "/subscribe/customers/"+uid, nil), 404, 1)

	for name, body := range map[string]map[string]any{
		"path and body disagree":          {"customer_uid": "other", "card_number": "1234-5678-1234-5678", "expiry": "2028-12", "birth": "880311"},
		"bad expiry":                      {"card_number": "1234-5678-1234-5678", "expiry": "28-12", "birth": "880311"},
		"business number ok but card bad": {"card_number": "1234", "expiry": "2028-12", "birth": "1234567890"},
		"missing birth":                   {"card_number": "1234-5678-1234-5678", "expiry": "2028-12"},
		"bad email":                       {"card_number": "1234-5678-1234-5678", "expiry": "2028-12", "birth": "880311", "customer_email": "x"},
	} {
		t.Run(name, func(t *testing.T) {
			e := e.with(t)
			e.fails(e.do("POST", "/subscribe/customers/"+uid, body), 400, -1)
		})
	}
}

func TestAgainPayment(t *testing.T) {
	e := newEnv(t, Options{})
	uid := "cu-" + randomHex(4)
	e.ok(e.do("POST", "/subscribe/customers/"+uid, gw.BillingKeyRequest{
		CardFields:   gw.CardFields{CardNumber: "4000-1234-1234-1234", Expiry: "2028-12", Birth: "880311"},
		CustomerName: "Samchon", CustomerTel: "01012345678",
	}), nil)

	in := gw.AgainRequest{CustomerUID: uid, OrderFields: gw.OrderFields{MerchantUID: nextOrder(), Amount: 9900, Name: "monthly", BuyerTel: "0299998888"}}
	var p gw.Payment
	e.ok(e.do("POST", "/subscribe/payments/again", in), &p)
	if p.Status != gw.StatusPaid || p.CardNumber != "4000-1234-1234-1234" || p.CardName != "KB국민카드" {
		t.Errorf("payment = %+v / %+v", p.PaymentBase, p.CardDetails)
	}
	if p.BuyerName == nil || *p.BuyerName != "Samchon" || p.BuyerTel == nil || *p.BuyerTel != "0299998888" {
		t.Errorf("buyer name %v tel %v: want the key's name and the request's tel", p.BuyerName, p.BuyerTel)
	}
	if p.CustomerUIDUsage == nil || *p.CustomerUIDUsage != "payment" {
		t.Errorf("customer_uid_usage = %v, want payment", p.CustomerUIDUsage)
	}

	in.CustomerUID, in.MerchantUID = "unknown", nextOrder()
	e.fails(e.do("POST", "/subscribe/payments/again", in), 404, 1)
	e.fails(e.do("POST", "/subscribe/payments/again", `{"customer_uid":"x","merchant_uid":"m","name":"n"}`), 400, -1)
}

func TestVBank(t *testing.T) {
	e := newEnv(t, Options{TTL: 30 * 24 * time.Hour})
	in := e.vbankRequest(19900)
	in.Name = "vbank order"
	var p gw.Payment
	e.ok(e.do("POST", "/vbanks", in), &p)
	if p.PayMethod != gw.PayMethodVBank || p.Status != gw.StatusReady || p.PaidAt != 0 || p.CustomerUID != nil {
		t.Errorf("vbank payment = %+v", p.PaymentBase)
	}
	wantDetails := gw.VBankDetails{
		VBankCode: "SHINHAN", VBankName: "신한은행", VBankNum: p.VBankNum, VBankHolder: "Samchon",
		VBankDate: in.VBankDue, VBankIssuedAt: gw.TimestampOf(e.clock.Now()),
	}
	if diff := cmp.Diff(wantDetails, p.VBankDetails); diff != "" {
		t.Errorf("vbank details (-want +got):\n%s", diff)
	}
	if len(p.VBankNum) != 14 {
		t.Errorf("vbank_num = %q", p.VBankNum)
	}
	if strings.Contains(e.do("GET", "/payments/"+p.ImpUID, nil).raw, "card_number") {
		t.Error("vbank payment carries card fields")
	}

	t.Run("validation", func(t *testing.T) {
		e := e.with(t)
		past := e.vbankRequest(100)
		past.VBankDue = gw.TimestampOf(e.clock.Now().Add(-time.Second))
		e.fails(e.do("POST", "/vbanks", past), 400, -1)
		e.fails(e.do("POST", "/vbanks", `{"merchant_uid":"m","amount":100,"vbank_code":"088","vbank_due":99999999999}`), 400, -1)
	})

	t.Run("update in the body (SDK) and in the path (real)", func(t *testing.T) {
		e := e.with(t)
		due := gw.TimestampOf(e.clock.Now().Add(48 * time.Hour))
		var u gw.Payment
		e.ok(e.do("PUT", "/vbanks", gw.VBankUpdate{ImpUID: p.ImpUID, Amount: amt(20000)}), &u)
		if u.Amount != 20000 || u.VBankDate != in.VBankDue {
			t.Errorf("after amount update: amount %d date %d", u.Amount, u.VBankDate)
		}
		e.ok(e.do("PUT", "/vbanks/"+p.ImpUID, map[string]any{"vbank_due": due}), &u)
		if u.Amount != 20000 || u.VBankDate != due {
			t.Errorf("after due update: amount %d date %d", u.Amount, u.VBankDate)
		}
		e.fails(e.do("PUT", "/vbanks", gw.VBankUpdate{ImpUID: "imp_000000000000", Amount: amt(1)}), 404, 1)
		e.fails(e.do("PUT", "/vbanks", `{"amount":1}`), 400, -1)
		e.fails(e.do("PUT", "/vbanks/"+p.ImpUID, `{"amount":0}`), 400, -1)
		card := e.cardPayment(100)
		e.fails(e.do("PUT", "/vbanks/"+card.ImpUID, `{"amount":5}`), 422, 1)
	})

	t.Run("deposit", func(t *testing.T) {
		e := e.with(t)
		e.clock.Advance(time.Hour)
		var d gw.Payment
		e.ok(e.do("PUT", "/internal/deposit/"+p.ImpUID, nil), &d)
		if d.Status != gw.StatusPaid || d.PaidAt != gw.TimestampOf(e.clock.Now()) {
			t.Errorf("after deposit: %s paid_at %d", d.Status, d.PaidAt)
		}
		if e.payment(p.ImpUID).Status != gw.StatusPaid {
			t.Error("deposit not stored")
		}
		e.fails(e.do("PUT", "/internal/deposit/"+p.ImpUID, nil), 422, 1)
		e.fails(e.do("PUT", "/vbanks/"+p.ImpUID, `{"amount":5}`), 422, 1)
		e.fails(e.do("PUT", "/internal/deposit/imp_000000000000", nil), 404, 1)
		card := e.cardPayment(100)
		e.fails(e.do("PUT", "/internal/deposit/"+card.ImpUID, nil), 422, 1)

		// The 1.0.x GET spelling works too.
		v := e.vbankPayment(300, false)
		e.ok(e.do("GET", "/internal/deposit/"+v.ImpUID, nil), nil)
	})

	t.Run("deposit after the due date", func(t *testing.T) {
		e := e.with(t)
		v := e.vbankPayment(300, false)
		e.clock.Advance(8 * 24 * time.Hour)
		e.fails(e.do("PUT", "/internal/deposit/"+v.ImpUID, nil), 422, 1)
	})
}

func TestFindByMerchantUID(t *testing.T) {
	e := newEnv(t, Options{Faults: nil})
	in := onetimeRequest(1000)
	e.fake.Faults().Set(faultsDeclineAll())
	failed := e.do("POST", "/subscribe/payments/onetime", in)
	e.fails(failed, 200, -1)
	e.fake.Faults().Set(faultsNone())
	e.clock.Advance(time.Minute)
	var paid gw.Payment
	e.ok(e.do("POST", "/subscribe/payments/onetime", in), &paid)

	var page gw.PaymentPage
	e.ok(e.do("GET", "/payments/findAll/"+in.MerchantUID, nil), &page)
	if page.Total != 2 || len(page.List) != 2 || page.List[0].ImpUID != paid.ImpUID || page.List[1].Status != gw.StatusFailed {
		t.Errorf("findAll = %+v", page)
	}
	e.ok(e.do("GET", "/payments/findAll/"+in.MerchantUID+"/failed", nil), &page)
	if page.Total != 1 || page.List[0].Status != gw.StatusFailed {
		t.Errorf("findAll failed = %+v", page)
	}
	var one gw.Payment
	e.ok(e.do("GET", "/payments/find/"+in.MerchantUID, nil), &one)
	if one.ImpUID != paid.ImpUID {
		t.Errorf("find = %s, want newest %s", one.ImpUID, paid.ImpUID)
	}
	e.fails(e.do("GET", "/payments/find/"+in.MerchantUID+"/cancelled", nil), 404, 1)
	e.fails(e.do("GET", "/payments/findAll/nope", nil), 404, 1)
	e.fails(e.do("GET", "/payments/findAll/"+in.MerchantUID+"/weird", nil), 400, -1)
}

func TestCancel(t *testing.T) {
	e := newEnv(t, Options{})

	t.Run("full", func(t *testing.T) {
		e := e.with(t)
		p := e.cardPayment(20000)
		e.clock.Advance(time.Minute)
		var c gw.Payment
		e.ok(e.do("POST", "/payments/cancel", gw.CancelRequest{ImpUID: p.ImpUID, MerchantUID: p.MerchantUID, Checksum: amt(20000), Reason: "some-reason"}), &c)
		now := gw.TimestampOf(e.clock.Now())
		if c.Status != gw.StatusCancelled || c.CancelAmount != 20000 || c.CancelledAt != now || c.CancelReason == nil || *c.CancelReason != "some-reason" {
			t.Errorf("cancelled payment = %+v", c.PaymentBase)
		}
		wantHist := []gw.PaymentCancel{{PGID: pgID, PGTID: c.CancelHistory[0].PGTID, Amount: 20000, CancelledAt: now, Reason: "some-reason", ReceiptURL: p.ReceiptURL}}
		if diff := cmp.Diff(wantHist, c.CancelHistory); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(c, e.payment(p.ImpUID)); diff != "" {
			t.Errorf("stored (-answered +stored):\n%s", diff)
		}
		e.fails(e.do("POST", "/payments/cancel", gw.CancelRequest{ImpUID: p.ImpUID, Reason: "again"}), 422, 1)
	})

	t.Run("five partial cancels add up", func(t *testing.T) {
		e := e.with(t)
		p := e.cardPayment(20000)
		for k := 1; k <= 5; k++ {
			remaining := gw.Amount(20000 - (k-1)*4000)
			var c gw.Payment
			e.ok(e.do("POST", "/payments/cancel", gw.CancelRequest{ImpUID: p.ImpUID, Amount: amt(4000), Checksum: &remaining, Reason: "part"}), &c)
			wantStatus := gw.StatusPaid
			if k == 5 {
				wantStatus = gw.StatusCancelled
			}
			var sum gw.Amount
			for _, h := range c.CancelHistory {
				sum += h.Amount
			}
			if c.Status != wantStatus || c.CancelAmount != gw.Amount(4000*k) || len(c.CancelHistory) != k || sum != c.CancelAmount {
				t.Fatalf("after cancel %d: status %s cancel_amount %d rows %d sum %d", k, c.Status, c.CancelAmount, len(c.CancelHistory), sum)
			}
		}
	})

	t.Run("partials then the rest", func(t *testing.T) {
		e := e.with(t)
		p := e.cardPayment(10000)
		for range 3 {
			e.ok(e.do("POST", "/payments/cancel", gw.CancelRequest{ImpUID: p.ImpUID, Amount: amt(1500), Reason: "part"}), nil)
		}
		var c gw.Payment
		e.ok(e.do("POST", "/payments/cancel", gw.CancelRequest{ImpUID: p.ImpUID, Reason: "rest"}), &c)
		if c.Status != gw.StatusCancelled || c.CancelAmount != 10000 || len(c.CancelHistory) != 4 || c.CancelHistory[3].Amount != 5500 {
			t.Errorf("after the rest: %s %d %d rows", c.Status, c.CancelAmount, len(c.CancelHistory))
		}
	})

	t.Run("refusals", func(t *testing.T) {
		e := e.with(t)
		p := e.cardPayment(20000)
		e.ok(e.do("POST", "/payments/cancel", gw.CancelRequest{ImpUID: p.ImpUID, Amount: amt(5000), Reason: "part"}), nil)
		tests := []struct {
			name   string
			in     any
			status int
			code   int
		}{
			{"over-cancel", gw.CancelRequest{ImpUID: p.ImpUID, Amount: amt(15100), Reason: "r"}, 422, 1},
			{"over-cancel of the original amount", gw.CancelRequest{ImpUID: p.ImpUID, Amount: amt(20000), Reason: "r"}, 422, 1},
			{"stale checksum", gw.CancelRequest{ImpUID: p.ImpUID, Amount: amt(100), Checksum: amt(20000), Reason: "r"}, 422, 1},
			{"merchant_uid of another order", gw.CancelRequest{ImpUID: p.ImpUID, MerchantUID: "other", Amount: amt(100), Reason: "r"}, 422, 1},
			{"tax_free over amount", gw.CancelRequest{ImpUID: p.ImpUID, Amount: amt(100), TaxFree: amt(200), Reason: "r"}, 422, 1},
			{"unknown imp_uid", gw.CancelRequest{ImpUID: "imp_000000000000", Reason: "r"}, 404, 1},
			{"unknown merchant_uid", gw.CancelRequest{MerchantUID: "nope", Reason: "r"}, 404, 1},
			{"no id", gw.CancelRequest{Reason: "r"}, 400, -1},
			{"missing reason", `{"imp_uid":"` + p.ImpUID + `"}`, 400, -1},
			{"zero amount", gw.CancelRequest{ImpUID: p.ImpUID, Amount: amt(0), Reason: "r"}, 400, -1},
			{"negative checksum", gw.CancelRequest{ImpUID: p.ImpUID, Checksum: amt(-1), Reason: "r"}, 400, -1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := e.with(t)
				e.fails(e.do("POST", "/payments/cancel", tt.in), tt.status, tt.code)
			})
		}
		if got := e.payment(p.ImpUID); got.CancelAmount != 5000 || len(got.CancelHistory) != 1 || got.Status != gw.StatusPaid {
			t.Errorf("refusals changed the payment: %d %d %s", got.CancelAmount, len(got.CancelHistory), got.Status)
		}
	})

	t.Run("by merchant_uid", func(t *testing.T) {
		e := e.with(t)
		p := e.cardPayment(3000)
		var c gw.Payment
		e.ok(e.do("POST", "/payments/cancel", gw.CancelRequest{MerchantUID: p.MerchantUID, Reason: "r"}), &c)
		if c.ImpUID != p.ImpUID || c.Status != gw.StatusCancelled {
			t.Errorf("cancel by merchant_uid = %s %s", c.ImpUID, c.Status)
		}
	})

	t.Run("vbank", func(t *testing.T) {
		e := e.with(t)
		ready := e.vbankPayment(19900, false)
		e.fails(e.do("POST", "/payments/cancel", refundAccount(gw.CancelRequest{ImpUID: ready.ImpUID, Reason: "r"})), 422, 1)
		p := e.vbankPayment(19900, true)
		e.fails(e.do("POST", "/payments/cancel", gw.CancelRequest{ImpUID: p.ImpUID, Reason: "r"}), 422, 1)
		var c gw.Payment
		e.ok(e.do("POST", "/payments/cancel", refundAccount(gw.CancelRequest{ImpUID: p.ImpUID, Checksum: amt(19900), Reason: "r"})), &c)
		if c.Status != gw.StatusCancelled || c.CancelAmount != 19900 {
			t.Errorf("vbank cancel = %s %d", c.Status, c.CancelAmount)
		}
	})
}

func TestReceipts(t *testing.T) {
	e := newEnv(t, Options{})
	p := e.cardPayment(11000)
	if e.payment(p.ImpUID).CashReceiptIssue {
		t.Fatal("cash_receipt_issue true before any receipt")
	}
	e.fails(e.do("GET", "/receipts/"+p.ImpUID, nil), 404, 1)
	e.fails(e.do("DELETE", "/receipts/"+p.ImpUID, nil), 404, 1)
	e.ok(e.do("POST", "/payments/cancel", gw.CancelRequest{ImpUID: p.ImpUID, Amount: amt(2200), Reason: "part"}), nil)

	var r gw.Receipt
	e.ok(e.do("POST", "/receipts/"+p.ImpUID, gw.ReceiptRequest{Identifier: "01012345678", IdentifierType: gw.IdentifierPhone}), &r)
	want := gw.Receipt{
		ImpUID: p.ImpUID, ReceiptUID: r.ReceiptUID, ApplyNum: r.ApplyNum, Type: gw.ReceiptPerson, Amount: 8800, VAT: 800,
		ReceiptURL: receiptBase + p.ImpUID + "/cash", AppliedAt: gw.TimestampOf(e.clock.Now()),
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("receipt (-want +got):\n%s", diff)
	}
	if got := e.payment(p.ImpUID); !got.CashReceiptIssue || !got.CashReceiptIssued {
		t.Error("cash receipt flags not set after issue")
	}
	var got gw.Receipt
	e.ok(e.do("GET", "/receipts/"+p.ImpUID, nil), &got)
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("stored receipt (-issued +stored):\n%s", diff)
	}
	e.fails(e.do("POST", "/receipts/"+p.ImpUID, gw.ReceiptRequest{Identifier: "x"}), 422, 1)

	e.clock.Advance(time.Minute)
	var c gw.Receipt
	e.ok(e.do("DELETE", "/receipts/"+p.ImpUID, nil), &c)
	if c.CancelledAt != gw.TimestampOf(e.clock.Now()) {
		t.Errorf("cancelled_at = %d", c.CancelledAt)
	}
	if got := e.payment(p.ImpUID); got.CashReceiptIssue || got.CashReceiptIssued {
		t.Error("cash receipt flags still set after cancel")
	}
	e.fails(e.do("DELETE", "/receipts/"+p.ImpUID, nil), 422, 1)
	// After a cancel a new receipt may be issued.
	e.ok(e.do("POST", "/receipts/"+p.ImpUID, gw.ReceiptRequest{Identifier: "1234567890", Type: gw.ReceiptCompany, TaxFree: amt(800)}), &r)
	if r.Type != gw.ReceiptCompany || r.VAT != 727 || r.CancelledAt != 0 {
		t.Errorf("reissued receipt = %+v", r)
	}

	t.Run("refusals", func(t *testing.T) {
		e := e.with(t)
		ready := e.vbankPayment(1000, false)
		e.fails(e.do("POST", "/receipts/"+ready.ImpUID, gw.ReceiptRequest{Identifier: "x"}), 422, 1)
		e.fails(e.do("POST", "/receipts/imp_000000000000", gw.ReceiptRequest{Identifier: "x"}), 404, 1)
		e.fails(e.do("POST", "/receipts/"+p.ImpUID, `{"type":"person"}`), 400, -1)
		e.fails(e.do("POST", "/receipts/"+p.ImpUID, gw.ReceiptRequest{Identifier: "x", Type: "nobody"}), 400, -1)
		e.fails(e.do("POST", "/receipts/"+p.ImpUID, gw.ReceiptRequest{Identifier: "x", IdentifierType: "passport"}), 400, -1)
		e.fails(e.do("POST", "/receipts/"+p.ImpUID, gw.ReceiptRequest{ImpUID: "imp_other", Identifier: "x"}), 400, -1)
	})
}

func TestCertifications(t *testing.T) {
	e := newEnv(t, Options{})
	in := gw.CertificationRequest{Name: "홍길동", Phone: "010-1234-5678", Birth: "19880311", GenderDigit: "1", Carrier: gw.CarrierSKT, MerchantUID: "cert-1"}
	var started gw.CertificationStarted
	e.ok(e.do("POST", "/certifications/otp/request", in), &started)

	var c gw.Certification
	e.ok(e.do("GET", "/certifications/"+started.ImpUID, nil), &c)
	if c.Certified || len(c.OTP) != 6 || c.Phone != "01012345678" || c.Gender != "male" || c.Birthday != "19880311" || c.Foreigner {
		t.Errorf("certification = %+v", c)
	}
	if want := gw.Timestamp(time.Date(1988, 3, 11, 0, 0, 0, 0, time.UTC).Unix()); c.Birth != want {
		t.Errorf("birth = %d, want %d", c.Birth, want)
	}
	wrong := "000000"
	if c.OTP == wrong {
		wrong = "111111"
	}
	confirm := "/certifications/otp/confirm/" + started.ImpUID
	e.fails(e.do("POST", confirm, gw.CertificationConfirm{OTP: wrong}), 422, 1)
	var done gw.Certification
	e.ok(e.do("POST", confirm, gw.CertificationConfirm{OTP: c.OTP}), &done)
	if !done.Certified || done.CertifiedAt != gw.TimestampOf(e.clock.Now()) {
		t.Errorf("after confirm: certified %v at %d", done.Certified, done.CertifiedAt)
	}
	e.fails(e.do("POST", confirm, gw.CertificationConfirm{OTP: c.OTP}), 422, 1)
	e.fails(e.do("POST", "/certifications/otp/confirm/imp_000000000000", gw.CertificationConfirm{OTP: "1"}), 404, 1)
	e.fails(e.do("POST", confirm, `{}`), 400, -1)

	e.ok(e.do("DELETE", "/certifications/"+started.ImpUID, nil), nil)
	e.fails(e.do("GET", "/certifications/"+started.ImpUID, nil), 404, 1)
	e.fails(e.do("DELETE", "/certifications/"+started.ImpUID, nil), 404, 1)

	for name, edit := range map[string]func(*gw.CertificationRequest){
		"bad birth":   func(r *gw.CertificationRequest) { r.Birth = "880311" },
		"feb 30":      func(r *gw.CertificationRequest) { r.Birth = "19880230" },
		"bad carrier": func(r *gw.CertificationRequest) { r.Carrier = "VZ" },
		"bad phone":   func(r *gw.CertificationRequest) { r.Phone = "12" },
		"bad gender":  func(r *gw.CertificationRequest) { r.GenderDigit = "12" },
	} {
		t.Run(name, func(t *testing.T) {
			e := e.with(t)
			r := in
			edit(&r)
			e.fails(e.do("POST", "/certifications/otp/request", r), 400, -1)
		})
	}
}

func TestWebhookSink(t *testing.T) {
	e := newEnv(t, Options{})
	e.ok(e.call("POST", "/internal/webhook", "", gw.Webhook{ImpUID: "imp_1", MerchantUID: "m", Status: gw.StatusPaid}), nil)
	e.fails(e.call("POST", "/internal/webhook", "", `{"imp_uid":"imp_1","merchant_uid":"m"}`), 400, -1)
	e.fails(e.call("POST", "/internal/webhook", "", gw.Webhook{ImpUID: "imp_1", MerchantUID: "m", Status: "lost"}), 400, -1)
}

func TestStoreLimits(t *testing.T) {
	t.Run("capacity", func(t *testing.T) {
		e := newEnv(t, Options{Capacity: 2})
		first := e.cardPayment(100)
		e.cardPayment(100)
		e.cardPayment(100)
		e.fails(e.do("GET", "/payments/"+first.ImpUID, nil), 404, 1)
	})
	t.Run("ttl checked on read", func(t *testing.T) {
		e := newEnv(t, Options{TTL: time.Hour, TokenTTL: 3 * time.Hour})
		p := e.cardPayment(100)
		e.clock.Advance(59 * time.Minute)
		e.ok(e.do("GET", "/payments/"+p.ImpUID, nil), nil)
		e.clock.Advance(2 * time.Minute)
		e.fails(e.do("GET", "/payments/"+p.ImpUID, nil), 404, 1)
	})
}

func TestApplyCancelDoesNotAliasHistory(t *testing.T) {
	p := gw.Payment{PaymentBase: gw.PaymentBase{Status: gw.StatusPaid, Amount: 100, CancelHistory: make([]gw.PaymentCancel, 0, 4)}}
	a, err := applyCancel(p, gw.CancelRequest{Amount: amt(10), Reason: "a"}, time.Unix(1, 0), "t1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := applyCancel(p, gw.CancelRequest{Amount: amt(20), Reason: "b"}, time.Unix(2, 0), "t2")
	if err != nil {
		t.Fatal(err)
	}
	if a.CancelHistory[0].Amount != 10 || b.CancelHistory[0].Amount != 20 || len(p.CancelHistory) != 0 {
		t.Errorf("histories share storage: %v / %v", a.CancelHistory, b.CancelHistory)
	}
}

// Responses decode with the field names of the SDK.
func TestWireNames(t *testing.T) {
	e := newEnv(t, Options{})
	p := e.cardPayment(1000)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(e.do("GET", "/payments/"+p.ImpUID, nil).env.Response, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{
		"pay_method", "imp_uid", "merchant_uid", "name", "amount", "cancel_amount", "currency", "receipt_url",
		"cash_receipt_issue", "channel", "pg_provider", "emb_pg_provider", "pg_id", "pg_tid", "escrow",
		"buyer_name", "buyer_email", "buyer_tel", "buyer_addr", "buyer_postcode", "customer_uid", "customer_uid_usage",
		"custom_data", "user_agent", "status", "started_at", "paid_at", "failed_at", "cancelled_at", "fail_reason",
		"cancel_reason", "cancel_history", "card_code", "card_name", "card_number", "card_quota", "apply_num",
	} {
		if _, ok := m[k]; !ok {
			t.Errorf("payment lacks %q", k)
		}
	}
	if string(m["buyer_email"]) != "null" || string(m["cancel_history"]) != "[]" {
		t.Errorf("buyer_email %s cancel_history %s", m["buyer_email"], m["cancel_history"])
	}
	if _, ok := m["notice_url"]; ok {
		t.Error("notice_url present though none was given")
	}
	if r := e.do("GET", "/payments/"+p.ImpUID, nil); r.env.Message != "success" || r.status != http.StatusOK {
		t.Errorf("success envelope: %d %q", r.status, r.env.Message)
	}
}
