// Package iamport is a fake Iamport (PortOne v1) API server: a plain
// http.Handler that tests mount on httptest and `paymentctl fake` mounts on
// DefaultPort. It speaks the wire types of gateway/iamport, keeps its
// records in memory (package memstore), delivers webhooks through package
// hook and injects faults from package fault.
//
// It re-creates samchon's fake-iamport-server (latest, 9.0.0) route for
// route, but behaves like the real API where the original did not.
//
// # Routes
//
//	POST   /users/getToken                                  no token needed
//	GET    /payments/{imp_uid}                              ?extension= accepted
//	GET    /payments/find/{merchant_uid}[/{status}]         newest payment of an order (real API; not in the original)
//	GET    /payments/findAll/{merchant_uid}[/{status}]      all of them, {total, previous, next, list}
//	POST   /payments/cancel                                 full or partial refund
//	POST   /subscribe/payments/onetime                      card payment, optionally keeping a billing key
//	POST   /subscribe/payments/again                        payment with a billing key
//	GET    /subscribe/customers/{customer_uid}              billing key
//	POST   /subscribe/customers/{customer_uid}              register a card
//	DELETE /subscribe/customers/{customer_uid}
//	POST   /vbanks                                          issue a virtual account
//	PUT    /vbanks and PUT /vbanks/{imp_uid}                change amount / due date (SDK form, real form)
//	GET    /receipts/{imp_uid}, POST, DELETE                cash receipt
//	POST   /certifications/otp/request                      identity check; the OTP is readable as __otp
//	POST   /certifications/otp/confirm/{imp_uid}
//	GET    /certifications/{imp_uid}, DELETE
//	POST   /internal/webhook                                fake-only no-op sink, no token needed
//	PUT    /internal/deposit/{imp_uid} (and GET, as in 1.0.x) fake-only: the customer pays into the account
//
// Every route but getToken and the sink needs a token from getToken in the
// Authorization header, raw (as the SDK sends it) or as "Bearer <token>"
// (as the real API documents).
//
// # Answers
//
// Success is HTTP 200 with {code: 0, message: "success", response: …} for
// every method (the original answered POST with 201). Failures use the
// same envelope with response null:
//
//	400, code -1   the body or a parameter fails the SDK's DTO rules
//	401, code -1   wrong imp_key/imp_secret, missing, unknown or expired token
//	404, code  1   unknown imp_uid, merchant_uid, customer_uid, receipt or certification (and unknown routes, code -1)
//	422, code  1   refused by the object's state: over-cancel, checksum mismatch, cancel of an unpaid or
//	               fully cancelled payment, vbank cancel without refund account, duplicate merchant_uid,
//	               receipt already issued or already cancelled, deposit into a non-waiting or overdue account,
//	               wrong or repeated OTP
//	500, code -1   an injected ErrorRate fault
//	200, code -1   a declined card (Faults DeclineRate): message is the fail_reason and response is the
//	               stored payment with status "failed" — the real API also refuses with code != 0
//
// # Knobs
//
// Options: Key/Secret (default test_imp_key / test_imp_secret), Stores
// (several merchant accounts instead: only their key pairs are accepted,
// and each store sees only the payments and billing keys its own token
// made; another store's get 404, as at the real API), WebhookURL
// (also SetWebhookURL; "" records deliveries as dropped), TokenTTL (30
// minutes), TTL and Capacity of every store (3 hours, 10,000 records),
// Backoff (webhook retries; nil is the real 5 × 1 minute), Faults, Logf,
// Now, HTTPClient (for webhooks). Server.Faults() returns the injector whose
// knobs may be changed while serving: DeclineRate (card and billing-key
// payments), Latency and ErrorRate (every call), RouteLatency and
// DropResponse (calls of chosen routes, e.g. "POST /payments/cancel", take
// effect and then answer late or not at all), WebhookDelay,
// WebhookDuplicate, WebhookReorder and WebhookDropRate (deliveries).
// Server.Webhooks() exposes every delivery and its attempts.
//
// # Webhooks
//
// The body is {imp_uid, merchant_uid, status} as JSON, posted to the
// payment's notice_url if it had one, else to WebhookURL, and retried on
// errors and non-2xx answers. They are sent after the state change is
// stored and after the API answer is written:
//
//	onetime / again payment    paid
//	POST /vbanks               ready
//	deposit                    paid
//	any cancel, full or part   cancelled  (a hint: re-fetch to see cancel_amount and status)
//
// A declined payment and a vbank update send none.
//
// # Deliberate differences from the original fake (fake-pg.md §8)
//
//   - Tokens live TokenTTL and are refused (401) afterwards; getToken
//     returns the current token while valid and extends it by five minutes
//     when asked in its last minute, as the real API does. now and
//     expired_at are whole seconds.
//   - Bearer tokens are accepted; a bad token is 401, not 403/404.
//   - Errors use Iamport's envelope, not NestJS's; POST answers 200.
//   - cash_receipt_issue (and the real API's cash_receipt_issued) start
//     false and follow receipt issue and cancel; DELETE /receipts works;
//     a second receipt is refused until the first is cancelled; the receipt
//     covers what remains after cancels and its vat is an integer (1/11).
//   - A partial cancel leaves the payment "paid", adds to cancel_amount and
//     appends to cancel_history; the cancel that reaches the full amount
//     makes it "cancelled". cancelled_at is the time of the latest cancel.
//     Over-cancel, a non-null checksum that is not the refundable balance,
//     and cancelling a payment that is not "paid" are refused. checksum
//     and merchant_uid may be omitted (the real API does not require
//     them); a cancel by merchant_uid alone picks the order's newest paid
//     payment.
//   - vbank_holder and the customer_* fields of billing keys echo the
//     input; inserted/updated are Unix times; vbank_issued_at is in
//     seconds; a vbank payment has no customer_uid; vbank_due must be in
//     the future and a deposit after it is refused.
//   - channel is "api", customer_uid_usage is "issue" for onetime and
//     "payment" for again; ids look like the real ones (imp_ + 12 digits).
//   - Webhooks are retried and sent after the answer (the original fired
//     once, before answering). API cancels do send "cancelled" webhooks,
//     as the original did and the payment server's tests expect; the real
//     API documents them only for refunds made in its console.
//   - Paying an order id twice is refused unless the earlier attempts
//     failed (the original allowed it).
//   - The certification OTP has six digits, gender is "male"/"female".
//   - Card numbers are stored unmasked, as in the original, so they keep
//     matching the SDK's dddd-dddd-dddd-dddd pattern.
package iamport
