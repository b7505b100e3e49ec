-- Money safety under PG faults (docs/design.md "Money and concurrency").
--
-- payment_operations records every PG call that moves money (a cancel, a
-- Toss confirm, a compensating cancel) before it is made, and its outcome
-- after: 'pending' while in flight, 'succeeded' or 'failed' once known,
-- 'unknown' when the PG may have acted but did not say so (a timeout, a
-- reset connection, a 5xx). Unknown and stale pending operations are
-- resolved by re-fetching the payment from the PG, by the next cancel of
-- the payment, a retry with the same Idempotency-Key, or the reconciler.
-- A confirm whose registration failed becomes 'compensate' until its
-- payment is cancelled at the PG ('compensated').
--
-- An Idempotency-Key whose request ended with an unknown outcome stays
-- bound to the request in the new state 'unknown': a retry re-runs the
-- request, which first resolves the operation.
--
-- payment_histories.reconciled_at is when the reconciler last re-fetched a
-- payment in a non-final state.

-- +goose Up
CREATE TABLE payment_operations (
    id             uuid        NOT NULL,
    kind           varchar     NOT NULL,
    state          varchar     NOT NULL,
    history_id     uuid,
    vendor_code    varchar     NOT NULL,
    vendor_uid     varchar     NOT NULL,
    vendor_store_id varchar    NOT NULL DEFAULT '',
    request_key    uuid,
    pg_key         varchar     NOT NULL,
    amount         bigint      NOT NULL,
    refund_before  bigint      NOT NULL,
    cancels_before integer     NOT NULL,
    data           text        NOT NULL,
    error          text        NOT NULL DEFAULT '',
    attempts       integer     NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    resolved_at    timestamptz,
    CONSTRAINT payment_operations_pkey PRIMARY KEY (id),
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

ALTER TABLE payment_idempotency_keys DROP CONSTRAINT payment_idempotency_keys_status_check;
ALTER TABLE payment_idempotency_keys ADD CONSTRAINT payment_idempotency_keys_status_check
    CHECK (status IN ('running', 'completed', 'unknown'));

ALTER TABLE payment_histories ADD COLUMN reconciled_at timestamptz;
CREATE INDEX payment_histories_open_idx
    ON payment_histories (reconciled_at)
    WHERE paid_at IS NULL AND cancelled_at IS NULL;

-- +goose Down
DROP INDEX payment_histories_open_idx;
ALTER TABLE payment_histories DROP COLUMN reconciled_at;
DELETE FROM payment_idempotency_keys WHERE status = 'unknown';
ALTER TABLE payment_idempotency_keys DROP CONSTRAINT payment_idempotency_keys_status_check;
ALTER TABLE payment_idempotency_keys ADD CONSTRAINT payment_idempotency_keys_status_check
    CHECK (status IN ('running', 'completed'));
DROP TABLE payment_operations;
