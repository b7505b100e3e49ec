package portone

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/paymentctl/paymentctl/gateway/jsoncall"
	api "github.com/paymentctl/paymentctl/gateway/portone"
)

// Browser calls the fake-only routes, doing what a customer's browser does
// at PortOne; gateway/portone's Client does the rest. Failures are
// *api.Error, as from the real routes.
type Browser struct {
	api jsoncall.Client
}

// NewBrowser returns a Browser of the fake at baseURL, authenticated with
// secret ("" means DefaultSecret); each call is bounded by timeout (0
// means api.DefaultTimeout).
func NewBrowser(baseURL, secret string, timeout time.Duration) *Browser {
	if secret == "" {
		secret = DefaultSecret
	}
	if timeout <= 0 {
		timeout = api.DefaultTimeout
	}
	return &Browser{api: jsoncall.Client{
		PG: "fake portone", Base: strings.TrimRight(baseURL, "/"), Auth: api.AuthScheme + " " + secret,
		HTTP: &http.Client{}, Timeout: timeout,
		ParseError: func(status int, body []byte) error { return api.ParseError(status, body) },
	}}
}

// Checkout makes or re-attempts a payment (POST /internal/checkout).
func (b *Browser) Checkout(ctx context.Context, in CheckoutRequest) (*CheckoutResponse, error) {
	var out CheckoutResponse
	return &out, b.do(ctx, "/internal/checkout", in, &out)
}

// IssueBillingKey issues a billing key (POST
// /internal/billing-key-checkout).
func (b *Browser) IssueBillingKey(ctx context.Context, in BillingKeyCheckoutRequest) (*BillingKeyCheckoutResponse, error) {
	var out BillingKeyCheckoutResponse
	return &out, b.do(ctx, "/internal/billing-key-checkout", in, &out)
}

// Deposit pays into a payment's virtual account (POST
// /internal/payments/{paymentId}/deposit) and returns the paid payment.
func (b *Browser) Deposit(ctx context.Context, paymentID string) (api.Payment, error) {
	var raw json.RawMessage
	if err := b.do(ctx, "/internal/payments/"+url.PathEscape(paymentID)+"/deposit", struct{}{}, &raw); err != nil {
		return nil, err
	}
	return api.DecodePayment(raw)
}

// do POSTs in as JSON to path and decodes the answer into out.
func (b *Browser) do(ctx context.Context, path string, in, out any) error {
	return b.api.Do(ctx, jsoncall.Call{Method: http.MethodPost, Path: path, In: in, Out: out})
}
