-- PG webhooks that arrived before their payment was registered. They are
-- kept (raw body sealed) and applied once the history exists, instead of
-- being lost as in the original.

-- +goose Up
CREATE TABLE payment_pending_webhooks (
    id          uuid        NOT NULL,
    vendor_code varchar     NOT NULL,
    vendor_uid  varchar     NOT NULL,
    data        text        NOT NULL,
    received_at timestamptz NOT NULL,
    applied_at  timestamptz,
    CONSTRAINT payment_pending_webhooks_pkey PRIMARY KEY (id)
);
CREATE INDEX payment_pending_webhooks_vendor_code_vendor_uid_idx
    ON payment_pending_webhooks (vendor_code, vendor_uid, received_at)
    WHERE applied_at IS NULL;
CREATE INDEX payment_pending_webhooks_received_at_idx
    ON payment_pending_webhooks (received_at);

-- +goose Down
DROP TABLE payment_pending_webhooks;
