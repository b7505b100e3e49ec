package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	fakeiamport "github.com/paymentctl/paymentctl/fakepg/iamport"
	faketoss "github.com/paymentctl/paymentctl/fakepg/toss"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/sdk"
)

// The record every payment of the run is registered with.
const (
	seedPassword   = "rolling-password"
	iamportStoreID = "rolling-iamport-store"
	tossStoreID    = "rolling-toss-store"
	amount         = 19900
	// noReceiver is the webhook_url of every registration. Registering
	// sends no event, and the fake PGs of the run send theirs to their own
	// sinks, so nothing is ever delivered there.
	noReceiver = "http://127.0.0.1:9/rolling"
)

// seed is a registered payment: what a read must answer.
type seed struct {
	id     string // paymentctl's id; empty for a registration not answered yet
	uid    string // the PG's id
	code   sdk.VendorCode
	source sdk.Source
	price  int64
}

// pgKit makes payments at the fake PGs, as a shop's checkout window
// would, before they are registered with paymentctl.
type pgKit struct {
	iamport *iamport.Client
	toss    *toss.Client
}

func newPGKit(iamportURL, tossURL string) *pgKit {
	hc := &http.Client{
		Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16, IdleConnTimeout: time.Minute},
		Timeout:   requestTimeout,
	}
	return &pgKit{
		iamport: iamport.New(iamport.Options{BaseURL: iamportURL, Key: fakeiamport.DefaultKey, Secret: fakeiamport.DefaultSecret, HTTPClient: hc}),
		toss:    toss.New(toss.Options{BaseURL: tossURL, SecretKey: faketoss.DefaultSecretKey, HTTPClient: hc}),
	}
}

// pay makes a card payment at the fake Iamport (paid at once) or at the
// fake Toss (left for the registration to confirm) and returns the body
// that registers it.
func (k *pgKit) pay(ctx context.Context, useIamport bool) (sdk.HistoryCreate, error) {
	src := sdk.Source{Schema: "rolling", Table: "orders", ID: uuid.NewString()}
	in := sdk.HistoryCreate{Source: src, Price: amount, Password: seedPassword, WebhookURL: noReceiver}
	if useIamport {
		p, err := k.iamport.PayOnetime(ctx, iamport.OnetimeRequest{
			CardFields:  iamport.CardFields{CardNumber: "1234-1234-1234-1234", Expiry: "2029-12", Birth: "880311"},
			OrderFields: iamport.OrderFields{MerchantUID: src.ID, Amount: amount, Name: "rolling"},
		})
		if err != nil {
			return in, fmt.Errorf("pay at the fake iamport: %w", err)
		}
		in.Vendor = sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: p.ImpUID}
		return in, nil
	}
	approved := false
	p, err := k.toss.KeyIn(ctx, toss.KeyInRequest{
		Method: "card", CardNumber: "1111222233334444", CardExpirationYear: "29", CardExpirationMonth: "03",
		OrderID: src.ID, OrderName: "rolling", Amount: amount, Approved: &approved,
	})
	if err != nil {
		return in, fmt.Errorf("pay at the fake toss: %w", err)
	}
	in.Vendor = sdk.Vendor{Code: sdk.VendorToss, StoreID: tossStoreID, UID: p.PaymentKey}
	return in, nil
}

// seedPayments makes n payments at the fakes, half at each, registers them
// through the SDK round-robin over the instances, and reads each back
// through another instance.
func seedPayments(ctx context.Context, targets []string, key, iv string, pg *pgKit, n int) ([]seed, error) {
	clients := make([]*sdk.Client, len(targets))
	for i, t := range targets {
		c, err := sdk.New(sdk.Options{BaseURL: t, Key: key, IV: iv, Timeout: requestTimeout})
		if err != nil {
			return nil, err
		}
		clients[i] = c
	}
	seeds := make([]seed, 0, n)
	for i := range n {
		in, err := pg.pay(ctx, i%2 == 0)
		if err != nil {
			return nil, err
		}
		h, err := clients[i%len(clients)].CreateHistory(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("seed %d: register through %s: %w", i, targets[i%len(targets)], err)
		}
		seeds = append(seeds, seed{id: h.ID, uid: in.Vendor.UID, code: in.Vendor.Code, source: in.Source, price: in.Price})
	}
	for i, sd := range seeds {
		h, err := clients[(i+1)%len(clients)].History(ctx, sd.id, seedPassword)
		if err != nil {
			return nil, fmt.Errorf("seed %d: read back: %w", i, err)
		}
		if h.ID != sd.id || h.Vendor.UID != sd.uid || h.Price != sd.price || h.Source != sd.source {
			return nil, fmt.Errorf("seed %d: read back %+v, registered %+v", i, h, sd)
		}
	}
	return seeds, nil
}
