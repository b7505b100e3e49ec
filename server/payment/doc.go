// Package payment is paymentctl's domain logic: registering payments and
// saved cards after verifying them with the PG, look-ups guarded by the
// per-record password, full and partial cancels, and applying PG webhooks.
// The HTTP layer (package server) decodes and validates requests and maps
// the errors defined here to statuses; the storage layer (server/store)
// only stores; the PGs are reached through the small interfaces declared
// in vendor.go and portone.go, which the gateway clients satisfy, and
// picked per record by Gateways (stores.go).
//
// Decisions, and where they differ from the original payment-backend:
//
//   - Verification before writing. A payment is checked with its PG before
//     any row is written. An Iamport payment whose amount differs from the
//     expected price is cancelled at the PG in full and refused (422). A
//     Toss payment still waiting for confirmation is confirmed with the
//     expected amount (Toss refuses a mismatch); one already confirmed is
//     compared like Iamport's.
//   - PortOne V2 (portone.go): the paymentId (vendor.uid) must be the
//     order's source.id and the payment of vendor.store_id, checked before
//     the PG is asked; a paid payment of another amount or currency is
//     cancelled at the PG through an operation in state compensate, as a
//     Toss capture whose registration failed is, so a cancel that fails is
//     retried by the reconciler. Cancels send the balance as
//     currentCancellableAmount. Without a configured client (PortOne V2
//     off) a request naming it is refused (400).
//   - Cancels are serialised per payment and happen at most once per
//     request: each is recorded as an operation under the history's lock
//     before the PG is asked (with the balance as the PG's own guard), and
//     settled with the PG's answer in the transaction that stores it. A
//     call that may have acted without saying so (timeout, lost
//     connection, 5xx) is an operation of unknown outcome
//     (ErrOutcomeUnknown, 502/504): it is resolved by re-fetching the
//     payment before anything else touches it, so a retry returns the
//     first outcome instead of refunding again (cancel.go).
//     A PortOne V2 cancel taken as REQUESTED (an asynchronous PG) stays
//     unknown until PortOne shows it SUCCEEDED or FAILED; meanwhile other
//     cancels of the payment are refused (ErrCancelInProgress, 409)
//     before the PG is asked.
//   - A Toss registration is checked for everything that could refuse it
//     before it is confirmed; a capture the registration then fails to
//     record is cancelled at the PG, at once or by the reconciler.
//   - The reconciler (Reconcile, run as a River periodic job) re-fetches
//     what webhooks may have missed and settles operations of unknown
//     outcome, through the same code as a webhook (reconcile.go).
//   - cancelled_at is the time of the first cancel and never moves (the
//     original overwrote it with "now" on every update).
//   - Everything sensitive is sealed at rest (server/seal): PG payment,
//     saved-card and cancel objects, webhook snapshots and raw PG bodies,
//     each under its own keyring with the record id bound as additional
//     data. Record passwords are keyed hashes.
//   - Every PG call for a record uses the credentials of the record's
//     store, vendor.store_id: registration (verify, confirm, the cancel of
//     a wrong amount), cancel, re-fetch, reconciliation and webhook
//     processing, through Gateways. A webhook names only a payment; which
//     store it belongs to is the registered record's, never the body's.
//     A store the configuration refuses (real mode) is a 422
//     (ErrUnknownStore) before any row or PG call; a webhook or
//     reconciler job for such a record fails permanently.
//   - Tenancy (tenant.go): a request's service (WithService, set by the
//     server from its API key) owns what it registers; histories,
//     reservations and their sources are found for their own service only,
//     and another service's record is store.ErrNotFound before its password
//     is checked. Events are forwarded with the owning service's keys,
//     looked up when each delivery is made. Money events are appended to a
//     sealed audit trail in the transaction of the change (audit.go).
//   - PG webhooks are never trusted: the body only says which payment to
//     re-fetch. Processing runs as a stored job, keyed by that payment so
//     that a burst of webhooks about it shares one re-fetch per window
//     (server/webhook). An event is forwarded to the service only when the
//     re-fetched state differs from the stored one, so duplicate or forged
//     PG webhooks forward nothing; an API cancel forwards its own
//     {previous, current} event at once.
//   - A webhook for a payment not registered yet is kept (one per payment,
//     the latest) without asking the PG whether the payment exists, so
//     forged ids cost no PG call; a Toss deposit callback for an order
//     with no registered payment is kept by its order. The registration's
//     own PG fetch covers a webhook received before it; a later one is
//     replayed as a job. Kept webhooks whose payment is never registered
//     expire after store.DefaultPendingWebhookTTL (server sweeps them).
package payment
