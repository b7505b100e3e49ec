-- Idempotency-Key records: one row per (key, method, path) while a request
-- runs and, once it completed, its sealed response for replays until
-- expires_at (24 h after creation).

-- +goose Up
CREATE TABLE payment_idempotency_keys (
    id              uuid        NOT NULL,
    idempotency_key varchar     NOT NULL,
    method          varchar     NOT NULL,
    path            varchar     NOT NULL,
    request_hash    varchar     NOT NULL,
    status          varchar     NOT NULL,
    response_status integer,
    response_body   text,
    created_at      timestamptz NOT NULL,
    completed_at    timestamptz,
    expires_at      timestamptz NOT NULL,
    CONSTRAINT payment_idempotency_keys_pkey PRIMARY KEY (id),
    CONSTRAINT payment_idempotency_keys_status_check
        CHECK (status IN ('running', 'completed'))
);
CREATE UNIQUE INDEX payment_idempotency_keys_idempotency_key_method_path_key
    ON payment_idempotency_keys (idempotency_key, method, path);
CREATE INDEX payment_idempotency_keys_expires_at_idx
    ON payment_idempotency_keys (expires_at);

-- +goose Down
DROP TABLE payment_idempotency_keys;
