package iamport

import (
	"errors"
	"net/http"
	"testing"
	"time"

	gw "github.com/paymentctl/paymentctl/gateway/iamport"
)

// These flows drive the fake through the Go client the payment server
// uses, as payments-backend.md §11 does through the TypeScript SDK.

func (e *env) client() *gw.Client {
	return gw.New(gw.Options{BaseURL: e.srv.URL, Key: DefaultKey, Secret: DefaultSecret, Now: e.clock.Now, Timeout: 5 * time.Second})
}

func (e *env) lastWebhook(rcv *receiver) gw.Webhook {
	e.t.Helper()
	e.settle()
	got := rcv.webhooks()
	if len(got) == 0 {
		e.t.Fatal("no webhook received")
	}
	return got[len(got)-1]
}

func TestFlowCardPayment(t *testing.T) {
	rcv := newReceiver(t)
	e := newEnv(t, Options{WebhookURL: rcv.srv.URL})
	c, ctx := e.client(), t.Context()

	p, err := c.PayOnetime(ctx, gw.OnetimeRequest{
		CardFields:  gw.CardFields{CardNumber: "1234-1234-1234-1234", Expiry: "2028-12", Birth: "880311"},
		OrderFields: gw.OrderFields{MerchantUID: nextOrder(), Amount: 20000, Name: "Fake 주문"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if h := e.lastWebhook(rcv); h.ImpUID != p.ImpUID || h.Status != gw.StatusPaid {
		t.Errorf("webhook = %+v", h)
	}
	got, err := c.Payment(ctx, p.ImpUID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PayMethod != gw.PayMethodCard || got.Status != gw.StatusPaid || got.PaidAt == 0 || got.Amount != 20000 {
		t.Errorf("re-fetched = %+v", got.PaymentBase)
	}
	list, err := c.PaymentsByMerchantUID(ctx, p.MerchantUID)
	if err != nil || len(list) != 1 || list[0].ImpUID != p.ImpUID {
		t.Errorf("PaymentsByMerchantUID = %v, %v", list, err)
	}
	_, err = c.Payment(ctx, "imp_000000000000")
	var apiErr *gw.Error
	if !errors.As(err, &apiErr) || !apiErr.NotFound() || apiErr.Code != 1 {
		t.Errorf("unknown payment error = %v, want 404 code 1", err)
	}
}

func TestFlowVBankDepositWebhook(t *testing.T) {
	rcv := newReceiver(t)
	e := newEnv(t, Options{WebhookURL: rcv.srv.URL})
	c, ctx := e.client(), t.Context()

	p, err := c.CreateVBank(ctx, gw.VBankRequest{
		MerchantUID: nextOrder(), Amount: 19900, VBankCode: "SHINHAN",
		VBankDue: gw.TimestampOf(e.clock.Now().Add(7 * 24 * time.Hour)), VBankHolder: "Samchon",
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != gw.StatusReady || p.VBankHolder != "Samchon" || p.PaidAt != 0 {
		t.Errorf("vbank = %+v", p)
	}
	if h := e.lastWebhook(rcv); h.Status != gw.StatusReady {
		t.Errorf("webhook after issue = %+v", h)
	}
	due := gw.TimestampOf(e.clock.Now().Add(3 * 24 * time.Hour))
	if u, err := c.UpdateVBank(ctx, gw.VBankUpdate{ImpUID: p.ImpUID, VBankDue: &due}); err != nil || u.VBankDate != due {
		t.Fatalf("UpdateVBank = %v, %v", u, err)
	}

	e.clock.Advance(time.Hour)
	if _, err := c.Deposit(ctx, p.ImpUID); err != nil {
		t.Fatal(err)
	}
	if h := e.lastWebhook(rcv); h.ImpUID != p.ImpUID || h.Status != gw.StatusPaid {
		t.Errorf("webhook after deposit = %+v", h)
	}
	got, err := c.Payment(ctx, p.ImpUID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != gw.StatusPaid || got.PaidAt != gw.TimestampOf(e.clock.Now()) {
		t.Errorf("after deposit: %s paid_at %d", got.Status, got.PaidAt)
	}
	_, err = c.Deposit(ctx, p.ImpUID)
	var apiErr *gw.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnprocessableEntity {
		t.Errorf("second deposit error = %v, want 422", err)
	}
}

func TestFlowFullCancel(t *testing.T) {
	rcv := newReceiver(t)
	e := newEnv(t, Options{WebhookURL: rcv.srv.URL})
	c, ctx := e.client(), t.Context()

	for _, vbank := range []bool{false, true} {
		var p gw.Payment
		if vbank {
			p = e.vbankPayment(19900, true)
		} else {
			p = e.cardPayment(20000)
		}
		in := gw.CancelRequest{ImpUID: p.ImpUID, MerchantUID: p.MerchantUID, Checksum: &p.Amount, Reason: "some-reason"}
		if vbank {
			in = refundAccount(in)
		}
		got, err := c.Cancel(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != gw.StatusCancelled || got.CancelAmount != p.Amount || len(got.CancelHistory) != 1 || got.CancelHistory[0].Amount != p.Amount {
			t.Errorf("cancelled = %+v", got.PaymentBase)
		}
		if h := e.lastWebhook(rcv); h.ImpUID != p.ImpUID || h.Status != gw.StatusCancelled {
			t.Errorf("webhook = %+v", h)
		}
		again, err := c.Payment(ctx, p.ImpUID)
		if err != nil || again.Status != gw.StatusCancelled || again.CancelAmount != p.Amount {
			t.Errorf("re-fetched = %+v, %v", again, err)
		}
	}
}

func TestFlowFivePartialCancels(t *testing.T) {
	rcv := newReceiver(t)
	e := newEnv(t, Options{WebhookURL: rcv.srv.URL})
	c, ctx := e.client(), t.Context()

	for _, vbank := range []bool{false, true} {
		var p gw.Payment
		if vbank {
			p = e.vbankPayment(19900, true)
		} else {
			p = e.cardPayment(20000)
		}
		part := p.Amount / 5
		for k := 1; k <= 5; k++ {
			e.clock.Advance(time.Second)
			remaining := p.Amount - part*gw.Amount(k-1)
			in := gw.CancelRequest{ImpUID: p.ImpUID, Amount: &part, Checksum: &remaining, Reason: "some-reason"}
			if vbank {
				in = refundAccount(in)
			}
			got, err := c.Cancel(ctx, in)
			if err != nil {
				t.Fatalf("cancel %d: %v", k, err)
			}
			var sum gw.Amount
			for _, h := range got.CancelHistory {
				sum += h.Amount
			}
			want := gw.StatusPaid
			if k == 5 {
				want = gw.StatusCancelled
			}
			if got.CancelAmount != part*gw.Amount(k) || len(got.CancelHistory) != k || sum != got.CancelAmount || got.Status != want || got.CancelledAt == 0 {
				t.Fatalf("after cancel %d: %+v", k, got.PaymentBase)
			}
			if h := e.lastWebhook(rcv); h.ImpUID != p.ImpUID || h.Status != gw.StatusCancelled {
				t.Errorf("webhook after cancel %d = %+v", k, h)
			}
		}
		// Nothing is left to refund.
		_, err := c.Cancel(ctx, refundAccount(gw.CancelRequest{ImpUID: p.ImpUID, Amount: &part, Reason: "over"}))
		var apiErr *gw.Error
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnprocessableEntity || apiErr.Code == 0 {
			t.Errorf("over-cancel error = %v, want 422", err)
		}
	}
}

func TestFlowSubscriptionPayment(t *testing.T) {
	rcv := newReceiver(t)
	e := newEnv(t, Options{WebhookURL: rcv.srv.URL})
	c, ctx := e.client(), t.Context()
	uid := "cu-" + randomHex(6)

	key, err := c.CreateBillingKey(ctx, uid, gw.BillingKeyRequest{
		CardFields:   gw.CardFields{CardNumber: "1234-5678-1234-5678", Expiry: "2028-12", Birth: "880311"},
		CustomerName: "남정호",
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.BillingKey(ctx, uid)
	if err != nil || got.CustomerUID != uid || got.CardNumber != key.CardNumber || got.CustomerName == nil || *got.CustomerName != "남정호" {
		t.Fatalf("BillingKey = %+v, %v", got, err)
	}
	p, err := c.PayAgain(ctx, gw.AgainRequest{CustomerUID: uid, OrderFields: gw.OrderFields{MerchantUID: nextOrder(), Amount: 9900, Name: "monthly"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != gw.StatusPaid || p.CustomerUID == nil || *p.CustomerUID != uid {
		t.Errorf("again payment = %+v", p.PaymentBase)
	}
	if h := e.lastWebhook(rcv); h.ImpUID != p.ImpUID || h.Status != gw.StatusPaid {
		t.Errorf("webhook = %+v", h)
	}

	// A decline comes back as an error that carries the failed payment.
	e.fake.Faults().Set(faultsDeclineAll())
	_, err = c.PayAgain(ctx, gw.AgainRequest{CustomerUID: uid, OrderFields: gw.OrderFields{MerchantUID: nextOrder(), Amount: 9900, Name: "monthly"}})
	failed, ok := gw.FailedPayment(err)
	if !ok || failed.Status != gw.StatusFailed {
		t.Errorf("decline: err %v, failed payment %v", err, failed)
	}
	e.fake.Faults().Set(faultsNone())

	if _, err := c.DeleteBillingKey(ctx, uid); err != nil {
		t.Fatal(err)
	}
	var apiErr *gw.Error
	if _, err := c.BillingKey(ctx, uid); !errors.As(err, &apiErr) || !apiErr.NotFound() {
		t.Errorf("deleted key error = %v, want 404", err)
	}
}

func TestFlowReceiptAndCertification(t *testing.T) {
	e := newEnv(t, Options{})
	c, ctx := e.client(), t.Context()
	p := e.cardPayment(5500)

	r, err := c.IssueReceipt(ctx, p.ImpUID, gw.ReceiptRequest{Identifier: "01012345678", IdentifierType: gw.IdentifierPhone})
	if err != nil || r.Amount != 5500 || r.VAT != 500 {
		t.Fatalf("IssueReceipt = %+v, %v", r, err)
	}
	if got, err := c.Receipt(ctx, p.ImpUID); err != nil || got.ReceiptUID != r.ReceiptUID {
		t.Errorf("Receipt = %+v, %v", got, err)
	}
	if got, err := c.CancelReceipt(ctx, p.ImpUID); err != nil || got.CancelledAt == 0 {
		t.Errorf("CancelReceipt = %+v, %v", got, err)
	}

	id, err := c.RequestCertification(ctx, gw.CertificationRequest{Name: "홍길동", Phone: "01012345678", Birth: "19900101", GenderDigit: "2", Carrier: gw.CarrierKT})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := c.Certification(ctx, id)
	if err != nil || cert.Certified || cert.Gender != "female" {
		t.Fatalf("Certification = %+v, %v", cert, err)
	}
	if done, err := c.ConfirmCertification(ctx, id, cert.OTP); err != nil || !done.Certified {
		t.Fatalf("ConfirmCertification = %+v, %v", done, err)
	}
	if _, err := c.DeleteCertification(ctx, id); err != nil {
		t.Fatal(err)
	}
}

func TestFlowClientRecoversFromExpiredToken(t *testing.T) {
	e := newEnv(t, Options{TokenTTL: 10 * time.Minute})
	// The client's clock lags behind the fake's, so it still trusts a
	// token the fake has expired: the 401 makes it fetch a new one.
	lagging := newClock()
	c := gw.New(gw.Options{BaseURL: e.srv.URL, Key: DefaultKey, Secret: DefaultSecret, Now: lagging.Now})
	p := e.cardPayment(100)
	if _, err := c.Payment(t.Context(), p.ImpUID); err != nil {
		t.Fatal(err)
	}
	first, _ := c.Token(t.Context())
	e.clock.Advance(11 * time.Minute)
	if _, err := c.Payment(t.Context(), p.ImpUID); err != nil {
		t.Fatalf("Payment after server-side expiry = %v, want recovered", err)
	}
	if second, _ := c.Token(t.Context()); second == first {
		t.Error("client kept the expired token")
	}
}

func TestFlowWrongCredentials(t *testing.T) {
	e := newEnv(t, Options{})
	c := gw.New(gw.Options{BaseURL: e.srv.URL, Key: DefaultKey, Secret: "wrong"})
	_, err := c.Payment(t.Context(), "imp_000000000000")
	var apiErr *gw.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Errorf("error = %v, want 401", err)
	}
}
