-- Tenancy, the services half: every history, reservation and idempotency
-- key belongs to the client service that made it (config services.list),
-- and money events are kept in an append-only, sealed audit trail.
--
-- service is the owning service's name; '' is the default service (the
-- top-level connection keys, requests without an API key), which owns
-- every record made before this migration. Sources and idempotency keys
-- are unique per service: two services may use the same source triple or
-- Idempotency-Key without seeing each other. A PG payment (vendor code,
-- uid) stays unique across services: it is one payment at the PG.
-- The previous binary writes service '' through the defaults and finds
-- records by source without the service, which is right as long as it
-- serves the default service only.

-- +goose Up
ALTER TABLE payment_histories ADD COLUMN service varchar NOT NULL DEFAULT '';
ALTER TABLE payment_reservations ADD COLUMN service varchar NOT NULL DEFAULT '';
ALTER TABLE payment_idempotency_keys ADD COLUMN service varchar NOT NULL DEFAULT '';

DROP INDEX payment_histories_source_schema_source_table_source_id_key;
CREATE UNIQUE INDEX payment_histories_service_source_key
    ON payment_histories (service, source_schema, source_table, source_id);
DROP INDEX payment_reservations_source_schema_source_table_source_id_key;
CREATE UNIQUE INDEX payment_reservations_service_source_key
    ON payment_reservations (service, source_schema, source_table, source_id);
DROP INDEX payment_idempotency_keys_idempotency_key_method_path_key;
CREATE UNIQUE INDEX payment_idempotency_keys_service_key_method_path_key
    ON payment_idempotency_keys (service, idempotency_key, method, path);

-- One money event: event is registered, refused, cancelled, reconciled or
-- delivery_given_up; data is the sealed details (amounts, reason, PG ids),
-- never a password or card data. history_id is null for a refused
-- registration, which has no history.
CREATE TABLE payment_audit_events (
    id          uuid        NOT NULL,
    history_id  uuid,
    service     varchar     NOT NULL,
    event       varchar     NOT NULL,
    vendor_code varchar     NOT NULL,
    store_id    varchar     NOT NULL,
    request_id  varchar     NOT NULL,
    data        text        NOT NULL,
    created_at  timestamptz NOT NULL,
    CONSTRAINT payment_audit_events_pkey PRIMARY KEY (id)
);
CREATE INDEX payment_audit_events_history_id_idx
    ON payment_audit_events (history_id, created_at);

-- Append-only: rows are never updated or deleted (goose down drops the
-- table as a whole).
-- +goose StatementBegin
CREATE FUNCTION payment_audit_events_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'payment_audit_events is append-only';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER payment_audit_events_append_only
    BEFORE UPDATE OR DELETE ON payment_audit_events
    FOR EACH ROW EXECUTE FUNCTION payment_audit_events_append_only();

-- +goose Down
DROP TABLE payment_audit_events;
DROP FUNCTION payment_audit_events_append_only();
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
