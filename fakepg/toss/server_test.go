package toss_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	fake "github.com/paymentctl/paymentctl/fakepg/toss"
	tossapi "github.com/paymentctl/paymentctl/gateway/toss"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t, fake.Options{})
	key := fake.DefaultSecretKey
	tests := []struct {
		name string
		auth string
		want int
	}{
		{"no header", "", http.StatusUnauthorized},
		{"bearer", "Bearer " + key, http.StatusUnauthorized},
		{"not base64", "Basic !!!", http.StatusUnauthorized},
		{"wrong key", basic("test_sk_other"), http.StatusUnauthorized},
		// The original fake dropped the last decoded character, whatever it
		// was: both of these passed there.
		{"key with an extra character and no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte(key+"X")), http.StatusUnauthorized},
		{"key missing its last character", basic(key[:len(key)-1]), http.StatusUnauthorized},
		{"right key", basic(key), http.StatusNotFound}, // authenticated, then an unknown payment
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.raw(t, "GET", "/v1/payments/nope", tt.auth, "")
			if status != tt.want {
				t.Fatalf("status = %d (%s), want %d", status, body, tt.want)
			}
			want := tossapi.CodeUnauthorizedKey
			if tt.want == http.StatusNotFound {
				want = tossapi.CodeNotFoundPayment
			}
			if got := errorBody(t, body).Code; got != want {
				t.Errorf("code = %s, want %s", got, want)
			}
		})
	}

	t.Run("client with a wrong key", func(t *testing.T) {
		c := tossapi.New(tossapi.Options{BaseURL: e.url, SecretKey: "test_sk_wrong"})
		_, err := c.GetPayment(context.Background(), "x")
		wantAPIError(t, err, http.StatusUnauthorized, tossapi.CodeUnauthorizedKey)
	})
}

func TestAuthenticationOptions(t *testing.T) {
	t.Run("own secret key", func(t *testing.T) {
		e := newEnv(t, fake.Options{SecretKey: "test_sk_mine"})
		if status, _ := e.raw(t, "GET", "/v1/payments/x", basic(fake.DefaultSecretKey), ""); status != http.StatusUnauthorized {
			t.Errorf("default key: status %d, want 401", status)
		}
		if status, _ := e.raw(t, "GET", "/v1/payments/x", basic("test_sk_mine"), ""); status != http.StatusNotFound {
			t.Errorf("own key: status %d, want 404 (authenticated)", status)
		}
	})
	t.Run("authorize predicate", func(t *testing.T) {
		e := newEnv(t, fake.Options{Authorize: func(k string) bool { return k == "store-a" || k == "store-b" }})
		for key, want := range map[string]int{"store-a": 404, "store-b": 404, "store-c": 401, fake.DefaultSecretKey: 401} {
			if status, _ := e.raw(t, "GET", "/v1/payments/x", basic(key), ""); status != want {
				t.Errorf("key %s: status %d, want %d", key, status, want)
			}
		}
	})
}

func TestUnknownRouteAndMethod(t *testing.T) {
	e := newEnv(t, fake.Options{})
	auth := basic(fake.DefaultSecretKey)
	status, body := e.raw(t, "GET", "/v2/nothing", auth, "")
	if status != http.StatusNotFound || errorBody(t, body).Code != tossapi.CodeNotFound {
		t.Errorf("unknown route: %d %s, want 404 NOT_FOUND", status, body)
	}
	status, body = e.raw(t, "PATCH", "/v1/payments/x", auth, "")
	if status != http.StatusMethodNotAllowed || errorBody(t, body).Code != tossapi.CodeInvalidRequest {
		t.Errorf("wrong method: %d %s, want 405 INVALID_REQUEST", status, body)
	}
}

func TestUnknownIDs(t *testing.T) {
	e := newEnv(t, fake.Options{})
	auth := basic(fake.DefaultSecretKey)
	tests := []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"GET", "/v1/payments/nope", "", 404, tossapi.CodeNotFoundPayment},
		{"GET", "/v1/payments/orders/nope", "", 404, tossapi.CodeNotFoundPayment},
		{"POST", "/v1/payments/nope", `{"orderId":"o","amount":100}`, 404, tossapi.CodeNotFoundPayment},
		{"POST", "/v1/payments/confirm", `{"paymentKey":"nope","orderId":"o","amount":100}`, 404, tossapi.CodeNotFoundPayment},
		{"POST", "/v1/payments/nope/cancel", `{"cancelReason":"r"}`, 404, tossapi.CodeNotFoundPayment},
		{"PUT", "/internal/nope/deposit", "", 404, tossapi.CodeNotFoundPayment},
		{"DELETE", "/internal/nope/deposit", "", 404, tossapi.CodeNotFoundPayment},
		{"POST", "/v1/billing/authorizations/nope", `{"customerKey":"c"}`, 404, tossapi.CodeNotFound},
		{"POST", "/v1/billing/authorizations/issue", `{"authKey":"nope","customerKey":"c"}`, 404, tossapi.CodeNotFound},
		{"POST", "/v1/billing/nope", `{"customerKey":"c","orderId":"o","amount":100}`, 404, tossapi.CodeNotFound},
		{"POST", "/v1/cash-receipts", `{"type":"소득공제","paymentKey":"nope","orderId":"o","orderName":"n","registrationNumber":"1","amount":100}`, 404, tossapi.CodeNotFoundPayment},
		{"POST", "/v1/cash-receipts/nope/cancel", "", 404, tossapi.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			status, body := e.raw(t, tt.method, tt.path, auth, tt.body)
			if status != tt.status || errorBody(t, body).Code != tt.code {
				t.Errorf("got %d %s, want %d %s", status, body, tt.status, tt.code)
			}
		})
	}
}

func TestValidation(t *testing.T) {
	e := newEnv(t, fake.Options{})
	auth := basic(fake.DefaultSecretKey)
	card := e.keyIn(t, "validation-card", 10000, false)
	tests := []struct {
		name, method, path, body string
	}{
		{"key-in: not JSON", "POST", "/v1/payments/key-in", `{"method":`},
		{"key-in: empty body", "POST", "/v1/payments/key-in", ``},
		{"key-in: wrong method", "POST", "/v1/payments/key-in", `{"method":"billing","cardNumber":"1111222233334444","cardExpirationYear":"28","cardExpirationMonth":"03","amount":100,"orderId":"v1"}`},
		{"key-in: short card number", "POST", "/v1/payments/key-in", `{"cardNumber":"1111","cardExpirationYear":"28","cardExpirationMonth":"03","amount":100,"orderId":"v1"}`},
		{"key-in: month 13", "POST", "/v1/payments/key-in", `{"cardNumber":"1111222233334444","cardExpirationYear":"28","cardExpirationMonth":"13","amount":100,"orderId":"v1"}`},
		{"key-in: zero amount", "POST", "/v1/payments/key-in", `{"cardNumber":"1111222233334444","cardExpirationYear":"28","cardExpirationMonth":"03","amount":0,"orderId":"v1"}`},
		{"key-in: fractional amount", "POST", "/v1/payments/key-in", `{"cardNumber":"1111222233334444","cardExpirationYear":"28","cardExpirationMonth":"03","amount":100.5,"orderId":"v1"}`},
		{"key-in: amount as string", "POST", "/v1/payments/key-in", `{"cardNumber":"1111222233334444","cardExpirationYear":"28","cardExpirationMonth":"03","amount":"100","orderId":"v1"}`},
		{"key-in: no orderId", "POST", "/v1/payments/key-in", `{"cardNumber":"1111222233334444","cardExpirationYear":"28","cardExpirationMonth":"03","amount":100}`},
		{"key-in: bad birthday", "POST", "/v1/payments/key-in", `{"cardNumber":"1111222233334444","cardExpirationYear":"28","cardExpirationMonth":"03","amount":100,"orderId":"v1","customerBirthday":"881399"}`},
		{"key-in: tax free above amount", "POST", "/v1/payments/key-in", `{"cardNumber":"1111222233334444","cardExpirationYear":"28","cardExpirationMonth":"03","amount":100,"taxFreeAmount":200,"orderId":"v1"}`},
		{"virtual account: no bank", "POST", "/v1/virtual-accounts", `{"orderId":"v2","orderName":"n","customerName":"c","amount":100}`},
		{"virtual account: wrong method", "POST", "/v1/virtual-accounts", `{"method":"card","orderId":"v2","orderName":"n","bank":"신한","customerName":"c","amount":100}`},
		{"confirm: no paymentKey", "POST", "/v1/payments/confirm", `{"orderId":"o","amount":100}`},
		{"approve: negative amount", "POST", "/v1/payments/" + card.PaymentKey, `{"orderId":"validation-card","amount":-1}`},
		{"approve: wrong orderId", "POST", "/v1/payments/" + card.PaymentKey, `{"orderId":"other","amount":10000}`},
		{"approve: wrong amount", "POST", "/v1/payments/" + card.PaymentKey, `{"orderId":"validation-card","amount":9999}`},
		{"cancel: no reason", "POST", "/v1/payments/" + card.PaymentKey + "/cancel", `{}`},
		{"cancel: other paymentKey in the body", "POST", "/v1/payments/" + card.PaymentKey + "/cancel", `{"paymentKey":"other","cancelReason":"r"}`},
		{"cancel: bad refund account", "POST", "/v1/payments/" + card.PaymentKey + "/cancel", `{"cancelReason":"r","refundReceiveAccount":{"bank":"신한","accountNumber":"110-123","holderName":"홍길동"}}`},
		{"billing card: no password", "POST", "/v1/billing/authorizations/card", `{"customerKey":"c","cardNumber":"1111222233334444","cardExpirationYear":"28","cardExpirationMonth":"03","customerBirthday":"880311"}`},
		{"billing card: no identity", "POST", "/v1/billing/authorizations/card", `{"customerKey":"c","cardNumber":"1111222233334444","cardExpirationYear":"28","cardExpirationMonth":"03","cardPassword":"99"}`},
		{"billing lookup: no customerKey", "POST", "/v1/billing/authorizations/x", `{}`},
		{"billing pay: no customerKey", "POST", "/v1/billing/x", `{"orderId":"v3","amount":100}`},
		{"cash receipt: bad type", "POST", "/v1/cash-receipts", `{"type":"영수증","paymentKey":"p","orderId":"o","orderName":"n","registrationNumber":"1","amount":100}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.raw(t, tt.method, tt.path, auth, tt.body)
			if status != http.StatusBadRequest {
				t.Fatalf("status = %d (%s), want 400", status, body)
			}
			eb := errorBody(t, body)
			if eb.Code != tossapi.CodeInvalidRequest || eb.Message == "" {
				t.Errorf("body = %+v, want INVALID_REQUEST with a message", eb)
			}
		})
	}
	// None of the refused calls changed the payment.
	got, err := e.client.GetPayment(context.Background(), card.PaymentKey)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != tossapi.StatusInProgress || got.Cancels != nil {
		t.Errorf("payment after refused calls: status %s cancels %v, want IN_PROGRESS and none", got.Status, got.Cancels)
	}
}

func TestDuplicateOrderID(t *testing.T) {
	e := newEnv(t, fake.Options{})
	e.keyIn(t, "dup-order", 1000, true)
	_, err := e.client.CreateVirtualAccount(context.Background(), tossapi.VirtualAccountRequest{
		OrderID: "dup-order", OrderName: "n", Bank: "신한", CustomerName: "c", Amount: 1000,
	})
	wantAPIError(t, err, http.StatusBadRequest, tossapi.CodeDuplicatedOrderID)
}

func TestSelfSinkDoesNotMutate(t *testing.T) {
	e := newEnv(t, fake.Options{})
	p := e.keyIn(t, "sink-order", 5000, true)
	body, _ := json.Marshal(tossapi.PaymentStatusChanged{
		EventType: tossapi.EventPaymentStatusChanged,
		Data:      tossapi.Payment{PaymentKey: p.PaymentKey, OrderID: p.OrderID, Status: tossapi.StatusPartialCanceled},
	})
	if status, b := e.raw(t, "POST", "/internal/webhook", "", string(body)); status != http.StatusOK {
		t.Fatalf("sink: %d %s, want 200 without authentication", status, b)
	}
	if status, _ := e.raw(t, "POST", "/internal/webhook", "", `{"hello":1}`); status != http.StatusBadRequest {
		t.Errorf("sink with a non-webhook body: %d, want 400", status)
	}
	got, err := e.client.GetPayment(context.Background(), p.PaymentKey)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != tossapi.StatusDone {
		t.Errorf("status after the sink = %s, want DONE (the sink must not rewrite it)", got.Status)
	}
}

func TestStorageLimits(t *testing.T) {
	t.Run("capacity", func(t *testing.T) {
		e := newEnv(t, fake.Options{Capacity: 1})
		ctx := context.Background()
		var prev *tossapi.Payment
		for i := range 5 {
			p := e.keyIn(t, "cap-"+string(rune('a'+i)), 1000, false)
			if _, err := e.client.Approve(ctx, p.PaymentKey, tossapi.Approval{OrderID: p.OrderID, Amount: 1000}); err != nil {
				t.Fatalf("round %d: Approve: %v", i, err)
			}
			if prev != nil {
				_, err := e.client.GetPayment(ctx, prev.PaymentKey)
				wantAPIError(t, err, http.StatusNotFound, tossapi.CodeNotFoundPayment)
			}
			prev = p
		}
	})
	t.Run("ttl", func(t *testing.T) {
		var mu sync.Mutex
		now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
		e := newEnv(t, fake.Options{Now: clock})
		p := e.keyIn(t, "ttl-order", 1000, true)
		advance(fake.DefaultTTL - time.Second)
		if _, err := e.client.GetPayment(context.Background(), p.PaymentKey); err != nil {
			t.Fatalf("before the TTL: %v", err)
		}
		advance(2 * time.Second)
		_, err := e.client.GetPayment(context.Background(), p.PaymentKey)
		wantAPIError(t, err, http.StatusNotFound, tossapi.CodeNotFoundPayment)
		// An expired order no longer blocks its orderId.
		e.keyIn(t, "ttl-order", 1000, true)
	})
}

func TestCancelIdempotencyKey(t *testing.T) {
	e := newEnv(t, fake.Options{})
	ctx := context.Background()
	p := e.keyIn(t, "idem-order", 10000, true)
	in := tossapi.CancelRequest{CancelReason: "retry", CancelAmount: 1000, IdempotencyKey: "k-1"}
	first, err := e.client.Cancel(ctx, p.PaymentKey, in)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.client.Cancel(ctx, p.PaymentKey, in)
	if err != nil {
		t.Fatal(err)
	}
	if second.TransactionKey != first.TransactionKey || len(second.Cancels) != 1 || second.BalanceAmount != 9000 {
		t.Errorf("replayed cancel: tx %s/%s, %d cancels, balance %d; want the first answer (1 cancel, 9000)",
			first.TransactionKey, second.TransactionKey, len(second.Cancels), second.BalanceAmount)
	}
	in.IdempotencyKey = "k-2"
	third, err := e.client.Cancel(ctx, p.PaymentKey, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(third.Cancels) != 2 || third.BalanceAmount != 8000 {
		t.Errorf("new key: %d cancels, balance %d; want 2, 8000", len(third.Cancels), third.BalanceAmount)
	}
}

func TestConcurrentPartialCancels(t *testing.T) {
	e := newEnv(t, fake.Options{})
	p := e.keyIn(t, "concurrent", 10000, true)
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for range 12 { // two more than the balance allows
		wg.Go(func() {
			_, err := e.client.Cancel(context.Background(), p.PaymentKey, tossapi.CancelRequest{CancelReason: "c", CancelAmount: 1000})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			if !tossapi.IsCode(err, tossapi.CodeNotCancelableAmount) && !tossapi.IsCode(err, tossapi.CodeAlreadyCanceledPayment) {
				t.Errorf("unexpected error %v", err)
			}
			failed++
		}
	}
	got, ok := e.srv.Payment(p.PaymentKey)
	if !ok {
		t.Fatal("payment gone")
	}
	if failed != 2 || len(got.Cancels) != 10 || got.BalanceAmount != 0 || got.Status != tossapi.StatusCanceled {
		t.Errorf("failed %d, cancels %d, balance %d, status %s; want 2, 10, 0, CANCELED",
			failed, len(got.Cancels), got.BalanceAmount, got.Status)
	}
}
