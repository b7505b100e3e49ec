// Package portone is a fake PortOne V2 API (https://api.portone.io): a
// stateful, in-memory http.Handler that speaks the real routes and JSON of
// gateway/portone, so that the official @portone/server-sdk, pointed at it
// with PortOneClient({secret, baseUrl}), drives it unchanged, and signs its
// webhooks exactly as PortOne does, so that the SDK's Webhook.verify
// accepts them. Facts: portone-v2.md; the server frame is package
// fakepg/skeleton, shared with the Iamport and Toss fakes.
//
// # Routes
//
// The API lives at the root of the fake's origin, as the SDK requires.
// Every route takes Authorization: PortOne <secret> (DefaultSecret unless
// Options say otherwise) or Bearer <token> from POST /login/api-secret, and
// bodies as JSON whatever their Content-Type (the SDK sends text/plain).
// A storeId, in the body or the query, must be the secret's store
// (DefaultStoreID) or absent; another is 403 FORBIDDEN.
//
// Options.Stores makes the fake several stores instead of one, each with
// its own API secret and webhook secrets: only those secrets are
// accepted, a call acts for its secret's store, a payment or billing key
// belongs to the store that made it (another store's secret gets 404 for
// it), and a webhook is signed with its own store's secrets only.
//
//	POST   /login/api-secret                        {apiSecret} → {accessToken, refreshToken}
//	GET    /payments/{paymentId}                    the Payment, one of seven statuses
//	POST   /payments/{paymentId}/cancel             full or partial cancel → {cancellation}
//	POST   /payments/{paymentId}/billing-key        charge a billing key → {payment: {pgTxId, paidAt}}
//	POST   /payments/{paymentId}/pre-register       expected amount and currency → {}
//	POST   /payments/{paymentId}/virtual-account/close   unpaid account closed → {closedAt}
//	POST   /payments/{paymentId}/resend-webhook     the latest webhook again → {webhook}
//	POST   /billing-keys                            issue from a typed-in card → {billingKeyInfo}
//	GET    /billing-keys/{billingKey}               BillingKeyInfo, ISSUED or DELETED
//	DELETE /billing-keys/{billingKey}               → {deletedAt}
//
// Ids are matched as escaped path segments, so a paymentId holding "/"
// (sent as %2F) works. Every error is PortOne's {type, message} with the
// status PortOne gives that type: UNAUTHORIZED 401, PAYMENT_NOT_FOUND 404,
// PAYMENT_NOT_PAID, PAYMENT_ALREADY_CANCELLED,
// CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN (a currentCancellableAmount that is
// not total − cancelled), CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT,
// CANCEL_TAX_FREE_AMOUNT_EXCEEDS_CANCELLABLE_TAX_FREE_AMOUNT,
// SUM_OF_PARTS_EXCEEDS_CANCEL_AMOUNT, ALREADY_PAID,
// BILLING_KEY_ALREADY_DELETED, PAYMENT_NOT_WAITING_FOR_DEPOSIT 409,
// BILLING_KEY_NOT_FOUND 404, PG_PROVIDER 502 (a declined billing-key
// payment, with pgCode and pgMessage), INVALID_REQUEST 400 (a malformed
// body, a missing reason, a paid virtual account cancelled without
// refundAccount). Unknown routes are 404 {type: NOT_FOUND}.
//
// # Fake-only routes
//
// What the customer's browser does with the browser SDK, under /internal
// and with the same authentication (Browser calls them):
//
//	POST /internal/checkout                         requestPayment: card, easy pay (a card through KAKAOPAY, ...) or virtual account
//	POST /internal/billing-key-checkout             requestIssueBillingKey
//	POST /internal/payments/{paymentId}/deposit     the customer pays into the virtual account
//	POST /internal/webhook                          the fake's own receiver: verifies and logs
//
// A checkout creates the payment READY (a new attempt, with a new
// transactionId, of a READY or FAILED one; ALREADY_PAID for one paid or
// waiting for a deposit), refuses an amount or currency other than a
// pre-registration's with 409 INFORMATION_MISMATCH, and then, as its
// outcome says, approves it (PAID), issues a virtual account
// (VIRTUAL_ACCOUNT_ISSUED, due in seven days), declines it (FAILED) or
// leaves it READY or PAY_PENDING. The DeclineRate fault declines card and
// easy-pay checkouts and billing-key payments.
//
// With Options.AsyncCancels (or SetAsyncCancels) a cancel is taken as an
// asynchronous PG takes it: the cancellation is REQUESTED, nothing is
// refunded and Transaction.CancelPending is sent; SettleCancellations
// then makes it SUCCEEDED (refunded, with its cancel webhook) or FAILED.
// The requested amount is not held back from the balance.
//
// # Webhooks
//
// Every change is announced as PortOne does (format 2024-04-25): {type,
// timestamp, data}, Transaction.Ready, .Paid, .VirtualAccountIssued,
// .PartialCancelled and .Cancelled (with cancellationId), .Failed,
// .PayPending, and BillingKey.Ready, .Issued and .Deleted. They go to the
// payment's noticeUrls when it has some, else to the server's webhook URL,
// after the answer is written. Each carries a webhook-id kept across
// retries and, at every attempt, a fresh webhook-timestamp (the real
// clock) and a webhook-signature with one v1 signature per
// Options.WebhookSecrets entry (with Options.Stores, per secret of the
// store the webhook is about). Failed deliveries are retried after 1, 4,
// 16, 64 and 256 minutes (hook.PortOneBackoff, without PortOne's jitter).
//
// # Decisions where PortOne is silent (portone-v2.md §9)
//
//   - Several failing cancel checks: the status wins, then
//     currentCancellableAmount, then the amount, then its parts.
//   - Closing a virtual account sends Transaction.Failed.
//   - Billing-key and other API payments send no Transaction.Ready.
//   - A pre-registered but unpaid paymentId is 404 PAYMENT_NOT_FOUND.
//   - webhook-id is "msg_" and 32 hex digits; a manual resend is a new
//     message.
//   - Payment.webhooks is not filled (it is optional); Server.Webhooks
//     records every delivery and attempt.
//   - The list, transaction, instant-payment, schedule, escrow and cash
//     receipt routes are not served.
package portone
