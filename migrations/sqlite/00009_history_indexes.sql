-- SQLite twin of postgres/00009_history_indexes.sql.
-- No history index on created_at (no query used it); the reservation
-- index keeps only histories that have a reservation.

-- +goose Up
DROP INDEX payment_histories_created_at_idx;
DROP INDEX payment_histories_payment_reservation_id_idx;
CREATE INDEX payment_histories_payment_reservation_id_idx
    ON payment_histories (payment_reservation_id)
    WHERE payment_reservation_id IS NOT NULL;

-- +goose Down
DROP INDEX payment_histories_payment_reservation_id_idx;
CREATE INDEX payment_histories_payment_reservation_id_idx
    ON payment_histories (payment_reservation_id);
CREATE INDEX payment_histories_created_at_idx
    ON payment_histories (created_at);
