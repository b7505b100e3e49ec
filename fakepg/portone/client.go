package portone

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	api "github.com/paymentctl/paymentctl/gateway/portone"
)

// Browser calls the fake-only routes, doing what a customer's browser does
// at PortOne; gateway/portone's Client does the rest. Failures are
// *api.Error, as from the real routes.
type Browser struct {
	base   string
	secret string
	hc     *http.Client
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
	return &Browser{base: strings.TrimRight(baseURL, "/"), secret: secret, hc: &http.Client{Timeout: timeout}}
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
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("fake portone %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("fake portone %s: %w", path, err)
	}
	req.Header.Set("Authorization", api.AuthScheme+" "+b.secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.hc.Do(req)
	if err != nil {
		return fmt.Errorf("fake portone %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("fake portone %s: %w", path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("fake portone %s: %w", path, api.ParseError(resp.StatusCode, raw))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("fake portone %s: decode: %w", path, err)
	}
	return nil
}
