package config

// Kind is the type of a setting's value, used to check it before it is
// decoded into Config.
type Kind int

// The kinds of settings.
const (
	KindString Kind = iota
	KindInt
	KindSecret
	// KindDuration is a Go duration such as "30s" or "5m".
	KindDuration
	// KindBool is "true" or "false" (or another form strconv.ParseBool
	// reads: 1, 0, t, f, TRUE, …).
	KindBool
)

// Setting describes one configuration key: its name in the YAML file
// (dotted), its environment variable, its default, whether it is a secret,
// and what it means. The table returned by Settings is the single source
// of defaults, environment names, masking and the README's table.
type Setting struct {
	Key     string // dotted key in the config file, e.g. "api.port"
	Env     string // environment variable, e.g. "PAYMENT_API_PORT"
	Default string
	Kind    Kind
	Help    string
}

// Secret reports whether the setting's value must never be printed.
func (s Setting) Secret() bool { return s.Kind == KindSecret }

// The original's committed .env values (payments-backend.md §8.1). They
// are fine for local and dev, and refused in real mode.
const (
	defaultSystemPassword = "samchon"

	defaultConnectionKey  = "MCKOxv9B23r7EatArCFcBP03nfaS03T8"
	defaultConnectionIV   = "9haeYD1tIf4v8xs7"
	defaultHistoryKey     = "MTlsOESZ6geZTjeaubOdR71tobe0KqE7"
	defaultHistoryIV      = "7BqAGp1HPY9Ox66w"
	defaultReservationKey = "0OrB5XVgkYpoybWeGIUkattMb4lTLQgz"
	defaultReservationIV  = "ESgYCYV10Iy6qd1y"
	defaultCancelKey      = "aU3y0PTXraB2SEYj1ACwtTYKxiYBvH4g"
	defaultCancelIV       = "fro2JXImhmbDtDNx"
	defaultIamportKey     = "aaaaaa"
	defaultIamportSecret  = "bbbbb"
	defaultTossSecret     = "test_ak_ZORzdMaqN3wQd5k6ygr5AkYXQGwy"

	// The fake PortOne V2's published credentials (fakepg/portone's
	// defaults): not defaults of the settings, which are empty, but
	// refused in real mode all the same.
	fakePortOneSecret        = "fake_portone_v2_api_secret_not_for_production_use"
	fakePortOneStoreID       = "store-fa4e0000-0000-4000-8000-000000000000"
	fakePortOneWebhookSecret = "whsec_cGF5bWVudGN0bC1mYWtlLXBvcnRvbmUtd2ViaG9vayE="

	// The fake Iamport's published credentials (fakepg/iamport's
	// defaults); refused in real mode, at the top level and in stores.
	fakeIamportKey    = "test_imp_key"
	fakeIamportSecret = "test_imp_secret"

	// Defaults of settings the original did not have; also refused in real mode.
	defaultWebhookSecret  = "paymentctl-local-webhook-secret"
	defaultPasswordSecret = "paymentctl-local-password-secret"
)

// wellKnownSecrets are values published in the original's repository or in
// ours; a real deployment that still uses one is refused.
func wellKnownSecrets() map[string]bool {
	return map[string]bool{
		defaultSystemPassword: true,
		defaultConnectionKey:  true, defaultConnectionIV: true,
		defaultHistoryKey: true, defaultHistoryIV: true,
		defaultReservationKey: true, defaultReservationIV: true,
		defaultCancelKey: true, defaultCancelIV: true,
		defaultIamportKey: true, defaultIamportSecret: true,
		defaultTossSecret: true,
		fakePortOneSecret: true, fakePortOneStoreID: true, fakePortOneWebhookSecret: true,
		fakeIamportKey: true, fakeIamportSecret: true,
		defaultWebhookSecret:  true,
		defaultPasswordSecret: true,
	}
}

// Settings returns every configuration key in display order.
func Settings() []Setting {
	return append([]Setting{
		{Key: "mode", Env: "PAYMENT_MODE", Default: "local", Kind: KindString,
			Help: "Deployment mode: `local` (embedded SQLite, in-process fake PGs), `dev` or `real`."},
		{Key: "api.host", Env: "PAYMENT_API_HOST", Default: "", Kind: KindString,
			Help: "Interface the API and the updater agent listen on. Empty: the API on 127.0.0.1 in local mode and on all interfaces in dev and real, the agent on 127.0.0.1 in every mode (set this when the master and slaves are on different hosts)."},
		{Key: "api.port", Env: "PAYMENT_API_PORT", Default: "37821", Kind: KindInt,
			Help: "Port of the payment API."},
		{Key: "api.read_timeout", Env: "PAYMENT_API_READ_TIMEOUT", Default: "30s", Kind: KindDuration,
			Help: "Longest time to read one request, headers and body (a Go duration); slower clients are disconnected."},
		{Key: "api.write_timeout", Env: "PAYMENT_API_WRITE_TIMEOUT", Default: "60s", Kind: KindDuration,
			Help: "Longest time from the end of a request's headers to the end of its response; must exceed `45s`, the bound of a payment flow waiting on PGs."},
		{Key: "api.idle_timeout", Env: "PAYMENT_API_IDLE_TIMEOUT", Default: "120s", Kind: KindDuration,
			Help: "How long an idle keep-alive connection is kept open."},
		{Key: "api.trusted_proxies", Env: "PAYMENT_API_TRUSTED_PROXIES", Default: "", Kind: KindString,
			Help: "Comma-separated IPs or CIDRs of reverse proxies whose `X-Forwarded-For` / `X-Real-IP` give the client's address (throttling counts by it); empty: the connection's own address, and those headers are ignored."},
		{Key: "updator.port", Env: "PAYMENT_UPDATOR_PORT", Default: "37820", Kind: KindInt,
			Help: "Port of the updater agent (the master listens here for its slaves and for `paymentctl update`)."},
		{Key: "updator.master", Env: "PAYMENT_UPDATOR_MASTER", Default: "", Kind: KindString,
			Help: "`host:port` of the updater master this instance follows as a slave; empty: this instance is the master."},
		{Key: "updator.repo", Env: "PAYMENT_UPDATOR_REPO", Default: ".", Kind: KindString,
			Help: "Git checkout the updater fetches and builds new revisions from."},
		{Key: "updator.releases", Env: "PAYMENT_UPDATOR_RELEASES", Default: "releases", Kind: KindString,
			Help: "Directory of built releases (`<hash>/paymentctl`) and the `current` link the server runs."},
		{Key: "system.password", Env: "PAYMENT_SYSTEM_PASSWORD", Default: defaultSystemPassword, Kind: KindSecret,
			Help: "Shared secret of the updater channel (HMAC-signed requests)."},
		{Key: "database.url", Env: "PAYMENT_DATABASE_URL", Default: "", Kind: KindSecret,
			Help: "Database DSN: `postgres://…` or `sqlite:path`. Empty: `sqlite:paymentctl.db` in local mode, built from `PAYMENT_POSTGRES_*` otherwise."},
		{Key: "postgres.host", Env: "PAYMENT_POSTGRES_HOST", Default: "127.0.0.1", Kind: KindString,
			Help: "PostgreSQL host (dev and real, and `paymentctl schema`)."},
		{Key: "postgres.port", Env: "PAYMENT_POSTGRES_PORT", Default: "5432", Kind: KindInt,
			Help: "PostgreSQL port."},
		{Key: "postgres.database", Env: "PAYMENT_POSTGRES_DATABASE", Default: "payments", Kind: KindString,
			Help: "PostgreSQL database."},
		{Key: "postgres.schema", Env: "PAYMENT_POSTGRES_SCHEMA", Default: "payments", Kind: KindString,
			Help: "PostgreSQL schema holding the tables."},
		{Key: "postgres.username", Env: "PAYMENT_POSTGRES_USERNAME", Default: "samchon", Kind: KindString,
			Help: "Writer account."},
		{Key: "postgres.username_readonly", Env: "PAYMENT_POSTGRES_USERNAME_READONLY", Default: "samchon_r", Kind: KindString,
			Help: "Read-only account created by `paymentctl schema`."},
		{Key: "postgres.password", Env: "PAYMENT_POSTGRES_PASSWORD", Default: "samchon", Kind: KindSecret,
			Help: "Password of both accounts."},
		{Key: "postgres.url", Env: "PAYMENT_POSTGRES_URL", Default: "", Kind: KindSecret,
			Help: "The original's Prisma URL (`postgresql://…?schema=…`); used when set and `PAYMENT_DATABASE_URL` is not."},
		{Key: "connection.encryption.key", Env: "PAYMENT_CONNECTION_ENCRYPTION_KEY", Default: defaultConnectionKey, Kind: KindSecret,
			Help: "AES key of request/response bodies and forwarded webhooks (16, 24 or 32 characters)."},
		{Key: "connection.encryption.iv", Env: "PAYMENT_CONNECTION_ENCRYPTION_IV", Default: defaultConnectionIV, Kind: KindSecret,
			Help: "AES-CBC IV of the bodies (16 characters)."},
		{Key: "history.encryption.key", Env: "PAYMENT_HISTORY_ENCRYPTION_KEY", Default: defaultHistoryKey, Kind: KindSecret,
			Help: "Key material for payment histories at rest (AES-256-GCM key derived with HKDF; at least 16 characters)."},
		{Key: "history.encryption.iv", Env: "PAYMENT_HISTORY_ENCRYPTION_IV", Default: defaultHistoryIV, Kind: KindSecret,
			Help: "Accepted for compatibility with the original's `.env`; GCM uses a random nonce per value instead."},
		{Key: "reservation.encryption.key", Env: "PAYMENT_RESERVATION_ENCRYPTION_KEY", Default: defaultReservationKey, Kind: KindSecret,
			Help: "Key material for reservations (saved cards) at rest."},
		{Key: "reservation.encryption.iv", Env: "PAYMENT_RESERVATION_ENCRYPTION_IV", Default: defaultReservationIV, Kind: KindSecret,
			Help: "Accepted for compatibility; unused (see the history IV)."},
		{Key: "cancel_history.encryption.key", Env: "PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY", Default: defaultCancelKey, Kind: KindSecret,
			Help: "Key material for cancel histories and webhook logs at rest."},
		{Key: "cancel_history.encryption.iv", Env: "PAYMENT_CANCEL_HISTORY_ENCRYPTION_IV", Default: defaultCancelIV, Kind: KindSecret,
			Help: "Accepted for compatibility; unused (see the history IV)."},
		{Key: "history.encryption.previous", Env: "PAYMENT_HISTORY_ENCRYPTION_PREVIOUS", Default: "", Kind: KindSecret,
			Help: "Comma-separated earlier history keys: values sealed under them still open after a rotation (new values use the current key)."},
		{Key: "reservation.encryption.previous", Env: "PAYMENT_RESERVATION_ENCRYPTION_PREVIOUS", Default: "", Kind: KindSecret,
			Help: "Comma-separated earlier reservation keys, for rotation."},
		{Key: "cancel_history.encryption.previous", Env: "PAYMENT_CANCEL_HISTORY_ENCRYPTION_PREVIOUS", Default: "", Kind: KindSecret,
			Help: "Comma-separated earlier cancel-history keys, for rotation (the webhook log's key is derived from these too)."},
		{Key: "password.previous", Env: "PAYMENT_PASSWORD_PREVIOUS", Default: "", Kind: KindSecret,
			Help: "Comma-separated earlier password secrets: record passwords hashed under them still verify."},
		{Key: "password.secret", Env: "PAYMENT_PASSWORD_SECRET", Default: defaultPasswordSecret, Kind: KindSecret,
			Help: "Server secret of the keyed hash (HMAC-SHA256) of per-record passwords."},
		{Key: "webhook.secret", Env: "PAYMENT_WEBHOOK_SECRET", Default: defaultWebhookSecret, Kind: KindSecret,
			Help: "Signing secret of forwarded webhooks (Standard Webhooks `webhook-signature`): `whsec_` and the base64 of 24 to 64 random bytes, as `paymentctl config generate` prints it and Standard Webhooks libraries read it (one that does not decode is refused). A value without the prefix, of at least 16 characters, is a legacy secret: its own bytes are the key (`sdk.ParseWebhookSecret` reads both)."},
		{Key: "webhook.allowed_networks", Env: "PAYMENT_WEBHOOK_ALLOWED_NETWORKS", Default: "", Kind: KindString,
			Help: "Comma-separated CIDRs that `webhook_url`s may reach although private, loopback, link-local or otherwise not public (refused otherwise, at registration and when delivering; local mode also allows loopback). Cloud metadata endpoints and `0.0.0.0` stay refused."},
		{Key: "reconcile.interval", Env: "PAYMENT_RECONCILE_INTERVAL", Default: "5m", Kind: KindDuration,
			Help: "How often the reconciler re-fetches payments in a non-final state from their PG (a Go duration); `0` disables it."},
		{Key: "throttle.failures", Env: "PAYMENT_THROTTLE_FAILURES", Default: "10", Kind: KindInt,
			Help: "Wrong passwords for one record from one client address, or undecryptable bodies from one address, allowed per `throttle.window`; then 429 with `Retry-After` for a window, doubling with each further lockout up to a day. `0` disables throttling."},
		{Key: "throttle.address_failures", Env: "PAYMENT_THROTTLE_ADDRESS_FAILURES", Default: "100", Kind: KindInt,
			Help: "Wrong passwords for any records from one client address allowed per `throttle.window`."},
		{Key: "throttle.window", Env: "PAYMENT_THROTTLE_WINDOW", Default: "10m", Kind: KindDuration,
			Help: "Counting window of the throttle, and its first lockout (a Go duration)."},
		{Key: "iamport.key", Env: "PAYMENT_IAMPORT_KEY", Default: defaultIamportKey, Kind: KindSecret,
			Help: "Iamport (PortOne v1) REST API key."},
		{Key: "iamport.secret", Env: "PAYMENT_IAMPORT_SECRET", Default: defaultIamportSecret, Kind: KindSecret,
			Help: "Iamport REST API secret."},
		{Key: "iamport.url", Env: "PAYMENT_IAMPORT_URL", Default: "", Kind: KindString,
			Help: "Iamport API base URL. Empty: the in-process fake in local mode, `https://api.iamport.kr` otherwise."},
		{Key: "toss_payments.secret", Env: "PAYMENT_TOSS_PAYMENTS_SECRET", Default: defaultTossSecret, Kind: KindSecret,
			Help: "Toss Payments secret key."},
		{Key: "toss_payments.url", Env: "PAYMENT_TOSS_PAYMENTS_URL", Default: "", Kind: KindString,
			Help: "Toss Payments API base URL. Empty: the in-process fake in local mode, `https://api.tosspayments.com` otherwise."},
		{Key: "portone.url", Env: "PAYMENT_PORTONE_URL", Default: "", Kind: KindString,
			Help: "PortOne V2 API base URL. Empty: the in-process fake (with its own credentials) in local mode, `https://api.portone.io` otherwise."},
		{Key: "portone.secret", Env: "PAYMENT_PORTONE_SECRET", Default: "", Kind: KindSecret,
			Help: "PortOne V2 API secret (sent as `Authorization: PortOne …`). Empty outside local mode: PortOne V2 is off and registrations with vendor `portone` are refused."},
		{Key: "portone.store_id", Env: "PAYMENT_PORTONE_STORE_ID", Default: "", Kind: KindString,
			Help: "PortOne V2 store id (`store-…`): sent with every call, and the `vendor.store_id` registrations must carry. Empty: the API secret's own store."},
		{Key: "portone.webhook_secret", Env: "PAYMENT_PORTONE_WEBHOOK_SECRET", Default: "", Kind: KindSecret,
			Help: "Secret (`whsec_…`) of PortOne V2's Standard Webhooks signatures; two, comma-separated, while PortOne rotates it. Required with `portone.secret`: unsigned or wrongly signed webhooks get 401."},
		{Key: "fake.iamport_port", Env: "PAYMENT_FAKE_IAMPORT_PORT", Default: "10851", Kind: KindInt,
			Help: "Port of the fake Iamport server (`paymentctl fake`, local mode)."},
		{Key: "fake.toss_port", Env: "PAYMENT_FAKE_TOSS_PORT", Default: "30771", Kind: KindInt,
			Help: "Port of the fake Toss Payments server."},
		{Key: "fake.portone_port", Env: "PAYMENT_FAKE_PORTONE_PORT", Default: "10861", Kind: KindInt,
			Help: "Port of the fake PortOne V2 server."},
		{Key: "fake.capacity", Env: "PAYMENT_FAKE_CAPACITY", Default: "10000", Kind: KindInt,
			Help: "Records of each kind (payments, billing keys, …) that the fake PGs keep (local mode's in-process fakes and `paymentctl fake`), oldest dropped first; 1 to 1,000,000."},
		{Key: "dev.api_url", Env: "PAYMENT_DEV_API_URL", Default: "", Kind: KindString,
			Help: "Base URL of the dev API (used by `monitor dev`)."},
		{Key: "dev.master", Env: "PAYMENT_DEV_MASTER", Default: "", Kind: KindString,
			Help: "`host:port` of the dev updater master (used by `update dev`, `monitor dev`)."},
		{Key: "real.api_url", Env: "PAYMENT_REAL_API_URL", Default: "", Kind: KindString,
			Help: "Base URL of the real API."},
		{Key: "real.master", Env: "PAYMENT_REAL_MASTER", Default: "", Kind: KindString,
			Help: "`host:port` of the real updater master."},
		{Key: "real.allow_insecure_pg_urls", Env: "PAYMENT_REAL_ALLOW_INSECURE_PG_URLS", Default: "false", Kind: KindBool,
			Help: "Real mode accepts an `http://` `iamport.url`, `toss_payments.url` or `portone.url` only when this is `true` (e.g. a TLS-terminating proxy on the host); otherwise PG URLs must be `https://`, as the PG credentials travel with every call."},
		{Key: "metrics.addr", Env: "PAYMENT_METRICS_ADDR", Default: "127.0.0.1:9464", Kind: KindString,
			Help: "Listen address of the Prometheus `/metrics` endpoint, kept off the API's port and on loopback by default; `off` (or an empty value in the file or on the command line) disables it. An empty environment variable counts as unset, as for every key."},
		{Key: "log.format", Env: "PAYMENT_LOG_FORMAT", Default: "text", Kind: KindString,
			Help: "Log format: `text` or `json`."},
		{Key: "log.level", Env: "PAYMENT_LOG_LEVEL", Default: "info", Kind: KindString,
			Help: "Log level: `debug`, `info`, `warn` or `error`."},
	}, serviceSettings()...)
}
