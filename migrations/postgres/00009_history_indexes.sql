-- Fewer index entries per registered payment (docs/performance.md "What
-- bounds registration"): every history insert wrote seven index entries
-- while the server's queries use five of them.
--
-- payment_histories_created_at_idx served no query: nothing reads
-- histories by their creation time (the reconciler's open histories come
-- through payment_histories_open_idx and are few).
-- payment_histories_payment_reservation_id_idx serves only the foreign
-- key's ON DELETE SET NULL / ON UPDATE CASCADE, whose look-ups are by a
-- reservation id, never NULL; most histories have none, so the index now
-- keeps only the ones that do.
-- The previous binary runs unchanged on either schema.

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
