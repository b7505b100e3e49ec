package fakepg

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/fakepg/fault"
	"github.com/paymentctl/paymentctl/fakepg/iamport"
	"github.com/paymentctl/paymentctl/fakepg/toss"
	gwiamport "github.com/paymentctl/paymentctl/gateway/iamport"
	gwtoss "github.com/paymentctl/paymentctl/gateway/toss"
)

// These tests drive the in-process fakes through the gateway clients the
// payment server uses, switching faults on with SetFaults and the fakes'
// Faults().Set, as the server's tests do.

func tossClient(f *Fakes, timeout time.Duration) *gwtoss.Client {
	return gwtoss.New(gwtoss.Options{BaseURL: f.TossURL, SecretKey: toss.DefaultSecretKey, Timeout: timeout})
}

func iamportClient(f *Fakes) *gwiamport.Client {
	return gwiamport.New(gwiamport.Options{BaseURL: f.IamportURL, Key: iamport.DefaultKey, Secret: iamport.DefaultSecret})
}

func tossPaid(t *testing.T, c *gwtoss.Client, amount int64) *gwtoss.Payment {
	t.Helper()
	p, err := c.KeyIn(context.Background(), gwtoss.KeyInRequest{
		CardNumber: "1111222233334444", CardExpirationYear: "28", CardExpirationMonth: "03",
		OrderID: uuid.NewString(), OrderName: "fault test", Amount: amount,
	})
	if err != nil {
		t.Fatalf("KeyIn: %v", err)
	}
	return p
}

func iamportPaid(t *testing.T, c *gwiamport.Client, amount gwiamport.Amount) *gwiamport.Payment {
	t.Helper()
	p, err := c.PayOnetime(context.Background(), gwiamport.OnetimeRequest{
		CardFields:  gwiamport.CardFields{CardNumber: "1234-1234-1234-1234", Expiry: "2028-12", Birth: "880311"},
		OrderFields: gwiamport.OrderFields{MerchantUID: uuid.NewString(), Amount: amount, Name: "fault test"},
	})
	if err != nil {
		t.Fatalf("PayOnetime: %v", err)
	}
	return p
}

// unanswered fails t unless err is a failed call that got no answer from
// the gateway.
func unanswered(t *testing.T, what string, err error) {
	t.Helper()
	var te *gwtoss.Error
	var ie *gwiamport.Error
	switch {
	case err == nil:
		t.Fatalf("%s succeeded, want no answer", what)
	case errors.As(err, &te), errors.As(err, &ie):
		t.Fatalf("%s: %v, want no answer at all", what, err)
	}
}

func TestRouteLatencyTossCancel(t *testing.T) {
	f := start(t, Options{})
	ctx := context.Background()
	c := tossClient(f, 10*time.Second)
	p := tossPaid(t, c, 10000)
	cancelRoute := fault.Route{Method: http.MethodPost, Path: "/v1/payments/*/cancel"}

	// Longer than the client's timeout: the client gives up, the fake
	// refunded anyway.
	f.SetFaults(fault.Faults{RouteLatency: []fault.RouteLatency{{Route: cancelRoute, Latency: time.Hour}}})
	impatient := tossClient(f, 200*time.Millisecond)
	_, err := impatient.Cancel(ctx, p.PaymentKey, gwtoss.CancelRequest{CancelReason: "late", CancelAmount: 3000})
	unanswered(t, "cancel with an hour of latency", err)
	got, err := c.GetPayment(ctx, p.PaymentKey) // GET is not slowed down
	if err != nil {
		t.Fatal(err)
	}
	if got.BalanceAmount != 7000 || got.Status != gwtoss.StatusPartialCanceled {
		t.Errorf("after the timed-out cancel: balance %d status %s, want 7000 PARTIAL_CANCELED", got.BalanceAmount, got.Status)
	}

	// Shorter than the timeout: answered late, with the change.
	const latency = 300 * time.Millisecond
	f.SetFaults(fault.Faults{RouteLatency: []fault.RouteLatency{{Route: cancelRoute, Latency: latency}}})
	start := time.Now()
	got, err = c.Cancel(ctx, p.PaymentKey, gwtoss.CancelRequest{CancelReason: "late", CancelAmount: 2000})
	if err != nil {
		t.Fatalf("cancel with %v of latency: %v", latency, err)
	}
	if took := time.Since(start); took < latency {
		t.Errorf("answered after %v, want at least %v", took, latency)
	}
	if got.BalanceAmount != 5000 {
		t.Errorf("answer's balance %d, want 5000", got.BalanceAmount)
	}

	f.SetFaults(fault.Faults{})
	if _, err := c.Cancel(ctx, p.PaymentKey, gwtoss.CancelRequest{CancelReason: "on time"}); err != nil {
		t.Fatalf("cancel with the faults off: %v", err)
	}
}

func TestDropResponseIamportCancel(t *testing.T) {
	f := start(t, Options{})
	ctx := context.Background()
	c := iamportClient(f)
	p := iamportPaid(t, c, 20000)

	f.Iamport.Faults().Set(fault.Faults{DropResponse: []fault.Route{{Method: http.MethodPost, Path: "/payments/cancel"}}})
	_, err := c.Cancel(ctx, gwiamport.CancelRequest{ImpUID: p.ImpUID, Reason: "dropped"})
	unanswered(t, "cancel with its answer dropped", err)

	got, err := c.Payment(ctx, p.ImpUID)
	if err != nil {
		t.Fatalf("look-up after the dropped answer: %v", err)
	}
	if got.Status != gwiamport.StatusCancelled || got.CancelAmount != 20000 {
		t.Errorf("after the dropped cancel: status %s cancel_amount %v, want cancelled 20000", got.Status, got.CancelAmount)
	}
}

func TestWebhookDropRateInProcess(t *testing.T) {
	sink := newSink(t)
	f := start(t, Options{WebhookURL: sink.srv.URL, Faults: fault.Faults{WebhookDropRate: 1}})
	tossPaid(t, tossClient(f, 10*time.Second), 1000)
	iamportPaid(t, iamportClient(f), 1000)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for name, fk := range map[string]fake{"iamport": f.Iamport, "toss": f.Toss} {
		if err := fk.Webhooks().Wait(ctx); err != nil {
			t.Fatal(err)
		}
		ds := fk.Webhooks().Deliveries()
		if len(ds) == 0 {
			t.Errorf("%s recorded no webhook", name)
		}
		for _, d := range ds {
			if !d.FaultDropped || len(d.Attempts) != 0 {
				t.Errorf("%s delivery %s: FaultDropped %v, %d attempts; want dropped unsent", name, d.ID, d.FaultDropped, len(d.Attempts))
			}
		}
	}
	if got := sink.received(); len(got) != 0 {
		t.Errorf("the receiver got %d webhooks, want none: %q", len(got), got)
	}
}

func TestCloseCutsHeldCallsShort(t *testing.T) {
	entered := make(chan struct{}, 1)
	f, err := Start(context.Background(), Options{
		Only:     OnlyToss,
		TossAddr: loopbackAny,
		Logf:     t.Logf,
		Faults:   fault.Faults{RouteLatency: []fault.RouteLatency{{Route: fault.Route{Path: "/v1/payments/*"}, Latency: time.Hour}}},
		Wrap: func(_ string, h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case entered <- struct{}{}:
				default:
				}
				h.ServeHTTP(w, r)
			})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := tossClient(f, 30*time.Second).GetPayment(context.Background(), "no-such-key")
		errc <- err
	}()
	<-entered

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.Close(ctx); err != nil {
		t.Errorf("Close with a call held for an hour: %v", err)
	}
	unanswered(t, "call held when the fake closed", <-errc)
}
