package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	fakeportone "github.com/paymentctl/paymentctl/fakepg/portone"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/sdk"
)

// method is a payment method of a flow test.
type method struct {
	name string
	// pay makes the payment at the fake PG and returns its uid.
	pay func(h *harness, src sdk.Source, amount int64) string
	// deposit pays a virtual account in, or is nil for cards.
	deposit func(h *harness, uid string)
	vendor  sdk.VendorCode
	account *sdk.BankAccount
}

// methods are the original suite's four payment kinds (payments-backend.md
// §11), card and virtual account at each PG, and the same two at PortOne
// V2.
func methods() []method {
	return []method{
		{name: "iamport_card", vendor: sdk.VendorIamport,
			pay: func(h *harness, src sdk.Source, amount int64) string { return h.iamportCard(src, amount).ImpUID }},
		{name: "iamport_vbank", vendor: sdk.VendorIamport,
			pay: func(h *harness, src sdk.Source, amount int64) string { return h.iamportVBank(src, amount).ImpUID },
			deposit: func(h *harness, uid string) {
				if _, err := h.iamport.Deposit(context.Background(), uid); err != nil {
					h.t.Fatalf("deposit: %v", err)
				}
			},
			account: &sdk.BankAccount{Bank: "신한은행", Account: "110-123-456789", Holder: "홍길동", Mobile: "010-1234-5678"}},
		{name: "toss_card", vendor: sdk.VendorToss,
			pay: func(h *harness, src sdk.Source, amount int64) string { return h.tossCard(src, amount).PaymentKey }},
		{name: "toss_vbank", vendor: sdk.VendorToss,
			pay: func(h *harness, src sdk.Source, amount int64) string { return h.tossVBank(src, amount).PaymentKey },
			deposit: func(h *harness, uid string) {
				if _, err := h.toss.SimulateDeposit(context.Background(), uid); err != nil {
					h.t.Fatalf("deposit: %v", err)
				}
			},
			account: &sdk.BankAccount{Bank: "신한은행", Account: "110123456789", Holder: "홍길동", Mobile: "01012345678"}},
		{name: "portone_card", vendor: sdk.VendorPortOne,
			pay: func(h *harness, src sdk.Source, amount int64) string {
				return h.portoneCheckout(src, amount, fakeportone.PayMethodCard)
			}},
		{name: "portone_vbank", vendor: sdk.VendorPortOne,
			pay: func(h *harness, src sdk.Source, amount int64) string {
				return h.portoneCheckout(src, amount, fakeportone.PayMethodVirtualAccount)
			},
			deposit: func(h *harness, uid string) {
				if _, err := h.browser.Deposit(context.Background(), uid); err != nil {
					h.t.Fatalf("deposit: %v", err)
				}
			},
			// PortOne V2 takes its own bank codes.
			account: &sdk.BankAccount{Bank: "SHINHAN", Account: "110123456789", Holder: "홍길동", Mobile: "01012345678"}},
	}
}

// paid makes a payment of amount, registers it, and for a virtual account
// deposits and waits for the forwarded event; it returns the history.
func paid(t *testing.T, h *harness, m method, amount int64) *sdk.History {
	t.Helper()
	src := newSource()
	uid := m.pay(h, src, amount)
	hist := h.register(m.vendor, uid, src, amount)
	if m.deposit == nil {
		if hist.PaidAt == nil {
			t.Fatalf("card payment registered without paid_at: %+v", hist)
		}
		return hist
	}
	if hist.PaidAt != nil {
		t.Fatalf("virtual account paid before the deposit: %+v", hist)
	}
	before := len(h.srv.Inbox.Events())
	m.deposit(h, uid)
	evs := h.waitEvents(before + 1)
	ev := evs[len(evs)-1]
	if ev.Current.ID != hist.ID || ev.Previous.PaidAt != nil || ev.Current.PaidAt == nil {
		t.Fatalf("deposit event: previous.paid_at %v, current.paid_at %v, ids %s/%s", ev.Previous.PaidAt, ev.Current.PaidAt, ev.Current.ID, hist.ID)
	}
	got, err := h.api.History(context.Background(), hist.ID, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestPaymentFlows(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		ctx := context.Background()
		for _, m := range methods() {
			t.Run(m.name, func(t *testing.T) {
				t.Run("register and look up", func(t *testing.T) {
					hist := paid(t, h, m, 20000)
					if hist.Price != 20000 || hist.Currency != "KRW" || hist.VendorCode != m.vendor || hist.Refund != nil || hist.CancelledAt != nil {
						t.Errorf("history: %+v", hist)
					}
					byID, err := h.api.History(ctx, hist.ID, testPassword)
					if err != nil {
						t.Fatal(err)
					}
					bySource, err := h.api.HistoryBySource(ctx, sdk.Accessor{Source: hist.Source, Password: testPassword})
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(byID, bySource); diff != "" {
						t.Errorf("by id vs by source (-id +source):\n%s", diff)
					}
					// Registration answers with what it stored, not a re-read.
					if diff := cmp.Diff(hist, byID); diff != "" {
						t.Errorf("registration vs read (-registered +read):\n%s", diff)
					}
					switch m.vendor {
					case sdk.VendorIamport:
						p, err := byID.IamportPayment()
						if err != nil || p.Status != iamport.StatusPaid || int64(p.Amount) != 20000 {
							t.Errorf("iamport data: %+v, %v", p, err)
						}
					case sdk.VendorToss:
						p, err := byID.TossPayment()
						if err != nil || p.Status != toss.StatusDone || p.TotalAmount != 20000 {
							t.Errorf("toss data: %+v, %v", p, err)
						}
					case sdk.VendorPortOne:
						p, err := byID.PortOnePayment()
						if err != nil || p.Base().Status != portone.StatusPaid || p.Base().Amount.Total != 20000 || p.Base().ID != hist.Source.ID {
							t.Errorf("portone data: %+v, %v", p, err)
						}
					}
				})
				t.Run("full cancel", func(t *testing.T) {
					hist := paid(t, h, m, 19900)
					before := len(h.srv.Inbox.Events())
					got, err := h.api.CancelHistory(ctx, sdk.CancelCreate{
						Source: hist.Source, Password: testPassword, Price: hist.Price, Reason: "some-reason", Account: m.account,
					})
					if err != nil {
						t.Fatal(err)
					}
					checkCancelled(t, got, hist.Price, 1)
					evs := h.waitEvents(before + 1)
					ev := evs[len(evs)-1]
					if ev.Previous.CancelledAt != nil {
						t.Errorf("previous already cancelled: %+v", ev.Previous)
					}
					checkCancelled(t, &ev.Current, hist.Price, 1)
					again, err := h.api.History(ctx, hist.ID, testPassword)
					if err != nil {
						t.Fatal(err)
					}
					checkCancelled(t, again, hist.Price, 1)
				})
				t.Run("five partial cancels", func(t *testing.T) {
					hist := paid(t, h, m, 20000)
					part := hist.Price / 5
					var first *time.Time
					for i := 1; i <= 5; i++ {
						before := len(h.srv.Inbox.Events())
						got, err := h.api.CancelHistory(ctx, sdk.CancelCreate{
							Source: hist.Source, Password: testPassword, Price: part, Reason: "some-reason", Account: m.account,
						})
						if err != nil {
							t.Fatalf("cancel %d: %v", i, err)
						}
						checkCancelled(t, got, part*int64(i), i)
						if first == nil {
							first = got.CancelledAt
						} else if !got.CancelledAt.Equal(*first) {
							t.Errorf("cancel %d moved cancelled_at from %v to %v", i, first, got.CancelledAt)
						}
						evs := h.waitEvents(before + 1)
						checkCancelled(t, &evs[len(evs)-1].Current, part*int64(i), i)
					}
				})
			})
		}
		t.Run("subscription", func(t *testing.T) {
			t.Run("iamport", func(t *testing.T) {
				src := newSource()
				if _, err := h.iamport.CreateBillingKey(ctx, src.ID, iamport.BillingKeyRequest{
					CustomerUID: src.ID, CardFields: iamport.CardFields{CardNumber: "1234-5678-1234-5678", Expiry: "2028-12", Birth: "880311"},
				}); err != nil {
					t.Fatal(err)
				}
				checkReservation(t, h, sdk.ReservationCreate{
					Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: src.ID}, Source: src,
					Title: "some-title", Password: testPassword,
				})
			})
			t.Run("toss", func(t *testing.T) {
				src := newSource()
				b, err := h.toss.IssueBillingKey(ctx, toss.BillingCardRequest{
					CustomerKey: src.ID, CardNumber: "1111222233334444", CardExpirationYear: "28", CardExpirationMonth: "03",
					CardPassword: "99", CustomerBirthday: "880311", ConsumerName: "남정호",
				})
				if err != nil {
					t.Fatal(err)
				}
				checkReservation(t, h, sdk.ReservationCreate{
					Vendor: sdk.Vendor{Code: sdk.VendorToss, StoreID: tossStoreID, UID: b.BillingKey}, Source: src,
					Title: "some-title", Password: testPassword,
				})
			})
		})
		t.Run("subscription/portone", func(t *testing.T) { portoneSubscription(t, h) })
		t.Run("metrics", func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.srv.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			out := rec.Body.String()
			for _, want := range []string{
				`paymentctl_http_request_duration_seconds_count{method="POST",route="/payments/histories",status="201"}`,
				`paymentctl_http_request_duration_seconds_count{method="PUT",route="/payments/histories/cancel",status="200"}`,
				`paymentctl_webhook_delivery_attempts_total{outcome="delivered"}`,
				`paymentctl_pg_request_duration_seconds_count{operation="get_payment",outcome="2xx",pg="iamport"}`,
				`paymentctl_pg_request_duration_seconds_count{operation="confirm",outcome="2xx",pg="toss"}`,
				`paymentctl_pg_request_duration_seconds_count{operation="cancel",outcome="2xx",pg="portone"}`,
			} {
				if !strings.Contains(out, want) {
					t.Errorf("metrics lack %s", want)
				}
			}
		})
		t.Run("monitors", func(t *testing.T) {
			if err := h.api.Health(ctx); err != nil {
				t.Errorf("health: %v", err)
			}
			sys, err := h.api.System(ctx)
			if err != nil || sys.UID == "" || len(sys.Arguments) == 0 || sys.CreatedAt == "" || sys.Package.Name == "" {
				t.Errorf("system: %+v, %v", sys, err)
			}
			perf, err := h.api.Performance(ctx)
			if err != nil || perf.Memory.HeapUsed <= 0 || perf.Runtime.Goroutines <= 0 || perf.Runtime.Requests <= 0 {
				t.Errorf("performance: %+v, %v", perf, err)
			}
		})
	})
}

// checkCancelled asserts a history refunded `refund` over n cancels, as
// the original's validate_payment_cancel helpers do.
func checkCancelled(t *testing.T, h *sdk.History, refund int64, n int) {
	t.Helper()
	var sum int64
	for _, c := range h.Cancels {
		sum += c.Price
	}
	if h.CancelledAt == nil || len(h.Cancels) != n || sum != refund || h.Refund == nil || *h.Refund != refund {
		t.Errorf("after %d cancels: cancelled_at %v, cancels %+v, refund %v; want %d refunded", n, h.CancelledAt, h.Cancels, h.Refund, refund)
	}
}

// checkReservation registers a saved card and reads it back both ways.
func checkReservation(t *testing.T, h *harness, in sdk.ReservationCreate) {
	t.Helper()
	ctx := context.Background()
	r, err := h.api.CreateReservation(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	byID, err := h.api.Reservation(ctx, r.ID, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	bySource, err := h.api.ReservationBySource(ctx, sdk.Accessor{Source: in.Source, Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(byID, bySource); diff != "" {
		t.Errorf("by id vs by source:\n%s", diff)
	}
	if byID.Title != in.Title || byID.Vendor != in.Vendor || len(byID.Data) == 0 {
		t.Errorf("reservation: %+v", byID)
	}
}

// TestRegisterCancelledPayment registers a payment that was partly
// refunded at the PG before its registration: the answer carries the
// cancel and equals a later read.
func TestRegisterCancelledPayment(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		ctx := context.Background()
		src := newSource()
		p := h.iamportCard(src, 20000)
		part := iamport.Amount(5000)
		if _, err := h.iamport.Cancel(ctx, iamport.CancelRequest{ImpUID: p.ImpUID, Amount: &part, Reason: "before registration"}); err != nil {
			t.Fatal(err)
		}
		hist := h.register(sdk.VendorIamport, p.ImpUID, src, 20000)
		if len(hist.Cancels) != 1 || hist.Cancels[0].Price != 5000 || hist.Refund == nil || *hist.Refund != 5000 || hist.CancelledAt == nil {
			t.Errorf("registered: cancels %+v, refund %v, cancelled_at %v", hist.Cancels, hist.Refund, hist.CancelledAt)
		}
		read, err := h.api.History(ctx, hist.ID, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(hist, read); diff != "" {
			t.Errorf("registration vs read (-registered +read):\n%s", diff)
		}
	})
}

// TestWebhookBeforeRegistration: the PG's webhook of a deposit that comes
// before the payment is registered is kept, and the registration applies
// it: the history is registered paid, the kept webhook is marked applied,
// and nothing is forwarded (the service learns the state from the
// registration's answer). Iamport only: a Toss virtual account is issued
// by the registration's confirm, so nothing can be deposited before it.
func TestWebhookBeforeRegistration(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		m := methods()[1]
		if m.name != "iamport_vbank" {
			t.Fatalf("methods()[1] is %s", m.name)
		}
		src := newSource()
		uid := m.pay(h, src, 30000)
		m.deposit(h, uid)
		const kept = "SELECT count(*) FROM payment_pending_webhooks WHERE vendor_code = $1 AND vendor_uid = $2 AND applied_at IS NULL"
		deadline := time.Now().Add(eventWaitTimeout)
		for h.count(kept, string(m.vendor), uid) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the deposit's webhook was not kept for the registration")
			}
			time.Sleep(20 * time.Millisecond)
		}
		before := len(h.srv.Inbox.Events())
		hist := h.register(m.vendor, uid, src, 30000)
		if hist.PaidAt == nil {
			t.Errorf("registered after the deposit without paid_at: %+v", hist)
		}
		h.drainJobs()
		if n := h.count(kept, string(m.vendor), uid); n != 0 {
			t.Errorf("%d kept webhooks not applied after the registration", n)
		}
		if evs := h.srv.Inbox.Events(); len(evs) != before {
			t.Errorf("%d events forwarded for a payment registered as it is", len(evs)-before)
		}
	})
}
