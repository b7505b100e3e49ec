package iamport

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/paymentctl/paymentctl/fakepg/fault"
	"github.com/paymentctl/paymentctl/fakepg/hook"
	gw "github.com/paymentctl/paymentctl/gateway/iamport"
)

func faultsDeclineAll() fault.Faults { return fault.Faults{DeclineRate: 1} }

func faultsNone() fault.Faults { return fault.Faults{} }

// fastBackoff is the real schedule shrunk from minutes to milliseconds.
func fastBackoff() []time.Duration { return hook.Scale(hook.IamportBackoff(), 1.0/6000) }

func TestWebhookTriggers(t *testing.T) {
	rcv := newReceiver(t)
	e := newEnv(t, Options{WebhookURL: rcv.srv.URL})

	card := e.cardPayment(20000)
	vb := e.vbankPayment(19900, true)
	e.ok(e.do("POST", "/payments/cancel", gw.CancelRequest{ImpUID: card.ImpUID, Amount: amt(1000), Reason: "part"}), nil)
	e.ok(e.do("POST", "/payments/cancel", refundAccount(gw.CancelRequest{ImpUID: vb.ImpUID, Reason: "all"})), nil)
	e.ok(e.do("PUT", "/vbanks", gw.VBankUpdate{ImpUID: e.vbankPayment(500, false).ImpUID, Amount: amt(600)}), nil) // ready + no hook for the update
	e.settle()

	got := rcv.webhooks()
	want := []gw.Webhook{
		{ImpUID: card.ImpUID, MerchantUID: card.MerchantUID, Status: gw.StatusPaid},
		{ImpUID: vb.ImpUID, MerchantUID: vb.MerchantUID, Status: gw.StatusReady},
		{ImpUID: vb.ImpUID, MerchantUID: vb.MerchantUID, Status: gw.StatusPaid},
		{ImpUID: card.ImpUID, MerchantUID: card.MerchantUID, Status: gw.StatusCancelled},
		{ImpUID: vb.ImpUID, MerchantUID: vb.MerchantUID, Status: gw.StatusCancelled},
	}
	if len(got) != len(want)+1 {
		t.Fatalf("got %d webhooks, want %d: %+v", len(got), len(want)+1, got)
	}
	if diff := cmp.Diff(want, got[:5]); diff != "" {
		t.Errorf("webhooks (-want +got):\n%s", diff)
	}
	if got[5].Status != gw.StatusReady {
		t.Errorf("last webhook %+v, want the second vbank's ready", got[5])
	}
}

func TestWebhookNoticeURLWins(t *testing.T) {
	def, own := newReceiver(t), newReceiver(t)
	e := newEnv(t, Options{})
	e.fake.SetWebhookURL(def.srv.URL)
	in := onetimeRequest(1000)
	in.NoticeURL = own.srv.URL + "/hook"
	var p gw.Payment
	e.ok(e.do("POST", "/subscribe/payments/onetime", in), &p)
	if p.NoticeURL != in.NoticeURL {
		t.Errorf("notice_url = %q, want echoed", p.NoticeURL)
	}
	e.cardPayment(1000)
	e.settle()
	if n := len(own.webhooks()); n != 1 {
		t.Errorf("notice_url receiver got %d webhooks, want 1", n)
	}
	if n := len(def.webhooks()); n != 1 {
		t.Errorf("default receiver got %d webhooks, want 1", n)
	}
}

func TestWebhookWithoutURLIsRecordedAsDropped(t *testing.T) {
	e := newEnv(t, Options{})
	e.cardPayment(1000)
	e.settle()
	ds := e.fake.Webhooks().Deliveries()
	if len(ds) != 1 || !ds[0].Dropped {
		t.Errorf("deliveries = %+v, want one dropped", ds)
	}
}

func TestWebhookAfterCommitAndAnswer(t *testing.T) {
	rcv := newReceiver(t)
	e := newEnv(t, Options{WebhookURL: rcv.srv.URL})
	seen := make(chan gw.Status, 4)
	rcv.onHook = func(h gw.Webhook) {
		// At delivery time the fake already holds the new state.
		p, ok := e.fake.payments.Get(h.ImpUID)
		if !ok {
			seen <- "missing"
			return
		}
		seen <- p.Status
	}
	p := e.vbankPayment(1000, false)
	e.settle()
	e.ok(e.do("PUT", "/internal/deposit/"+p.ImpUID, nil), nil)
	e.settle()
	close(seen)
	var got []gw.Status
	for s := range seen {
		got = append(got, s)
	}
	if diff := cmp.Diff([]gw.Status{gw.StatusReady, gw.StatusPaid}, got); diff != "" {
		t.Errorf("state seen by the receiver (-want +got):\n%s", diff)
	}
}

func TestWebhookRetried(t *testing.T) {
	rcv := newReceiver(t)
	rcv.failNext.Store(2)
	e := newEnv(t, Options{WebhookURL: rcv.srv.URL, Backoff: fastBackoff()})
	p := e.cardPayment(1000)
	e.settle()
	ds := e.fake.Webhooks().Deliveries()
	if len(ds) != 1 {
		t.Fatalf("deliveries = %d, want 1", len(ds))
	}
	d := ds[0]
	statuses := []int{}
	for _, a := range d.Attempts {
		statuses = append(statuses, a.Status)
	}
	if !d.Delivered || d.GaveUp {
		t.Errorf("delivered %v gave up %v", d.Delivered, d.GaveUp)
	}
	if diff := cmp.Diff([]int{503, 503, 200}, statuses); diff != "" {
		t.Errorf("attempt statuses (-want +got):\n%s", diff)
	}
	if got := rcv.webhooks(); len(got) != 1 || got[0].ImpUID != p.ImpUID {
		t.Errorf("receiver got %+v", got)
	}
}

func TestWebhookGivesUpAfterRealScheduleLength(t *testing.T) {
	rcv := newReceiver(t)
	rcv.failNext.Store(100)
	e := newEnv(t, Options{WebhookURL: rcv.srv.URL, Backoff: fastBackoff()})
	e.cardPayment(1000)
	e.settle()
	d := e.fake.Webhooks().Deliveries()[0]
	if !d.GaveUp || d.Delivered || len(d.Attempts) != 6 {
		t.Errorf("gave up %v delivered %v attempts %d, want 1 + 5 retries", d.GaveUp, d.Delivered, len(d.Attempts))
	}
}

func TestFaultErrorRate(t *testing.T) {
	e := newEnv(t, Options{})
	p := e.cardPayment(1000)
	e.fake.Faults().Set(fault.Faults{ErrorRate: 1})
	e.fails(e.do("GET", "/payments/"+p.ImpUID, nil), 500, -1)
	e.fails(e.call("POST", "/users/getToken", "", gw.TokenRequest{ImpKey: DefaultKey, ImpSecret: DefaultSecret}), 500, -1)
	e.fake.Faults().Set(faultsNone())
	e.ok(e.do("GET", "/payments/"+p.ImpUID, nil), nil)
}

func TestFaultLatency(t *testing.T) {
	e := newEnv(t, Options{Faults: fault.NewInjector(fault.Faults{Latency: 40 * time.Millisecond}, nil)})
	start := time.Now()
	e.fails(e.do("GET", "/payments/imp_000000000000", nil), 404, 1)
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("answered after %v, want at least the injected 40ms", d)
	}
}

func TestFaultDecline(t *testing.T) {
	rcv := newReceiver(t)
	e := newEnv(t, Options{WebhookURL: rcv.srv.URL})
	e.fake.Faults().Set(faultsDeclineAll())

	in := onetimeRequest(1000)
	r := e.do("POST", "/subscribe/payments/onetime", in)
	e.fails(r, 200, -1)
	var failed gw.Payment
	if err := json.Unmarshal(r.env.Response, &failed); err != nil {
		t.Fatalf("decline response: %v", err)
	}
	if failed.Status != gw.StatusFailed || failed.FailReason == nil || *failed.FailReason != r.env.Message || failed.FailedAt == 0 || failed.PaidAt != 0 {
		t.Errorf("declined payment = %+v", failed.PaymentBase)
	}
	if stored := e.payment(failed.ImpUID); stored.Status != gw.StatusFailed {
		t.Errorf("stored status %s, want failed", stored.Status)
	}

	uid := "cu-" + randomHex(4)
	e.ok(e.do("POST", "/subscribe/customers/"+uid, gw.BillingKeyRequest{CardFields: in.CardFields}), nil) // issuing a key is not a payment
	e.fails(e.do("POST", "/subscribe/payments/again", gw.AgainRequest{CustomerUID: uid, OrderFields: gw.OrderFields{MerchantUID: nextOrder(), Amount: 5, Name: "n"}}), 200, -1)
	e.fails(e.do("POST", "/payments/cancel", gw.CancelRequest{ImpUID: failed.ImpUID, Reason: "r"}), 422, 1)

	// A declined order may be retried once the card goes through.
	e.fake.Faults().Set(faultsNone())
	var paid gw.Payment
	e.ok(e.do("POST", "/subscribe/payments/onetime", in), &paid)
	e.settle()
	if got := rcv.webhooks(); len(got) != 1 || got[0].ImpUID != paid.ImpUID || got[0].Status != gw.StatusPaid {
		t.Errorf("webhooks = %+v, want only the successful payment's", got)
	}
}

func TestFaultWebhookDuplicate(t *testing.T) {
	rcv := newReceiver(t)
	e := newEnv(t, Options{WebhookURL: rcv.srv.URL})
	e.fake.Faults().Set(fault.Faults{WebhookDuplicate: true})
	p := e.cardPayment(1000)
	e.settle()
	got := rcv.webhooks()
	if len(got) != 2 || got[0] != got[1] || got[0].ImpUID != p.ImpUID {
		t.Errorf("webhooks = %+v, want the same one twice", got)
	}
}

func TestFaultWebhookDelay(t *testing.T) {
	rcv := newReceiver(t)
	arrived := make(chan time.Time, 1)
	rcv.onHook = func(gw.Webhook) { arrived <- time.Now() }
	e := newEnv(t, Options{WebhookURL: rcv.srv.URL, Faults: fault.NewInjector(fault.Faults{WebhookDelay: 60 * time.Millisecond}, nil)})
	start := time.Now()
	e.cardPayment(1000)
	e.settle()
	if d := (<-arrived).Sub(start); d < 60*time.Millisecond {
		t.Errorf("webhook arrived after %v, want at least the 60ms delay", d)
	}
}

func TestFaultWebhookReorder(t *testing.T) {
	rcv := newReceiver(t)
	e := newEnv(t, Options{WebhookURL: rcv.srv.URL})
	e.fake.Faults().Set(fault.Faults{WebhookReorder: true, WebhookDelay: 400 * time.Millisecond})
	a := e.cardPayment(1000)
	b := e.cardPayment(1000)
	e.settle()
	got := rcv.webhooks()
	if len(got) != 2 || got[0].ImpUID != b.ImpUID || got[1].ImpUID != a.ImpUID {
		t.Errorf("webhooks = %+v, want %s then %s", got, b.ImpUID, a.ImpUID)
	}
}

func TestCloseStopsRetries(t *testing.T) {
	rcv := newReceiver(t)
	rcv.failNext.Store(100)
	e := newEnv(t, Options{WebhookURL: rcv.srv.URL, Backoff: []time.Duration{time.Hour}})
	e.cardPayment(1000)
	deadline := time.Now().Add(5 * time.Second)
	for {
		rcv.mu.Lock()
		hits := rcv.hits
		rcv.mu.Unlock()
		if hits > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.fake.Close()
	e.settle()
	if d := e.fake.Webhooks().Deliveries()[0]; !d.Canceled || d.Delivered {
		t.Errorf("after Close: %+v, want canceled", d)
	}
	if r := e.do("GET", "/payments/imp_000000000000", nil); r.status != http.StatusNotFound {
		t.Errorf("API after Close answered %d, want it still serving", r.status)
	}
}
