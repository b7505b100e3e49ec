package payment

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/internal/safetext"
)

// The formats of the PG webhook fields paymentctl reads. A body that does
// not fit is refused (400), so an id that could never name a payment never
// reaches a PG call, a log or a job's error record. They are the PGs'
// documented charsets with generous lengths.
const (
	// maxIamportUID bounds the characters after "imp_" (real imp_uids
	// have 12 digits).
	maxIamportUID = 64
	// maxMerchantUID bounds Iamport's merchant_uid, the order id the
	// merchant chose.
	maxMerchantUID = 128
	// maxStatus bounds a status word of either PG.
	maxStatus = 32
	// maxPaymentKey bounds Toss's paymentKey (Toss documents 200).
	maxPaymentKey = 200
	// maxOrderID bounds Toss's orderId (Toss documents 6 to 64
	// characters of letters, digits, "-", "_" and "=").
	maxOrderID = 64
	// maxSecret bounds a Toss virtual account's deposit secret.
	maxSecret = 128
	// maxPortOnePaymentID bounds a PortOne V2 paymentId, which the merchant
	// chooses: registrations take vendor.uid up to 200 characters.
	maxPortOnePaymentID = 200
	// portonePaymentIDExtra are the characters a PortOne V2 paymentId may
	// hold besides ASCII letters and digits: those of vendor.uid.
	portonePaymentIDExtra = "-_.=:@+~"
)

// badField describes a webhook field that does not fit its format: it
// names the field and what is wrong with it (flaw, from
// safetext.Describe), never the value. The error reaches the answer to
// whoever posted the webhook (a forger, perhaps), the log and a job's
// error record.
func badField(pg, field, want, flaw string) error {
	return fmt.Errorf("%s webhook: %s: expected %s, got %s", pg, field, want, flaw)
}

// badToken is badField for a field safetext.Token(v, n, extra) refused.
func badToken(pg, field, want, v string, n int, extra string) error {
	return badField(pg, field, want, safetext.DescribeToken(v, n, extra))
}

// decodeError is the refusal of a webhook body that is not the JSON its
// parser expects. encoding/json's own messages quote the body (a bad
// character, a number's literal): they are replaced by where the body
// went wrong and, for a value of the wrong type, the field's name (the
// parser's, not the body's). Other parse errors name fields only and are
// kept.
func decodeError(prefix string, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("%s: not valid JSON (at byte %d)", prefix, se.Offset)
	case errors.As(err, &te):
		kind, _, _ := strings.Cut(te.Value, " ")
		if te.Field == "" {
			return fmt.Errorf("%s: expected a JSON object, got a JSON %s", prefix, safetext.Clean(kind, 16))
		}
		return fmt.Errorf("%s: %s: wrong type, got a JSON %s", prefix, safetext.Clean(te.Field, 64), safetext.Clean(kind, 16))
	}
	return err
}

// checkIamportWebhook checks the fields of an Iamport webhook paymentctl
// reads: imp_uid is "imp_" and letters or digits; merchant_uid and status,
// when present, are short text and a status word.
func checkIamportWebhook(w iamport.Webhook) error {
	const pg = "iamport"
	const prefix = "imp_"
	want := fmt.Sprintf(`%q and 1 to %d letters or digits`, prefix, maxIamportUID)
	if !strings.HasPrefix(w.ImpUID, prefix) {
		return badField(pg, "imp_uid", want, "a value without that prefix")
	}
	if rest := w.ImpUID[len(prefix):]; !safetext.Token(rest, maxIamportUID, "") {
		return badToken(pg, "imp_uid", want, rest, maxIamportUID, "")
	}
	if !safetext.Valid(w.MerchantUID, maxMerchantUID) {
		return badField(pg, "merchant_uid", fmt.Sprintf("at most %d characters without control characters", maxMerchantUID), safetext.Describe(w.MerchantUID, maxMerchantUID))
	}
	if w.Status != "" && !safetext.Token(string(w.Status), maxStatus, "_") {
		return badToken(pg, "status", "a status word", string(w.Status), maxStatus, "_")
	}
	return nil
}

// checkTossEvent checks the fields of a Toss webhook paymentctl reads:
// the paymentKey, orderId and status of a PAYMENT_STATUS_CHANGED, the
// orderId, secret and status of a DEPOSIT_CALLBACK.
func checkTossEvent(ev toss.Event) error {
	const pg = "toss"
	if c := ev.StatusChanged; c != nil {
		d := c.Data
		if !safetext.Token(d.PaymentKey, maxPaymentKey, "-_") {
			return badToken(pg, "data.paymentKey", fmt.Sprintf("1 to %d letters, digits, - or _", maxPaymentKey), d.PaymentKey, maxPaymentKey, "-_")
		}
		if d.OrderID != "" && !safetext.Token(d.OrderID, maxOrderID, "-_=") {
			return badToken(pg, "data.orderId", fmt.Sprintf("1 to %d letters, digits, -, _ or =", maxOrderID), d.OrderID, maxOrderID, "-_=")
		}
		return checkTossStatus(pg, "data.status", d.Status)
	}
	d := ev.Deposit
	if d == nil {
		return nil
	}
	if !safetext.Token(d.OrderID, maxOrderID, "-_=") {
		return badToken(pg, "orderId", fmt.Sprintf("1 to %d letters, digits, -, _ or =", maxOrderID), d.OrderID, maxOrderID, "-_=")
	}
	if !safetext.Token(d.Secret, maxSecret, "-_=") {
		// Never echoed: it is a secret, even when malformed.
		return fmt.Errorf("%s webhook: secret: expected 1 to %d letters, digits, -, _ or =", pg, maxSecret)
	}
	return checkTossStatus(pg, "status", d.Status)
}

// checkTossStatus requires an empty or well-formed status word.
func checkTossStatus(pg, field string, s toss.Status) error {
	if s != "" && !safetext.Token(string(s), maxStatus, "_") {
		return badToken(pg, field, "a status word", string(s), maxStatus, "_")
	}
	return nil
}

// portoneEvent reads which payment a PortOne V2 webhook (its signature
// checked by the HTTP layer) is about. Only the events that change what a
// registered payment holds are kept: Transaction.Paid (a deposit),
// .PartialCancelled and .Cancelled; the others (a checkout opened, a
// virtual account issued, a failure, billing-key events, types PortOne
// adds later) are ignored, as the original ignores Iamport's "ready" and
// "failed". paymentId must fit what a registration's vendor.uid may be.
func portoneEvent(body []byte) (event, error) {
	const pg = "portone"
	w, err := portone.ParseWebhook(body)
	if err != nil {
		return event{}, decodeError("decode webhook", err)
	}
	switch w.Type {
	case portone.EventTransactionPaid, portone.EventTransactionPartialCancelled, portone.EventTransactionCancelled:
	default:
		return event{ignore: true}, nil
	}
	id := w.Data.PaymentID
	if !safetext.Token(id, maxPortOnePaymentID, portonePaymentIDExtra) {
		return event{}, badToken(pg, "data.paymentId", fmt.Sprintf("1 to %d ASCII letters, digits or any of %s", maxPortOnePaymentID, portonePaymentIDExtra), id, maxPortOnePaymentID, portonePaymentIDExtra)
	}
	return event{uid: id}, nil
}
