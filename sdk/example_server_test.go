package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/config"
	fakeiamport "github.com/paymentctl/paymentctl/fakepg/iamport"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server"
)

// embedded starts paymentctl in process, as a client service's own tests
// can: local mode, a throw-away SQLite file, fake PGs on free ports.
func embedded() (*server.Running, func(), error) { return embeddedWith(nil) }

// embeddedWith is embedded with extra configuration (environment names).
func embeddedWith(extra map[string]string) (*server.Running, func(), error) {
	dir, err := os.MkdirTemp("", "paymentctl-example")
	if err != nil {
		return nil, nil, err
	}
	env := map[string]string{
		"PAYMENT_DATABASE_URL": "sqlite:" + filepath.Join(dir, "payments.db"),
		"PAYMENT_METRICS_ADDR": "127.0.0.1:0",
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := config.Load(config.LoadOptions{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		return nil, nil, err
	}
	ctx := context.Background()
	srv, err := server.Start(ctx, server.Options{Config: cfg, FakeIamportAddr: "127.0.0.1:0", FakeTossAddr: "127.0.0.1:0", FakePortOneAddr: "127.0.0.1:0"}, "")
	if err != nil {
		return nil, nil, err
	}
	return srv, func() { srv.Close(ctx); os.RemoveAll(dir) }, nil
}

// A service registers a card payment its customer made at Iamport, reads
// it back and refunds part of it.
func ExampleClient_CreateHistory() {
	srv, stop, err := embedded()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx := context.Background()

	// The customer pays in the PG's popup; here the fake PG plays that part.
	orderID := uuid.NewString()
	pg := iamport.New(iamport.Options{BaseURL: srv.Fakes.IamportURL, Key: fakeiamport.DefaultKey, Secret: fakeiamport.DefaultSecret})
	paid, err := pg.PayOnetime(ctx, iamport.OnetimeRequest{
		CardFields:  iamport.CardFields{CardNumber: "1234-1234-1234-1234", Expiry: "2028-12", Birth: "880311"},
		OrderFields: iamport.OrderFields{MerchantUID: orderID, Amount: 20000, Name: "coffee beans"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The service registers it with paymentctl, which verifies it with the PG.
	client, err := sdk.New(sdk.Options{BaseURL: srv.URL, Key: "MCKOxv9B23r7EatArCFcBP03nfaS03T8", IV: "9haeYD1tIf4v8xs7"})
	if err != nil {
		fmt.Println(err)
		return
	}
	source := sdk.Source{Schema: "shop", Table: "orders", ID: orderID}
	history, err := client.CreateHistory(ctx, sdk.HistoryCreate{
		Vendor:     sdk.Vendor{Code: sdk.VendorIamport, StoreID: "my-store", UID: paid.ImpUID},
		Source:     source,
		Price:      20000,
		Password:   "only-my-service-knows",
		WebhookURL: srv.URL + "/payments/internal/webhook",
	}, sdk.WithIdempotencyKey(orderID))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(history.VendorCode, history.Price, history.Currency, history.PaidAt != nil)

	// A partial refund goes through the PG.
	refunded, err := client.CancelHistory(ctx, sdk.CancelCreate{
		Source: source, Password: "only-my-service-knows", Price: 5000, Reason: "one bag was missing",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(*refunded.Refund, len(refunded.Cancels), refunded.Cancels[0].Reason)

	// The record is only readable with its password.
	_, err = client.History(ctx, history.ID, "guess")
	var apiErr *sdk.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, apiErr.Message)
	}
	// Output:
	// iamport 20000 KRW true
	// 5000 1 one bag was missing
	// 403 Wrong password.
}

// Refusals carry a machine-readable code: match them with errors.Is and
// the sentinels, or read Error.Code.
func ExampleError() {
	srv, stop, err := embedded()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx := context.Background()

	// The customer paid 20000 at the PG; the service expects 25000.
	orderID := uuid.NewString()
	pg := iamport.New(iamport.Options{BaseURL: srv.Fakes.IamportURL, Key: fakeiamport.DefaultKey, Secret: fakeiamport.DefaultSecret})
	paid, err := pg.PayOnetime(ctx, iamport.OnetimeRequest{
		CardFields:  iamport.CardFields{CardNumber: "1234-1234-1234-1234", Expiry: "2028-12", Birth: "880311"},
		OrderFields: iamport.OrderFields{MerchantUID: orderID, Amount: 20000, Name: "coffee beans"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	client, err := sdk.New(sdk.Options{BaseURL: srv.URL, Key: "MCKOxv9B23r7EatArCFcBP03nfaS03T8", IV: "9haeYD1tIf4v8xs7"})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = client.CreateHistory(ctx, sdk.HistoryCreate{
		Vendor:     sdk.Vendor{Code: sdk.VendorIamport, StoreID: "my-store", UID: paid.ImpUID},
		Source:     sdk.Source{Schema: "shop", Table: "orders", ID: orderID},
		Price:      25000,
		Password:   "only-my-service-knows",
		WebhookURL: srv.URL + "/payments/internal/webhook",
	})
	switch {
	case errors.Is(err, sdk.ErrAmountMismatch):
		fmt.Println("amount mismatch; a refusal too:", errors.Is(err, sdk.ErrRefused))
	case err != nil:
		fmt.Println("other error:", err)
	}
	var apiErr *sdk.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, apiErr.Code)
	}

	_, err = client.History(ctx, uuid.NewString(), "guess")
	fmt.Println(errors.Is(err, sdk.ErrNotFound))
	// Output:
	// amount mismatch; a refusal too: true
	// 422 amount_mismatch
	// true
}

// A call repeated with its Idempotency-Key (after a lost answer, say) is
// answered from the server's record, and ResponseInfo says so.
func ExampleWithResponseInfo() {
	srv, stop, err := embedded()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx := context.Background()

	orderID := uuid.NewString()
	pg := iamport.New(iamport.Options{BaseURL: srv.Fakes.IamportURL, Key: fakeiamport.DefaultKey, Secret: fakeiamport.DefaultSecret})
	paid, err := pg.PayOnetime(ctx, iamport.OnetimeRequest{
		CardFields:  iamport.CardFields{CardNumber: "1234-1234-1234-1234", Expiry: "2028-12", Birth: "880311"},
		OrderFields: iamport.OrderFields{MerchantUID: orderID, Amount: 20000, Name: "coffee beans"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	client, err := sdk.New(sdk.Options{BaseURL: srv.URL, Key: "MCKOxv9B23r7EatArCFcBP03nfaS03T8", IV: "9haeYD1tIf4v8xs7"})
	if err != nil {
		fmt.Println(err)
		return
	}
	in := sdk.HistoryCreate{
		Vendor:     sdk.Vendor{Code: sdk.VendorIamport, StoreID: "my-store", UID: paid.ImpUID},
		Source:     sdk.Source{Schema: "shop", Table: "orders", ID: orderID},
		Price:      20000,
		Password:   "only-my-service-knows",
		WebhookURL: srv.URL + "/payments/internal/webhook",
	}
	for range 2 {
		var info sdk.ResponseInfo
		h, err := client.CreateHistory(ctx, in, sdk.WithIdempotencyKey(orderID), sdk.WithResponseInfo(&info))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(info.StatusCode, h.Price, "replayed:", info.IdempotentReplayed)
	}
	// Output:
	// 201 20000 replayed: false
	// 201 20000 replayed: true
}

// A service configured in the server's services list calls with its own
// API key, key and IV; it sees only the records it registered. Without a
// valid key (here one that was revoked) it is refused with 401.
func ExampleOptions_apiKey() {
	const apiKey = "pk_example0example0example0example0example"
	services := `[{"name":"shop","api_keys":["` + config.HashAPIKey(apiKey) + `"],` +
		`"encryption":{"key":"shopKey0shopKey0shopKey0shopKey0","iv":"shopIV0shopIV0sh"}}]`
	srv, stop, err := embeddedWith(map[string]string{"PAYMENT_SERVICES": services})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx := context.Background()

	orderID := uuid.NewString()
	pg := iamport.New(iamport.Options{BaseURL: srv.Fakes.IamportURL, Key: fakeiamport.DefaultKey, Secret: fakeiamport.DefaultSecret})
	paid, err := pg.PayOnetime(ctx, iamport.OnetimeRequest{
		CardFields:  iamport.CardFields{CardNumber: "1234-1234-1234-1234", Expiry: "2028-12", Birth: "880311"},
		OrderFields: iamport.OrderFields{MerchantUID: orderID, Amount: 9000, Name: "tea"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	shop, err := sdk.New(sdk.Options{BaseURL: srv.URL, APIKey: apiKey,
		Key: "shopKey0shopKey0shopKey0shopKey0", IV: "shopIV0shopIV0sh"})
	if err != nil {
		fmt.Println(err)
		return
	}
	history, err := shop.CreateHistory(ctx, sdk.HistoryCreate{
		Vendor:     sdk.Vendor{Code: sdk.VendorIamport, StoreID: "my-store", UID: paid.ImpUID},
		Source:     sdk.Source{Schema: "shop", Table: "orders", ID: orderID},
		Price:      9000,
		Password:   "only-my-service-knows",
		WebhookURL: srv.URL + "/payments/internal/webhook",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(history.Price)

	revoked, err := sdk.New(sdk.Options{BaseURL: srv.URL, APIKey: "pk_revoked",
		Key: "shopKey0shopKey0shopKey0shopKey0", IV: "shopIV0shopIV0sh"})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = revoked.History(ctx, history.ID, "only-my-service-knows")
	fmt.Println(errors.Is(err, sdk.ErrUnauthorized))
	// Output:
	// 9000
	// true
}
