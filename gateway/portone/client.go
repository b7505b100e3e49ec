package portone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/paymentctl/paymentctl/gateway/jsoncall"
)

// Defaults used when Options leaves a field zero.
const (
	DefaultBaseURL = "https://api.portone.io"
	DefaultTimeout = 10 * time.Second
)

// AuthScheme is the scheme of the Authorization header: "PortOne
// <API secret>".
const AuthScheme = "PortOne"

// Options configures a Client.
type Options struct {
	// BaseURL is the API's origin; "" means DefaultBaseURL. Only the
	// origin counts, as for the official SDK: the API lives at its root.
	BaseURL string
	// Secret is the V2 API secret sent with every call. It is never
	// logged or put in errors.
	Secret string
	// StoreID, when set, is sent with every call (body field or query
	// parameter storeId); "" lets PortOne use the secret's store.
	StoreID string
	// HTTPClient sends the requests; nil means a client whose own timeout
	// is Timeout.
	HTTPClient *http.Client
	// Timeout bounds each call; 0 means DefaultTimeout. A context
	// deadline that comes earlier wins.
	Timeout time.Duration
}

// Client calls the PortOne V2 API. It is safe for concurrent use.
type Client struct {
	api     jsoncall.Client
	storeID string
}

// New returns a Client configured by opts.
func New(opts Options) *Client {
	api := jsoncall.Client{
		PG:         "portone",
		Base:       strings.TrimRight(opts.BaseURL, "/"),
		Auth:       AuthScheme + " " + opts.Secret,
		HTTP:       opts.HTTPClient,
		Timeout:    opts.Timeout,
		ParseError: func(status int, raw []byte) error { return ParseError(status, raw) },
	}
	if api.Base == "" {
		api.Base = DefaultBaseURL
	}
	if u, err := url.Parse(api.Base); err == nil && u.Scheme != "" && u.Host != "" {
		api.Base = u.Scheme + "://" + u.Host
	}
	if api.Timeout <= 0 {
		api.Timeout = DefaultTimeout
	}
	if api.HTTP == nil {
		api.HTTP = &http.Client{Timeout: api.Timeout}
	}
	return &Client{api: api, storeID: opts.StoreID}
}

// BaseURL is the API origin the client talks to.
func (c *Client) BaseURL() string { return c.api.Base }

// StoreID is the store the client names in its calls, "" for the
// secret's own.
func (c *Client) StoreID() string { return c.storeID }

// errEmptyID refuses a call whose path parameter is empty: it would reach
// another route.
var errEmptyID = errors.New("empty id")

// GetPayment fetches a payment (GET /payments/{paymentId}). PortOne
// answers PAYMENT_NOT_FOUND for an unknown id.
func (c *Client) GetPayment(ctx context.Context, paymentID string) (Payment, error) {
	if paymentID == "" {
		return nil, fmt.Errorf("portone get payment: %w", errEmptyID)
	}
	var raw json.RawMessage
	path := "/payments/" + escape(paymentID)
	if err := c.do(ctx, http.MethodGet, path, c.storeQuery(nil), nil, &raw); err != nil {
		return nil, err
	}
	p, err := DecodePayment(raw)
	if err != nil {
		return nil, fmt.Errorf("portone GET %s: %w", path, err)
	}
	return p, nil
}

// CancelPayment refunds all or part of a payment (POST
// /payments/{paymentId}/cancel). currentCancellable is the balance the
// caller believes is left before this cancel: it is sent as
// currentCancellableAmount, so PortOne refuses the cancel
// (CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN) when another cancel happened
// meanwhile, and a retry of a cancel that went through never refunds
// again. in.Amount nil refunds all that remains.
func (c *Client) CancelPayment(ctx context.Context, paymentID string, currentCancellable int64, in CancelRequest) (*Cancellation, error) {
	if paymentID == "" {
		return nil, fmt.Errorf("portone cancel payment: %w", errEmptyID)
	}
	in.CurrentCancellableAmount = &currentCancellable
	if in.StoreID == "" {
		in.StoreID = c.storeID
	}
	var out CancelResponse
	if err := c.do(ctx, http.MethodPost, "/payments/"+escape(paymentID)+"/cancel", nil, in, &out); err != nil {
		return nil, err
	}
	return &out.Cancellation, nil
}

// PayWithBillingKey charges a billing key as payment paymentID (POST
// /payments/{paymentId}/billing-key). The payment is PAID when it
// returns; a paymentId paid already is refused with ALREADY_PAID, which
// makes a retry safe.
func (c *Client) PayWithBillingKey(ctx context.Context, paymentID string, in BillingKeyPaymentRequest) (*BillingKeyPaymentSummary, error) {
	if paymentID == "" {
		return nil, fmt.Errorf("portone pay with billing key: %w", errEmptyID)
	}
	if in.StoreID == "" {
		in.StoreID = c.storeID
	}
	var out BillingKeyPaymentResponse
	if err := c.do(ctx, http.MethodPost, "/payments/"+escape(paymentID)+"/billing-key", nil, in, &out); err != nil {
		return nil, err
	}
	return &out.Payment, nil
}

// GetBillingKey fetches a billing key (GET /billing-keys/{billingKey}).
func (c *Client) GetBillingKey(ctx context.Context, billingKey string) (*BillingKeyInfo, error) {
	if billingKey == "" {
		return nil, fmt.Errorf("portone get billing key: %w", errEmptyID)
	}
	var out BillingKeyInfo
	if err := c.do(ctx, http.MethodGet, "/billing-keys/"+escape(billingKey), c.storeQuery(nil), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteBillingKey deletes a billing key (DELETE
// /billing-keys/{billingKey}); reason may be "". It returns the time of
// the deletion.
func (c *Client) DeleteBillingKey(ctx context.Context, billingKey, reason string) (time.Time, error) {
	if billingKey == "" {
		return time.Time{}, fmt.Errorf("portone delete billing key: %w", errEmptyID)
	}
	q := url.Values{}
	if reason != "" {
		q.Set("reason", reason)
	}
	var out DeleteBillingKeyResponse
	if err := c.do(ctx, http.MethodDelete, "/billing-keys/"+escape(billingKey), c.storeQuery(q), nil, &out); err != nil {
		return time.Time{}, err
	}
	return out.DeletedAt, nil
}

// storeQuery adds the client's store to q.
func (c *Client) storeQuery(q url.Values) url.Values {
	if c.storeID == "" {
		return q
	}
	if q == nil {
		q = url.Values{}
	}
	q.Set("storeId", c.storeID)
	return q
}

// do sends one call and decodes a 2xx answer into out.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	return c.api.Do(ctx, jsoncall.Call{Method: method, Path: path, Query: query, In: in, Out: out})
}

// ParseError turns a non-2xx answer into *Error: PortOne's {type,
// message} when the body is one, else the status and the start of the
// body. Client uses it; so may a client of routes this package does not
// cover, such as the fake's own.
func ParseError(status int, raw []byte) *Error {
	e := &Error{Status: status}
	var body ErrorBody
	if json.Unmarshal(raw, &body) == nil && body.Type != "" {
		e.Type, e.Message, e.PgCode, e.PgMessage = body.Type, body.Message, body.PgCode, body.PgMessage
		return e
	}
	e.Message = jsoncall.Snippet(raw)
	return e
}

// escape escapes a path parameter as JavaScript's encodeURIComponent
// does, which is how the official SDK builds its URLs: everything but
// letters, digits and - _ . ! ~ * ' ( ) is percent-encoded.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
