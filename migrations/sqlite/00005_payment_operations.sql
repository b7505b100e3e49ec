-- SQLite twin of postgres/00005_payment_operations.sql. SQLite cannot
-- change a CHECK constraint in place: the idempotency table is rebuilt.

-- +goose Up
CREATE TABLE payment_operations (
    id              TEXT     NOT NULL PRIMARY KEY,
    kind            TEXT     NOT NULL,
    state           TEXT     NOT NULL,
    history_id      TEXT,
    vendor_code     TEXT     NOT NULL,
    vendor_uid      TEXT     NOT NULL,
    vendor_store_id TEXT     NOT NULL DEFAULT '',
    request_key     TEXT,
    pg_key          TEXT     NOT NULL,
    amount          INTEGER  NOT NULL,
    refund_before   INTEGER  NOT NULL,
    cancels_before  INTEGER  NOT NULL,
    data            TEXT     NOT NULL,
    error           TEXT     NOT NULL DEFAULT '',
    attempts        INTEGER  NOT NULL DEFAULT 0,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    resolved_at     DATETIME,
    CONSTRAINT payment_operations_kind_check CHECK (kind IN ('cancel', 'confirm')),
    CONSTRAINT payment_operations_state_check
        CHECK (state IN ('pending', 'unknown', 'succeeded', 'failed', 'compensate', 'compensated')),
    CONSTRAINT payment_operations_amount_check CHECK (amount >= 0)
);
CREATE INDEX payment_operations_open_idx
    ON payment_operations (state, updated_at)
    WHERE state IN ('pending', 'unknown', 'compensate');
CREATE INDEX payment_operations_history_id_idx ON payment_operations (history_id, created_at);
CREATE INDEX payment_operations_vendor_idx ON payment_operations (vendor_code, vendor_uid);
CREATE INDEX payment_operations_request_key_idx ON payment_operations (request_key);

CREATE TABLE payment_idempotency_keys_new (
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
        CHECK (status IN ('running', 'completed', 'unknown'))
);
INSERT INTO payment_idempotency_keys_new SELECT * FROM payment_idempotency_keys;
DROP TABLE payment_idempotency_keys;
ALTER TABLE payment_idempotency_keys_new RENAME TO payment_idempotency_keys;
CREATE UNIQUE INDEX payment_idempotency_keys_idempotency_key_method_path_key
    ON payment_idempotency_keys (idempotency_key, method, path);
CREATE INDEX payment_idempotency_keys_expires_at_idx
    ON payment_idempotency_keys (expires_at);

ALTER TABLE payment_histories ADD COLUMN reconciled_at DATETIME;
CREATE INDEX payment_histories_open_idx
    ON payment_histories (reconciled_at)
    WHERE paid_at IS NULL AND cancelled_at IS NULL;

-- +goose Down
DROP INDEX payment_histories_open_idx;
ALTER TABLE payment_histories DROP COLUMN reconciled_at;
DELETE FROM payment_idempotency_keys WHERE status = 'unknown';
CREATE TABLE payment_idempotency_keys_old (
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
INSERT INTO payment_idempotency_keys_old SELECT * FROM payment_idempotency_keys;
DROP TABLE payment_idempotency_keys;
ALTER TABLE payment_idempotency_keys_old RENAME TO payment_idempotency_keys;
CREATE UNIQUE INDEX payment_idempotency_keys_idempotency_key_method_path_key
    ON payment_idempotency_keys (idempotency_key, method, path);
CREATE INDEX payment_idempotency_keys_expires_at_idx
    ON payment_idempotency_keys (expires_at);
DROP TABLE payment_operations;
