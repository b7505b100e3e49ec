-- Forged webhooks must cost nothing: a webhook for a payment not registered
-- yet is now kept without asking the PG whether the payment exists, so a
-- flood of made-up ids must not grow the table without bound. At most one
-- unapplied row is kept per (vendor_code, vendor_uid): the latest webhook
-- (the registration only needs to know whether its PG fetch came after the
-- last one), rows are deleted after a TTL by the server, and a Toss deposit
-- callback is looked up by its orderId (payment_histories.source_id) without
-- a sequential scan.
-- The previous binary inserts a second unapplied row for the same payment
-- and now gets a unique violation; its job is retried until the payment is
-- registered, when it finds the history instead.

-- +goose Up
DELETE FROM payment_pending_webhooks p
    USING payment_pending_webhooks q
    WHERE p.applied_at IS NULL AND q.applied_at IS NULL
      AND p.vendor_code = q.vendor_code AND p.vendor_uid = q.vendor_uid
      AND (p.received_at < q.received_at OR (p.received_at = q.received_at AND p.id < q.id));
DROP INDEX payment_pending_webhooks_vendor_code_vendor_uid_idx;
CREATE UNIQUE INDEX payment_pending_webhooks_vendor_code_vendor_uid_key
    ON payment_pending_webhooks (vendor_code, vendor_uid)
    WHERE applied_at IS NULL;
CREATE INDEX payment_histories_vendor_code_source_id_idx
    ON payment_histories (vendor_code, source_id);

-- +goose Down
DROP INDEX payment_histories_vendor_code_source_id_idx;
DROP INDEX payment_pending_webhooks_vendor_code_vendor_uid_key;
CREATE INDEX payment_pending_webhooks_vendor_code_vendor_uid_idx
    ON payment_pending_webhooks (vendor_code, vendor_uid, received_at)
    WHERE applied_at IS NULL;
