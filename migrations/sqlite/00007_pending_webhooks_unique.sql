-- SQLite twin of postgres/00007_pending_webhooks_unique.sql.
-- At most one unapplied pending webhook per (vendor_code, vendor_uid), the
-- latest; and Toss deposit callbacks are looked up by orderId (source_id).

-- +goose Up
DELETE FROM payment_pending_webhooks
    WHERE applied_at IS NULL AND EXISTS (
        SELECT 1 FROM payment_pending_webhooks AS q
        WHERE q.applied_at IS NULL
          AND q.vendor_code = payment_pending_webhooks.vendor_code
          AND q.vendor_uid = payment_pending_webhooks.vendor_uid
          AND (q.received_at > payment_pending_webhooks.received_at
               OR (q.received_at = payment_pending_webhooks.received_at
                   AND q.id > payment_pending_webhooks.id)));
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
