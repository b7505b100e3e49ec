-- Cancels are identified by their position in the PG's cancel list, not by
-- (amount, reason, time): PGs report times to the second, so five equal
-- partial cancels within one second would otherwise collapse into one.
-- Rows imported from the original keep a NULL sequence.

-- +goose Up
ALTER TABLE payment_history_cancels ADD COLUMN sequence INTEGER;
DROP INDEX payment_history_cancels_dedup_key;
CREATE UNIQUE INDEX payment_history_cancels_sequence_key
    ON payment_history_cancels (payment_history_id, sequence);

-- +goose Down
DROP INDEX payment_history_cancels_sequence_key;
CREATE UNIQUE INDEX payment_history_cancels_dedup_key
    ON payment_history_cancels (payment_history_id, amount, reason, created_at);
ALTER TABLE payment_history_cancels DROP COLUMN sequence;
