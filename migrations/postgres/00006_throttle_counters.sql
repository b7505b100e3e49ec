-- Failure counters of the throttle (server/throttle): wrong record
-- passwords and undecryptable request bodies, one row per client address
-- and scope (one record, all records, or decryption), shared by every
-- instance. A row is dropped once expires_at has passed.

-- +goose Up
CREATE TABLE payment_throttle_counters (
    address       varchar     NOT NULL,
    scope         varchar     NOT NULL,
    failures      integer     NOT NULL,
    window_start  timestamptz NOT NULL,
    lockouts      integer     NOT NULL,
    blocked_until timestamptz,
    expires_at    timestamptz NOT NULL,
    CONSTRAINT payment_throttle_counters_pkey PRIMARY KEY (address, scope)
);
CREATE INDEX payment_throttle_counters_expires_at_idx
    ON payment_throttle_counters (expires_at);

-- +goose Down
DROP TABLE payment_throttle_counters;
