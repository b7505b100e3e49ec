// Package webhook runs paymentctl's webhook traffic as durable jobs on River
// (riverqueue), on PostgreSQL or SQLite, in the same database as the
// payments.
//
// Two kinds of job flow through a Queue:
//
//   - inbound: a PG's webhook as received (Inbound). The HTTP handler stores
//     it with EnqueueInboundTx and answers the PG; a worker later hands it to
//     the Processor, which re-fetches the payment from the PG, updates the
//     history, snapshots previous/current and calls EnqueueDeliveryTx in that
//     same transaction.
//   - delivery: one webhook event (a payment_history_webhooks row) to POST to
//     the client service. A worker asks Payloads for the URL and the body
//     (already AES-encrypted for the wire), POSTs it as text/plain with
//     Standard Webhooks headers (webhook-id, webhook-timestamp, and
//     webhook-signature from sdk.SignWebhook, which services check with
//     sdk.VerifyWebhook), and reports every attempt to
//     Payloads.RecordAttempt. A 2xx answer completes the job; anything else
//     is retried, and redirects are not followed. Connections are opened by
//     Options.DialContext, which paymentctl sets to server/egress's dialer,
//     so a delivery reaches only the addresses its policy allows.
//
// # Coalescing inbound events
//
// An Inbound with a Key (the payment it names, set by the payment service)
// shares a job with the other events of that key while the job has not
// started: its re-fetch, made later, sees what every one of them
// announced. Once the job has started (or finished, or waits to retry),
// the next event of the key gets a job of its own at the start of the
// next window (Options.CoalesceWindow, 2 s), which the window's later
// events share; it runs when River's scheduler makes it available, within
// a few seconds. So a burst of webhooks about one payment costs at most
// one PG re-fetch a window, while the first webhook about a quiet payment
// runs at once. This rides on River's unique jobs (by Key and window, in
// every state) inside the caller's transaction; a skipped duplicate is
// not an error, since the event is durably covered by the queued job.
//
// # Contract with the payment service
//
// The payment service implements Processor and Payloads and opens its
// transactions with store.InTx; it enqueues with the *sql.Tx under the store
// transaction (store.Tx.SQLTx), so a job exists exactly when the transaction
// that created it commits: a rollback leaves nothing to run, and a crash or
// restart after the commit loses nothing. Jobs are at-least-once: a receiver
// deduplicates on webhook-id, which stays the same across retries. Return an
// error wrapping ErrPermanent from Process or Delivery to fail a job without
// retrying it.
//
// # Retries
//
// Deliveries retry with exponential backoff and equal jitter (DeliveryRetry:
// 5 s doubling, at most 6 h apart, for 3 days after the event was enqueued);
// inbound events retry on a shorter schedule (InboundRetry). A job whose
// next attempt would start after its budget gives up: it ends as a cancelled
// River job carrying the last error. Given-up jobs are kept for 30 days
// (River's default is one): Failing lists them with the failing ones, and
// Retry makes any event's delivery due now (`paymentctl webhooks`).
//
// # Several instances and latency
//
// Any number of Queues may work one database; River locks each job for the
// one worker that fetched it. Every enqueue also sends a notification that
// the database delivers at commit, which wakes the workers of every
// instance. On PostgreSQL a Queue whose pool is pgx's database/sql driver
// (the store's) receives it by LISTENing on one connection of its own;
// otherwise it falls back to polling. On SQLite, where River emulates
// notifications with a table it polls every 50 ms, a Queue polls that table
// every 2 ms for two seconds after each of its own enqueues. Either way a
// job committed in process starts within a few milliseconds
// (BenchmarkDeliveryLatency). Retries, and jobs whose notification was
// missed, are picked up by the fetch poll (Options.PollInterval).
//
// # First attempt in process
//
// The event of a PG webhook is sent by the process that recorded it, right
// after its commit, instead of waiting for a worker to fetch its job: the
// Processor enqueues it with ClaimDeliveryTx, which stores the job
// scheduled a minute ahead so that no worker of any instance takes it
// meanwhile, and calls DeliverClaimed once the transaction has committed.
// A 2xx answer deletes the job; any other outcome makes it available to
// the workers at once, which retry it as any delivery. If the first
// attempt never happens (the process died after the commit), River's
// scheduler makes the job available when its minute has passed, and a
// worker delivers it: the job stays the durable record. The first attempt
// is not counted among the job's River attempts. A Processor that built the
// event's message in its transaction hands it over with Claim.WithMessage,
// and the first attempt sends it without loading the event again; the
// workers' attempts always load it (Payloads.Delivery).
//
// River records a job's outcome in batches, up to 250 ms after the attempt;
// a crash within that window leaves the job running until River rescues it
// (after 10 minutes), and it is then attempted again.
//
// River's tables are created by Migrate, after the application's migrations
// (paymentctl schema), never by New or Start.
package webhook
