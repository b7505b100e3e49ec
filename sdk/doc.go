// Package sdk is the Go client of the paymentctl API and the home of its
// wire types (the original's `payment-api` package): History,
// Reservation, CancelHistory, WebhookHistory and the request bodies, with
// the same JSON field names as the original TypeScript SDK, so both
// clients talk to the same server.
//
// The server imports these types too, so the contract has one
// definition. Amounts are int64 whole units of the currency (KRW has no
// minor unit): money is never a float.
//
// # Client
//
// New returns a Client with one method per route of the API; each takes a
// context first and returns the typed body. The encrypted routes speak the
// original's wire protocol (see package wirecrypt): the request is the
// JSON body encrypted with the connection key and IV, sent as text/plain,
// and a 2xx answer is decrypted the same way. Options.AuthenticatedBodies
// switches a client to the authenticated AES-256-GCM format instead
// (wirecrypt.GCM), which a paymentctl server speaks but the original does
// not. Options.APIKey makes the client call as a service of the server's
// services list (Authorization: Bearer), with that service's key and IV.
// Error answers stay plain JSON, {"statusCode", "message", "error",
// "code"}, and are returned as a wrapped *Error whose Code is a stable,
// machine-readable ErrorCode (amount_mismatch, refund_exceeds_balance,
// wrong_password, …); errors.Is matches it against the sentinels
// (ErrAmountMismatch, ErrWrongPassword, …):
//
//	h, err := c.HistoryBySource(ctx, sdk.Accessor{Source: src, Password: pw})
//	switch {
//	case errors.Is(err, sdk.ErrNotFound):
//		// no payment for src
//	case errors.Is(err, sdk.ErrWrongPassword):
//		// …
//	}
//
// CreateHistory, CancelHistory and CreateReservation take
// WithIdempotencyKey, which makes a retry after a timeout safe: the server
// answers a repeat from its record instead of acting twice.
//
// # Retries and response details
//
// Options.MaxRetries turns on automatic retries, with exponential backoff
// and jitter, of the answers that mean "try again": no answer at all (a
// connection error, or Options.Timeout passed for that attempt), 409
// idempotency_key_in_use, 429 (after its Retry-After), 502, 503, 504 and
// outcome_unknown. A POST or PUT sent without a key then gets a random
// Idempotency-Key kept across its attempts, so the server acts at most
// once: when a payment-moving call's outcome is unknown (502/504 "retry
// with the same Idempotency-Key"), the retry is exactly what the server
// asks for. Retries are off by default.
//
// WithResponseInfo reports what the HTTP exchange said beyond the body:
// whether the answer was replayed from the idempotency record
// (Idempotent-Replayed), the key sent, the X-Request-Id the server's logs
// carry, and how many attempts were made.
//
// History.Data and Reservation.Data hold the PG's own object; decode them
// with IamportPayment, TossPayment, IamportBillingKey or TossBilling.
//
// # Webhooks
//
// paymentctl POSTs a WebhookHistory, encrypted like an API body, to a
// history's webhook_url whenever the PG reports a change. The delivery is
// signed as the Standard Webhooks specification (1.0.0, symmetric scheme)
// prescribes, so any of its verifier libraries can check it too:
//
//   - The request carries webhook-id (the event's id, the same on every
//     retry, so receivers can drop duplicates), webhook-timestamp (Unix
//     seconds of this attempt) and webhook-signature.
//   - The signed content is the id, the timestamp and the raw body joined
//     by full stops: "{id}.{timestamp}.{body}". For paymentctl the body is
//     the encrypted text as sent, so a receiver verifies the bytes as
//     received, before decrypting them.
//   - A signature is "v1," followed by the standard base64 of the
//     HMAC-SHA256 of the signed content under the endpoint's secret. The
//     header holds one or more signatures separated by spaces (several
//     while a secret is rotated); one match is enough. Signatures of other
//     schemes (v1a, ed25519) are skipped.
//   - A secret is shown to people as "whsec_" followed by the base64 of 24
//     to 64 random key bytes; ParseWebhookSecret and FormatWebhookSecret
//     convert between that text and the key. ParseWebhookSecret reads a
//     value without the prefix, a legacy paymentctl secret, as the server
//     does: its own bytes are the key.
//
// A receiver verifies and decodes a delivery with one call, ReceiveWebhook:
//
//	event, err := sdk.ReceiveWebhook(r, key, client)
//	if err != nil {
//		http.Error(w, "bad webhook", http.StatusUnauthorized)
//		return
//	}
//
// and answers 2xx once the event is handled; anything else is retried.
// VerifyWebhook and DecodeWebhook are its two halves, for receivers that
// read the body themselves or need another tolerance or clock.
// SignWebhook is the sender's half, used by the server.
package sdk
