// Package toss is a fake Toss Payments v1 API: a plain http.Handler that
// keeps payments, billing keys and cash receipts in memory and sends
// webhooks, for tests (mount it on httptest) and for `paymentctl fake`
// (mount it on DefaultPort, 30771).
//
// It re-creates samchon's fake-toss-payments-server (fake-pg.md §3) with the
// wire types of gateway/toss, so the Go client there, the npm SDK and
// payment-backend all talk to it unchanged.
//
// # Routes
//
// Every route but the self-sink needs Basic authentication with the secret
// key as user name and an empty password (DefaultSecretKey unless
// Options.SecretKey or Options.Authorize say otherwise). Answers are the bare
// object with HTTP 200, or Toss's {code, message} with the real status.
//
//	GET    /v1/payments/{paymentKey}                  a payment
//	GET    /v1/payments/orders/{orderId}              a payment by orderId
//	POST   /v1/payments/key-in                        card payment (__approved: false → IN_PROGRESS)
//	POST   /v1/payments/confirm                       approve {paymentKey, orderId, amount} (real route)
//	POST   /v1/payments/{paymentKey}                  approve {orderId, amount} (original route)
//	POST   /v1/payments/{paymentKey}/cancel           full or partial cancel
//	POST   /v1/virtual-accounts                       virtual account (__approved: false → IN_PROGRESS)
//	POST   /v1/billing/authorizations/card            issue a billing key from a card
//	POST   /v1/billing/authorizations/issue           {authKey, customerKey}; authKey = billingKey here
//	POST   /v1/billing/authorizations/{billingKey}    look a billing key up {customerKey}
//	POST   /v1/billing/{billingKey}                   charge a billing key (type BILLING)
//	POST   /v1/cash-receipts                          issue a cash receipt
//	POST   /v1/cash-receipts/{receiptKey}/cancel      cancel it
//	PUT    /internal/{paymentKey}/deposit             fake only: the customer pays the account in
//	DELETE /internal/{paymentKey}/deposit             fake only: the bank reverses that deposit
//	POST   /internal/webhook                          fake only, no auth: a sink that logs and answers 200
//
// # Statuses and webhooks
//
// Card payments go IN_PROGRESS → DONE on approval (ABORTED when declined);
// virtual accounts IN_PROGRESS → WAITING_FOR_DEPOSIT on approval → DONE on
// deposit (and back on a reversed deposit); cancels make PARTIAL_CANCELED
// while a balance is left and CANCELED at zero. An unpaid virtual account can
// only be canceled whole, which refunds nothing and adds no cancel entry.
// Approving is allowed only from READY or IN_PROGRESS.
//
// Every status change, creation included, and every cancel (also a second
// partial cancel that leaves the status PARTIAL_CANCELED) sends
// PAYMENT_STATUS_CHANGED {eventType, createdAt, data: <the whole payment>}
// after the change is stored. A virtual account also sends the flat DEPOSIT_CALLBACK {createdAt,
// secret, status, transactionKey, orderId} when it is issued, paid in, or its
// deposit is reversed. Deliveries go through hook.Sender to the webhook URL
// (none by default; Webhooks().Deliveries() records them either way) and are
// retried on an error or non-2xx answer on Toss's schedule (hook.TossBackoff:
// 1, 4, 16, 64, 256, 1024, 4096 minutes) unless Options.Backoff is set.
//
// # Knobs
//
//   - Options: SecretKey, Authorize, Stores (several merchant accounts
//     instead: only their secret keys are accepted, and each store sees
//     only the payments (by paymentKey or orderId) and billing keys its own
//     key made; another store's key gets 404, as at the real API),
//     WebhookURL, TTL (default 3 h) and
//     Capacity (default 10,000 per record kind), Backoff, Faults, Logf, Now,
//     HTTPClient. SetWebhookURL changes the target while serving.
//   - Faults() (package fault), changeable while serving: Latency before
//     every answer; ErrorRate answers 500 FAILED_INTERNAL_SYSTEM_PROCESSING;
//     DeclineRate declines card charges with 403 REJECT_CARD_PAYMENT — a
//     key-in approved at once and a billing charge store nothing, an approval
//     of an IN_PROGRESS card payment leaves it ABORTED with a failure and a
//     webhook; RouteLatency and DropResponse let the calls of chosen routes
//     (e.g. "POST /v1/payments/*/cancel") take effect and then answer late
//     or not at all; WebhookDelay, WebhookDuplicate, WebhookReorder and
//     WebhookDropRate act on deliveries.
//
// # Guards of the real API
//
//   - Idempotency-Key (every POST): the first answer to a key, errors
//     included, is kept for 15 days per secret key, method and path, and a
//     repeat gets it back, same status and body, without running again; the
//     repeat's body is not compared. A repeat while the first still runs is
//     409 IDEMPOTENT_REQUEST_PROCESSING; a key over 300 characters is 400
//     INVALID_IDEMPOTENCY_KEY. Answers of the ErrorRate fault and
//     authentication failures are not kept.
//   - A cancel's refundableAmount, when not 0, must be the payment's
//     balanceAmount before the cancel, else 400
//     NOT_MATCHES_REFUNDABLE_AMOUNT and nothing changes.
//
// # Differences from the original fake
//
// Fixed bugs (fake-pg.md §8 rows 7–13):
//   - Approval refuses DONE, WAITING_FOR_DEPOSIT (ALREADY_PROCESSED_PAYMENT)
//     and canceled payments (ALREADY_CANCELED_PAYMENT) instead of flipping
//     them back to DONE.
//   - __approved: false is honoured for virtual accounts.
//   - A partial cancel appends to cancels, lowers balanceAmount and stores
//     PARTIAL_CANCELED; the last one stores CANCELED. Omitting cancelAmount
//     cancels the remaining balance; more than the balance is 403
//     NOT_CANCELABLE_AMOUNT. refundableAmount is the balance left.
//   - orderName is echoed; billing payments have type BILLING, are refused
//     (403 NOT_MATCHES_CUSTOMER_KEY) for another customerKey, and mId is
//     spelled "tosspayments".
//   - The Basic credentials are decoded whole; a wrong or missing key is 401
//     UNAUTHORIZED_KEY (not 403).
//   - Records expire on read after TTL and the oldest is evicted at
//     Capacity (package memstore), defaults 3 h / 10,000 instead of
//     3 min / 1,000.
//   - Webhooks leave after the state change, carry the real envelope and are
//     retried; the self-sink no longer rewrites the payment's status.
//   - Success is HTTP 200 and errors are {code, message} with real codes.
//
// As the published SDK (toss-payments-server-api) declares, so its typia
// checks pass: card numbers are the 16 digits typed in (the real API masks
// them), and a virtual account's dueDate is a date (YYYY-MM-DD, KST), 7 days
// ahead.
//
// Closer to the real API, on purpose:
//   - POST /v1/payments/confirm and GET /v1/payments/orders/{orderId} exist;
//     a duplicate orderId is 400 DUPLICATED_ORDER_ID.
//   - The SDK's method discriminators and the cancel body's paymentKey are
//     optional (checked when present).
//   - Dates are ISO 8601 with +09:00; version is "2022-11-16"; suppliedAmount and vat
//     are split as Toss does; every change gets a new transactionKey, also
//     sent as lastTransactionKey and on each cancel entry.
//   - Refunding a paid virtual account needs refundReceiveAccount.
//   - A cash receipt needs a paid payment and at most its balance; canceling
//     one twice is refused.
package toss
