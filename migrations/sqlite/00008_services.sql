-- SQLite twin of postgres/00008_services.sql.

-- +goose Up
ALTER TABLE payment_histories ADD COLUMN service TEXT NOT NULL DEFAULT '';
ALTER TABLE payment_reservations ADD COLUMN service TEXT NOT NULL DEFAULT '';
ALTER TABLE payment_idempotency_keys ADD COLUMN service TEXT NOT NULL DEFAULT '';

DROP INDEX payment_histories_source_schema_source_table_source_id_key;
CREATE UNIQUE INDEX payment_histories_service_source_key
    ON payment_histories (service, source_schema, source_table, source_id);
DROP INDEX payment_reservations_source_schema_source_table_source_id_key;
CREATE UNIQUE INDEX payment_reservations_service_source_key
    ON payment_reservations (service, source_schema, source_table, source_id);
DROP INDEX payment_idempotency_keys_idempotency_key_method_path_key;
CREATE UNIQUE INDEX payment_idempotency_keys_service_key_method_path_key
    ON payment_idempotency_keys (service, idempotency_key, method, path);

CREATE TABLE payment_audit_events (
    id          TEXT     NOT NULL PRIMARY KEY,
    history_id  TEXT,
    service     TEXT     NOT NULL,
    event       TEXT     NOT NULL,
    vendor_code TEXT     NOT NULL,
    store_id    TEXT     NOT NULL,
    request_id  TEXT     NOT NULL,
    data        TEXT     NOT NULL,
    created_at  DATETIME NOT NULL
);
CREATE INDEX payment_audit_events_history_id_idx
    ON payment_audit_events (history_id, created_at);

-- +goose StatementBegin
CREATE TRIGGER payment_audit_events_no_update BEFORE UPDATE ON payment_audit_events
BEGIN
    SELECT RAISE(ABORT, 'payment_audit_events is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER payment_audit_events_no_delete BEFORE DELETE ON payment_audit_events
BEGIN
    SELECT RAISE(ABORT, 'payment_audit_events is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE payment_audit_events;
DROP INDEX payment_idempotency_keys_service_key_method_path_key;
CREATE UNIQUE INDEX payment_idempotency_keys_idempotency_key_method_path_key
    ON payment_idempotency_keys (idempotency_key, method, path);
DROP INDEX payment_reservations_service_source_key;
CREATE UNIQUE INDEX payment_reservations_source_schema_source_table_source_id_key
    ON payment_reservations (source_schema, source_table, source_id);
DROP INDEX payment_histories_service_source_key;
CREATE UNIQUE INDEX payment_histories_source_schema_source_table_source_id_key
    ON payment_histories (source_schema, source_table, source_id);
ALTER TABLE payment_idempotency_keys DROP COLUMN service;
ALTER TABLE payment_reservations DROP COLUMN service;
ALTER TABLE payment_histories DROP COLUMN service;
