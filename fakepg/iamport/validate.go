package iamport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"

	gw "github.com/paymentctl/paymentctl/gateway/iamport"
)

// maxRequest caps request bodies.
const maxRequest = 1 << 20

// Patterns of the SDK's DTO tags, anchored (typia tests them unanchored, so
// the SDK lets "x1234-…" through; the fake does not).
var (
	cardNumberRE = regexp.MustCompile(`^\d{4}-\d{4}-\d{4}-\d{4}$`)
	expiryRE     = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[012])$`)
	birthRE      = regexp.MustCompile(`^([0-9]{2}(0[1-9]|1[012])(0[1-9]|[12][0-9]|3[01])|\d{10})$`)
	birthdayRE   = regexp.MustCompile(`^[0-9]{4}(0[1-9]|1[012])(0[1-9]|[12][0-9]|3[01])$`)
	twoDigitsRE  = regexp.MustCompile(`^\d{2}$`)
	cvcRE        = regexp.MustCompile(`^\d{2,4}$`)
	digitRE      = regexp.MustCompile(`^\d$`)
)

// decode reads a JSON object into dst and checks that every key in required
// is present and not null, as typia does for required properties. Type
// mismatches, malformed JSON and missing keys are invalid-request errors;
// unknown keys are ignored.
func decode(r *http.Request, dst any, required ...string) error {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxRequest+1))
	if err != nil {
		return invalid("read body: %v", err)
	}
	if len(raw) > maxRequest {
		return invalid("body larger than %d bytes", maxRequest)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return invalid("body must be a JSON object: %v", err)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return invalid("%v", err)
	}
	for _, k := range required {
		if v, ok := keys[k]; !ok || string(bytes.TrimSpace(v)) == "null" {
			return invalid("$input.%s is required", k)
		}
	}
	return nil
}

// checker collects the first validation failure.
type checker struct{ err error }

func (c *checker) fail(format string, args ...any) {
	if c.err == nil {
		c.err = invalid(format, args...)
	}
}

func (c *checker) nonEmpty(name, v string) {
	if v == "" {
		c.fail("$input.%s must not be empty", name)
	}
}

func (c *checker) match(name, v string, re *regexp.Regexp, optional bool) {
	if v == "" && optional {
		return
	}
	if !re.MatchString(v) {
		c.fail("$input.%s %q does not match %s", name, v, re)
	}
}

func (c *checker) positive(name string, v gw.Amount) {
	if v <= 0 {
		c.fail("$input.%s must be positive, got %d", name, v)
	}
}

func (c *checker) notNegative(name string, v *gw.Amount) {
	if v != nil && *v < 0 {
		c.fail("$input.%s must not be negative, got %d", name, *v)
	}
}

func (c *checker) email(name, v string) {
	if v == "" {
		return
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
		c.fail("$input.%s %q is not an e-mail address", name, v)
	}
}

func (c *checker) uri(name, v string) {
	if v == "" {
		return
	}
	if u, err := url.Parse(v); err != nil || u.Scheme == "" || u.Host == "" {
		c.fail("$input.%s %q is not an absolute URI", name, v)
	}
}

func (c *checker) currency(v gw.Currency) {
	switch v {
	case "", gw.CurrencyKRW, gw.CurrencyUSD, gw.CurrencyEUR, gw.CurrencyJPY:
	default:
		c.fail("$input.currency %q is not one of KRW, USD, EUR, JPY", v)
	}
}

func (c *checker) card(f gw.CardFields) {
	c.match("card_number", f.CardNumber, cardNumberRE, false)
	c.match("expiry", f.Expiry, expiryRE, false)
	c.match("birth", f.Birth, birthRE, false)
	c.match("pwd_2digit", f.Pwd2Digit, twoDigitsRE, true)
	c.match("cvc", f.CVC, cvcRE, true)
}

func (c *checker) order(o gw.OrderFields) {
	c.nonEmpty("merchant_uid", o.MerchantUID)
	c.positive("amount", o.Amount)
	c.currency(o.Currency)
	c.notNegative("tax_free", o.TaxFree)
	if o.TaxFree != nil && *o.TaxFree > o.Amount {
		c.fail("$input.tax_free %d exceeds amount %d", *o.TaxFree, o.Amount)
	}
	if o.CardQuota < 0 {
		c.fail("$input.card_quota must not be negative")
	}
	c.email("buyer_email", o.BuyerEmail)
	c.uri("notice_url", o.NoticeURL)
}

// statusParam validates an optional payment-status path segment.
func statusParam(v string) (gw.Status, error) {
	switch s := gw.Status(v); s {
	case "", gw.StatusReady, gw.StatusPaid, gw.StatusFailed, gw.StatusCancelled:
		return s, nil
	default:
		return "", invalid("payment_status %q is not one of ready, paid, failed, cancelled", v)
	}
}

// invalid is a 400 answer.
func invalid(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: -1, msg: fmt.Sprintf(format, args...)}
}
