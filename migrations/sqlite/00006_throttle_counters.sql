-- SQLite twin of postgres/00006_throttle_counters.sql.

-- +goose Up
CREATE TABLE payment_throttle_counters (
    address       TEXT     NOT NULL,
    scope         TEXT     NOT NULL,
    failures      INTEGER  NOT NULL,
    window_start  DATETIME NOT NULL,
    lockouts      INTEGER  NOT NULL,
    blocked_until DATETIME,
    expires_at    DATETIME NOT NULL,
    PRIMARY KEY (address, scope)
);
CREATE INDEX payment_throttle_counters_expires_at_idx
    ON payment_throttle_counters (expires_at);

-- +goose Down
DROP TABLE payment_throttle_counters;
