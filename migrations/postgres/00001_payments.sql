-- The five tables of the original payment-backend, with the same table,
-- column and index names so that existing data can be imported. Changes:
-- money is BIGINT (KRW has no minor unit), cancel rows carry the dedup key,
-- a history may point at the saved card it was paid with, webhook delivery
-- attempts record the transport error, and amounts are checked.
-- Tables are created in the first schema of the connection's search_path.

-- +goose Up
CREATE TABLE payment_reservations (
    id              uuid        NOT NULL,
    source_schema   varchar     NOT NULL,
    source_table    varchar     NOT NULL,
    source_id       varchar     NOT NULL,
    vendor_code     varchar     NOT NULL,
    vendor_uid      varchar     NOT NULL,
    vendor_store_id varchar     NOT NULL,
    title           varchar     NOT NULL,
    data            text        NOT NULL,
    password        text        NOT NULL,
    created_at      timestamptz NOT NULL,
    CONSTRAINT payment_reservations_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX payment_reservations_source_schema_source_table_source_id_key
    ON payment_reservations (source_schema, source_table, source_id);
CREATE UNIQUE INDEX payment_reservations_vendor_code_vendor_uid_key
    ON payment_reservations (vendor_code, vendor_uid);
CREATE INDEX payment_reservations_created_at_idx
    ON payment_reservations (created_at);

CREATE TABLE payment_histories (
    id                     uuid          NOT NULL,
    source_schema          varchar       NOT NULL,
    source_table           varchar       NOT NULL,
    source_id              varchar       NOT NULL,
    vendor_code            varchar       NOT NULL,
    vendor_uid             varchar       NOT NULL,
    vendor_store_id        varchar       NOT NULL,
    payment_reservation_id uuid,
    currency               varchar       NOT NULL,
    price                  bigint        NOT NULL,
    refund                 bigint,
    webhook_url            varchar(1024) NOT NULL,
    data                   text          NOT NULL,
    password               text          NOT NULL,
    created_at             timestamptz   NOT NULL,
    paid_at                timestamptz,
    cancelled_at           timestamptz,
    CONSTRAINT payment_histories_pkey PRIMARY KEY (id),
    CONSTRAINT payment_histories_payment_reservation_id_fkey
        FOREIGN KEY (payment_reservation_id) REFERENCES payment_reservations (id)
        ON DELETE SET NULL ON UPDATE CASCADE,
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
    id                 uuid        NOT NULL,
    payment_history_id uuid        NOT NULL,
    amount             bigint      NOT NULL,
    reason             text        NOT NULL,
    data               text        NOT NULL,
    created_at         timestamptz NOT NULL,
    CONSTRAINT payment_history_cancels_pkey PRIMARY KEY (id),
    CONSTRAINT payment_history_cancels_payment_history_id_fkey
        FOREIGN KEY (payment_history_id) REFERENCES payment_histories (id)
        ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT payment_history_cancels_amount_check CHECK (amount >= 0)
);
-- The dedup key of re-synchronised cancel events; it also serves look-ups by
-- history because payment_history_id leads.
CREATE UNIQUE INDEX payment_history_cancels_dedup_key
    ON payment_history_cancels (payment_history_id, amount, reason, created_at);

CREATE TABLE payment_history_webhooks (
    id                 uuid        NOT NULL,
    payment_history_id uuid        NOT NULL,
    previous           text        NOT NULL,
    current            text        NOT NULL,
    data               text        NOT NULL,
    created_at         timestamptz NOT NULL,
    CONSTRAINT payment_history_webhooks_pkey PRIMARY KEY (id),
    CONSTRAINT payment_history_webhooks_payment_history_id_fkey
        FOREIGN KEY (payment_history_id) REFERENCES payment_histories (id)
        ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX payment_history_webhooks_payment_history_id_idx
    ON payment_history_webhooks (payment_history_id, created_at);

CREATE TABLE payment_history_webhook_responses (
    id                         uuid        NOT NULL,
    payment_history_webhook_id uuid        NOT NULL,
    status                     integer,
    body                       text,
    error                      text,
    created_at                 timestamptz NOT NULL,
    CONSTRAINT payment_history_webhook_responses_pkey PRIMARY KEY (id),
    CONSTRAINT payment_history_webhook_responses_payment_history_webhook_id_fkey
        FOREIGN KEY (payment_history_webhook_id) REFERENCES payment_history_webhooks (id)
        ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX payment_history_webhook_responses_payment_history_webhook_i_idx
    ON payment_history_webhook_responses (payment_history_webhook_id, created_at);

-- +goose Down
DROP TABLE payment_history_webhook_responses;
DROP TABLE payment_history_webhooks;
DROP TABLE payment_history_cancels;
DROP TABLE payment_histories;
DROP TABLE payment_reservations;
