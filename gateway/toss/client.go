package toss

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/paymentctl/paymentctl/gateway/jsoncall"
)

// Defaults used when Options leaves a field zero.
const (
	DefaultBaseURL = "https://api.tosspayments.com"
	DefaultTimeout = 10 * time.Second
)

// IdempotencyHeader is the request header that makes a Toss POST idempotent:
// Toss keeps the first answer to a key for 15 days, scoped by secret key,
// URL and method, and answers a repeat with it (errors included) without
// running the call again; a repeat while the first still runs gets 409
// IDEMPOTENT_REQUEST_PROCESSING. Keys are at most 300 characters.
const IdempotencyHeader = "Idempotency-Key"

// idempotency returns the header that carries key; nil when key is "".
func idempotency(key string) http.Header {
	if key == "" {
		return nil
	}
	return http.Header{IdempotencyHeader: {key}}
}

// Options configures a Client.
type Options struct {
	// BaseURL is the API host; "" means DefaultBaseURL. Point it at a fake
	// (http://127.0.0.1:30771) in tests.
	BaseURL string
	// SecretKey authenticates every call (Basic, secret key as the user
	// name, empty password). It is never logged or put in errors.
	SecretKey string
	// HTTPClient sends the requests; nil means a client whose own timeout
	// is Timeout.
	HTTPClient *http.Client
	// Timeout bounds each call; 0 means DefaultTimeout. A context deadline
	// that comes earlier wins.
	Timeout time.Duration
}

// Client calls the Toss Payments v1 API. It is safe for concurrent use.
type Client struct {
	api jsoncall.Client
}

// New returns a Client configured by opts.
func New(opts Options) *Client {
	api := jsoncall.Client{
		PG:         "toss",
		Base:       strings.TrimRight(opts.BaseURL, "/"),
		Auth:       "Basic " + base64.StdEncoding.EncodeToString([]byte(opts.SecretKey+":")),
		HTTP:       opts.HTTPClient,
		Timeout:    opts.Timeout,
		ParseError: func(status int, raw []byte) error { return parseError(status, raw) },
	}
	if api.Base == "" {
		api.Base = DefaultBaseURL
	}
	if api.Timeout <= 0 {
		api.Timeout = DefaultTimeout
	}
	if api.HTTP == nil {
		api.HTTP = &http.Client{Timeout: api.Timeout}
	}
	return &Client{api: api}
}

// GetPayment fetches a payment by its paymentKey (GET /v1/payments/{key}).
func (c *Client) GetPayment(ctx context.Context, paymentKey string) (*Payment, error) {
	var p Payment
	return &p, c.do(ctx, http.MethodGet, "/v1/payments/"+url.PathEscape(paymentKey), nil, nil, &p)
}

// GetPaymentByOrderID fetches a payment by the merchant's orderId (GET
// /v1/payments/orders/{orderId}).
func (c *Client) GetPaymentByOrderID(ctx context.Context, orderID string) (*Payment, error) {
	var p Payment
	return &p, c.do(ctx, http.MethodGet, "/v1/payments/orders/"+url.PathEscape(orderID), nil, nil, &p)
}

// Confirm approves a payment the customer authenticated in the checkout
// window (POST /v1/payments/confirm, the real API's route). Toss refuses a
// wrong orderId or amount. IdempotencyKey, if set, goes in the
// Idempotency-Key header.
func (c *Client) Confirm(ctx context.Context, in ConfirmRequest) (*Payment, error) {
	var p Payment
	return &p, c.do(ctx, http.MethodPost, "/v1/payments/confirm", in, idempotency(in.IdempotencyKey), &p)
}

// Approve approves a payment through the original route POST
// /v1/payments/{paymentKey}, which the SDK and the original fake use.
func (c *Client) Approve(ctx context.Context, paymentKey string, in Approval) (*Payment, error) {
	var p Payment
	return &p, c.do(ctx, http.MethodPost, "/v1/payments/"+url.PathEscape(paymentKey), in, nil, &p)
}

// KeyIn makes a card payment with a typed-in card number (POST
// /v1/payments/key-in). An empty Method is sent as "card".
func (c *Client) KeyIn(ctx context.Context, in KeyInRequest) (*Payment, error) {
	if in.Method == "" {
		in.Method = CreateMethodCard
	}
	var p Payment
	return &p, c.do(ctx, http.MethodPost, "/v1/payments/key-in", in, nil, &p)
}

// CreateVirtualAccount issues a virtual account for a payment (POST
// /v1/virtual-accounts). An empty Method is sent as "virtual-account".
func (c *Client) CreateVirtualAccount(ctx context.Context, in VirtualAccountRequest) (*Payment, error) {
	if in.Method == "" {
		in.Method = CreateMethodVirtualAccount
	}
	var p Payment
	return &p, c.do(ctx, http.MethodPost, "/v1/virtual-accounts", in, nil, &p)
}

// Cancel refunds all of a payment's balance or, with CancelAmount, part of it
// (POST /v1/payments/{paymentKey}/cancel). The body's PaymentKey is filled
// in; IdempotencyKey, if set, goes in the Idempotency-Key header.
func (c *Client) Cancel(ctx context.Context, paymentKey string, in CancelRequest) (*Payment, error) {
	if in.PaymentKey == "" {
		in.PaymentKey = paymentKey
	}
	var p Payment
	return &p, c.do(ctx, http.MethodPost, "/v1/payments/"+url.PathEscape(paymentKey)+"/cancel", in, idempotency(in.IdempotencyKey), &p)
}

// IssueBillingKey registers a typed-in card as a billing key (POST
// /v1/billing/authorizations/card).
func (c *Client) IssueBillingKey(ctx context.Context, in BillingCardRequest) (*Billing, error) {
	var b Billing
	return &b, c.do(ctx, http.MethodPost, "/v1/billing/authorizations/card", in, nil, &b)
}

// IssueBillingKeyByAuthKey exchanges the authKey of the checkout window for
// a billing key (POST /v1/billing/authorizations/issue).
func (c *Client) IssueBillingKeyByAuthKey(ctx context.Context, in BillingIssueRequest) (*Billing, error) {
	var b Billing
	return &b, c.do(ctx, http.MethodPost, "/v1/billing/authorizations/issue", in, nil, &b)
}

// GetBilling looks a billing key up for its customer (POST
// /v1/billing/authorizations/{billingKey} with {customerKey}), the SDK's
// route that payment-backend uses for saved cards.
func (c *Client) GetBilling(ctx context.Context, billingKey, customerKey string) (*Billing, error) {
	var b Billing
	in := CustomerKeyRequest{CustomerKey: customerKey}
	return &b, c.do(ctx, http.MethodPost, "/v1/billing/authorizations/"+url.PathEscape(billingKey), in, nil, &b)
}

// PayWithBillingKey charges a billing key (POST /v1/billing/{billingKey}).
// Empty Method and BillingKey are filled in; IdempotencyKey, if set, goes in
// the Idempotency-Key header.
func (c *Client) PayWithBillingKey(ctx context.Context, billingKey string, in BillingPaymentRequest) (*Payment, error) {
	if in.Method == "" {
		in.Method = CreateMethodBilling
	}
	if in.BillingKey == "" {
		in.BillingKey = billingKey
	}
	var p Payment
	return &p, c.do(ctx, http.MethodPost, "/v1/billing/"+url.PathEscape(billingKey), in, idempotency(in.IdempotencyKey), &p)
}

// IssueCashReceipt issues a cash receipt for a payment (POST
// /v1/cash-receipts).
func (c *Client) IssueCashReceipt(ctx context.Context, in CashReceiptRequest) (*CashReceipt, error) {
	var r CashReceipt
	return &r, c.do(ctx, http.MethodPost, "/v1/cash-receipts", in, nil, &r)
}

// CancelCashReceipt cancels a cash receipt (POST
// /v1/cash-receipts/{receiptKey}/cancel).
func (c *Client) CancelCashReceipt(ctx context.Context, receiptKey string, in CashReceiptCancelRequest) (*CashReceipt, error) {
	var r CashReceipt
	return &r, c.do(ctx, http.MethodPost, "/v1/cash-receipts/"+url.PathEscape(receiptKey)+"/cancel", in, nil, &r)
}

// SimulateDeposit makes the customer pay into a virtual account (PUT
// /internal/{paymentKey}/deposit). Only the fakes have this route.
func (c *Client) SimulateDeposit(ctx context.Context, paymentKey string) (*Payment, error) {
	var p Payment
	return &p, c.do(ctx, http.MethodPut, "/internal/"+url.PathEscape(paymentKey)+"/deposit", nil, nil, &p)
}

// SimulateDepositCancel reverses a virtual account's deposit, as a bank
// does in rare cases (DELETE /internal/{paymentKey}/deposit). Only
// fakepg/toss has this route.
func (c *Client) SimulateDepositCancel(ctx context.Context, paymentKey string) (*Payment, error) {
	var p Payment
	return &p, c.do(ctx, http.MethodDelete, "/internal/"+url.PathEscape(paymentKey)+"/deposit", nil, nil, &p)
}

// do sends one call and decodes a 2xx answer into out.
func (c *Client) do(ctx context.Context, method, path string, in any, header http.Header, out any) error {
	return c.api.Do(ctx, jsoncall.Call{Method: method, Path: path, In: in, Header: header, Out: out})
}

// parseError turns a non-2xx answer into *Error. It understands Toss's
// {code, message}, the original fake's NestJS {statusCode, message, error}
// (message possibly a list) and falls back to the start of the text.
func parseError(status int, raw []byte) *Error {
	e := &Error{Status: status}
	var body struct {
		Code    string          `json:"code"`
		Message json.RawMessage `json:"message"`
	}
	if json.Unmarshal(raw, &body) == nil {
		e.Code = body.Code
		var msg string
		var msgs []string
		switch {
		case json.Unmarshal(body.Message, &msg) == nil:
			e.Message = msg
		case json.Unmarshal(body.Message, &msgs) == nil:
			e.Message = strings.Join(msgs, "; ")
		}
		if e.Code != "" || e.Message != "" {
			return e
		}
	}
	e.Message = jsoncall.Snippet(raw)
	return e
}
