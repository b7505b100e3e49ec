package sdk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

func ExampleVerifyWebhook() {
	// The secret is configured on both sides in its text form.
	key, err := sdk.ParseWebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		fmt.Println(err)
		return
	}
	body := []byte(`{"test": 2432232314}`)
	sent := time.Unix(1614265330, 0)

	// The sender's side: the three headers of a delivery.
	header := http.Header{}
	header.Set(sdk.WebhookIDHeader, "msg_p5jXN8AQM9LWM0D4loKWxJek")
	header.Set(sdk.WebhookTimestampHeader, fmt.Sprint(sent.Unix()))
	header.Set(sdk.WebhookSignatureHeader, sdk.SignWebhook(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", sent, body))
	fmt.Println(header.Get(sdk.WebhookSignatureHeader))

	// The receiver's side, a few seconds later.
	fmt.Println(sdk.VerifyWebhook(key, header, body, 0, sent.Add(3*time.Second)))
	fmt.Println(sdk.VerifyWebhook(key, header, []byte(`{"test": 0}`), 0, sent.Add(3*time.Second)))
	fmt.Println(sdk.VerifyWebhook(key, header, body, 0, sent.Add(time.Hour)) != nil)
	// Output:
	// v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
	// <nil>
	// no matching webhook signature
	// true
}

// A service's webhook endpoint: one call verifies the Standard Webhooks
// signature and decrypts the event.
func ExampleReceiveWebhook() {
	client, err := sdk.New(sdk.Options{BaseURL: "http://127.0.0.1:37821", Key: "MCKOxv9B23r7EatArCFcBP03nfaS03T8", IV: "9haeYD1tIf4v8xs7"})
	if err != nil {
		fmt.Println(err)
		return
	}
	secret, err := sdk.ParseWebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		fmt.Println(err)
		return
	}
	endpoint := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		event, err := sdk.ReceiveWebhook(r, secret, client)
		if err != nil {
			// Not from paymentctl, or not for this key: 401, and paymentctl
			// (if it was paymentctl) retries.
			http.Error(w, "bad webhook", http.StatusUnauthorized)
			return
		}
		// Deduplicate on event.ID, then apply event.Current.
		fmt.Println("event", event.ID, "for order", event.Source.ID, "paid:", event.Current.PaidAt != nil)
		w.WriteHeader(http.StatusOK)
	})

	// What paymentctl sends: the event encrypted like an API body, signed.
	event := sdk.WebhookHistory{
		ID:      "3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9",
		Source:  sdk.Source{Schema: "shop", Table: "orders", ID: "5c7e2d1a-8b9f-4c3e-a6d2-1e0f9b8a7c65"},
		Current: sdk.History{PaidAt: new(time.Time)},
	}
	plain, _ := json.Marshal(event)
	wire, _ := wirecrypt.New("MCKOxv9B23r7EatArCFcBP03nfaS03T8", "9haeYD1tIf4v8xs7")
	body := wire.Encrypt(plain)
	sent := time.Now()
	req := httptest.NewRequest(http.MethodPost, "/hooks/payments", bytes.NewReader(body))
	req.Header.Set(sdk.WebhookIDHeader, event.ID)
	req.Header.Set(sdk.WebhookTimestampHeader, fmt.Sprint(sent.Unix()))
	req.Header.Set(sdk.WebhookSignatureHeader, sdk.SignWebhook(secret, event.ID, sent, body))

	rec := httptest.NewRecorder()
	endpoint.ServeHTTP(rec, req)
	fmt.Println(rec.Code)

	// The same request with another body is refused.
	forged := httptest.NewRequest(http.MethodPost, "/hooks/payments", strings.NewReader("forged"))
	forged.Header = req.Header
	rec = httptest.NewRecorder()
	endpoint.ServeHTTP(rec, forged)
	fmt.Println(rec.Code)
	// Output:
	// event 3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9 for order 5c7e2d1a-8b9f-4c3e-a6d2-1e0f9b8a7c65 paid: true
	// 200
	// 401
}

// Automatic retries: a call that meets a server restarting (503) is sent
// again after a short backoff. A POST or PUT also gets an Idempotency-Key
// of its own, so a retry never registers or refunds twice.
func ExampleOptions_maxRetries() {
	var calls atomic.Int32
	restarting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, `{"statusCode":503,"message":"not ready","error":"Service Unavailable","code":"unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer restarting.Close()

	client, err := sdk.New(sdk.Options{
		BaseURL: restarting.URL, Key: "MCKOxv9B23r7EatArCFcBP03nfaS03T8", IV: "9haeYD1tIf4v8xs7",
		MaxRetries: 3, RetryDelay: 10 * time.Millisecond,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	var info sdk.ResponseInfo
	err = client.Health(context.Background(), sdk.WithResponseInfo(&info))
	fmt.Println(err, info.StatusCode, info.Attempts)
	// Output:
	// <nil> 200 3
}
