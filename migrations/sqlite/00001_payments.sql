-- SQLite twin of postgres/00001_payments.sql: same tables, columns, keys and
-- index names. uuid columns are TEXT; timestamps are DATETIME so the driver
-- reads them back as time.Time (the store writes them in UTC); money is
-- INTEGER (64-bit).

-- +goose Up
CREATE TABLE payment_reservations (
    id              TEXT     NOT NULL PRIMARY KEY,
    source_schema   TEXT     NOT NULL,
    source_table    TEXT     NOT NULL,
    source_id       TEXT     NOT NULL,
    vendor_code     TEXT     NOT NULL,
    vendor_uid      TEXT     NOT NULL,
    vendor_store_id TEXT     NOT NULL,
    title           TEXT     NOT NULL,
    data            TEXT     NOT NULL,
    password        TEXT     NOT NULL,
    created_at      DATETIME NOT NULL
);
CREATE UNIQUE INDEX payment_reservations_source_schema_source_table_source_id_key
    ON payment_reservations (source_schema, source_table, source_id);
CREATE UNIQUE INDEX payment_reservations_vendor_code_vendor_uid_key
    ON payment_reservations (vendor_code, vendor_uid);
CREATE INDEX payment_reservations_created_at_idx
    ON payment_reservations (created_at);

CREATE TABLE payment_histories (
    id                     TEXT     NOT NULL PRIMARY KEY,
    source_schema          TEXT     NOT NULL,
    source_table           TEXT     NOT NULL,
    source_id              TEXT     NOT NULL,
    vendor_code            TEXT     NOT NULL,
    vendor_uid             TEXT     NOT NULL,
    vendor_store_id        TEXT     NOT NULL,
    payment_reservation_id TEXT
        REFERENCES payment_reservations (id) ON DELETE SET NULL ON UPDATE CASCADE,
    currency               TEXT     NOT NULL,
    price                  INTEGER  NOT NULL,
    refund                 INTEGER,
    webhook_url            TEXT     NOT NULL,
    data                   TEXT     NOT NULL,
    password               TEXT     NOT NULL,
    created_at             DATETIME NOT NULL,
    paid_at                DATETIME,
    cancelled_at           DATETIME,
    CONSTRAINT payment_histories_price_check CHECK (price >= 0),
    CONSTRAINT payment_histories_refund_check
        CHECK (refund IS NULL OR (refund >= 0 AND refund <= price))
);
CREATE UNIQUE INDEX payment_histories_source_schema_source_table_source_id_key
    ON payment_histories (source_schema, source_table, source_id);
CREATE UNIQUE INDEX payment_histories_vendor_code_vendor_uid_key
    ON payment_histories (vendor_code, vendor_uid);
CREATE INDEX payment_histories_created_at_idx
    ON payment_histories (created_at);
CREATE INDEX payment_histories_payment_reservation_id_idx
    ON payment_histories (payment_reservation_id);

CREATE TABLE payment_history_cancels (
    id                 TEXT     NOT NULL PRIMARY KEY,
    payment_history_id TEXT     NOT NULL
        REFERENCES payment_histories (id) ON DELETE CASCADE ON UPDATE CASCADE,
    amount             INTEGER  NOT NULL,
    reason             TEXT     NOT NULL,
    data               TEXT     NOT NULL,
    created_at         DATETIME NOT NULL,
    CONSTRAINT payment_history_cancels_amount_check CHECK (amount >= 0)
);
CREATE UNIQUE INDEX payment_history_cancels_dedup_key
    ON payment_history_cancels (payment_history_id, amount, reason, created_at);

CREATE TABLE payment_history_webhooks (
    id                 TEXT     NOT NULL PRIMARY KEY,
    payment_history_id TEXT     NOT NULL
        REFERENCES payment_histories (id) ON DELETE CASCADE ON UPDATE CASCADE,
    previous           TEXT     NOT NULL,
    "current"          TEXT     NOT NULL,
    data               TEXT     NOT NULL,
    created_at         DATETIME NOT NULL
);
CREATE INDEX payment_history_webhooks_payment_history_id_idx
    ON payment_history_webhooks (payment_history_id, created_at);

CREATE TABLE payment_history_webhook_responses (
    id                         TEXT     NOT NULL PRIMARY KEY,
    payment_history_webhook_id TEXT     NOT NULL
        REFERENCES payment_history_webhooks (id) ON DELETE CASCADE ON UPDATE CASCADE,
    status                     INTEGER,
    body                       TEXT,
    error                      TEXT,
    created_at                 DATETIME NOT NULL
);
CREATE INDEX payment_history_webhook_responses_payment_history_webhook_i_idx
    ON payment_history_webhook_responses (payment_history_webhook_id, created_at);

-- +goose Down
DROP TABLE payment_history_webhook_responses;
DROP TABLE payment_history_webhooks;
DROP TABLE payment_history_cancels;
DROP TABLE payment_histories;
DROP TABLE payment_reservations;
