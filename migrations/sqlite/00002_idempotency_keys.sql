-- SQLite twin of postgres/00002_idempotency_keys.sql.

-- +goose Up
CREATE TABLE payment_idempotency_keys (
    id              TEXT     NOT NULL PRIMARY KEY,
    idempotency_key TEXT     NOT NULL,
    method          TEXT     NOT NULL,
    path            TEXT     NOT NULL,
    request_hash    TEXT     NOT NULL,
    status          TEXT     NOT NULL,
    response_status INTEGER,
    response_body   TEXT,
    created_at      DATETIME NOT NULL,
    completed_at    DATETIME,
    expires_at      DATETIME NOT NULL,
    CONSTRAINT payment_idempotency_keys_status_check
        CHECK (status IN ('running', 'completed'))
);
CREATE UNIQUE INDEX payment_idempotency_keys_idempotency_key_method_path_key
    ON payment_idempotency_keys (idempotency_key, method, path);
CREATE INDEX payment_idempotency_keys_expires_at_idx
    ON payment_idempotency_keys (expires_at);

-- +goose Down
DROP TABLE payment_idempotency_keys;
