// Package portone holds the wire types of the PortOne V2 REST API
// (https://api.portone.io) and a Go client for the part of it a payment hub
// needs: get a payment, cancel it in full or in part, pay with a billing
// key, get and delete a billing key; and the verifier of PortOne's
// webhooks.
//
// The types follow the official npm SDK @portone/server-sdk (0.19.x) and
// the OpenAPI document it is generated from: field names, which fields are
// required, and the unions. A Payment is a sum type, an interface
// implemented by one struct per status (ReadyPayment, PaidPayment, ...,
// and UnrecognizedPayment for a status this package does not know, which
// keeps the raw body); DecodePayment picks the struct by the body's
// status. Enums are open: an unknown value decodes as it is. The same JSON
// is read and written by the fake in fakepg/portone.
//
// Money is int64 in the currency's smallest unit (won for KRW). Times are
// RFC 3339 strings on the wire and time.Time here; an optional time that
// is absent is the zero time.
//
// Client sends Authorization: PortOne <API secret> on every call, JSON
// bodies with Content-Type application/json, and bounds each call with a
// timeout (DefaultTimeout unless set). PortOne has no idempotency header:
// a paymentId is the idempotency key of a payment (a second
// pay-with-billing-key on a paid paymentId is refused with ALREADY_PAID),
// and a cancel is guarded by currentCancellableAmount, which CancelRequest
// always sends: PortOne refuses a cancel whose caller's view of the
// balance is stale (CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN), so a retried
// cancel never refunds twice. Every failure PortOne answered is an *Error
// carrying the HTTP status and the body's type and message; IsType tests
// for one.
//
// Webhooks follow the Standard Webhooks scheme (webhook-id,
// webhook-timestamp, webhook-signature; HMAC-SHA256 under a whsec_ secret;
// five minutes of tolerance either way; several signatures while a secret
// is rotated). WebhookVerifier checks them against one or two secrets, and
// ParseWebhook decodes the 2024-04-25 body {type, timestamp, data}. The
// body only says which payment changed: re-fetch it with GetPayment.
package portone
