-- SQLite twin of postgres/00003_pending_webhooks.sql.

-- +goose Up
CREATE TABLE payment_pending_webhooks (
    id          TEXT     NOT NULL PRIMARY KEY,
    vendor_code TEXT     NOT NULL,
    vendor_uid  TEXT     NOT NULL,
    data        TEXT     NOT NULL,
    received_at DATETIME NOT NULL,
    applied_at  DATETIME
);
CREATE INDEX payment_pending_webhooks_vendor_code_vendor_uid_idx
    ON payment_pending_webhooks (vendor_code, vendor_uid, received_at)
    WHERE applied_at IS NULL;
CREATE INDEX payment_pending_webhooks_received_at_idx
    ON payment_pending_webhooks (received_at);

-- +goose Down
DROP TABLE payment_pending_webhooks;
