// Package config builds paymentctl's one typed Config from defaults, an
// optional YAML file, the environment (plus a .env file in the working
// directory) and explicitly set command-line flags, in that order of
// precedence, and validates it before anything connects.
//
// Environment names are the original payment-backend's `.env` keys
// (PAYMENT_MODE, PAYMENT_API_PORT, PAYMENT_*_ENCRYPTION_KEY, …), so an
// existing `.env` works unchanged; settings paymentctl added have PAYMENT_
// names too. Settings lists every key; the README's configuration table is
// checked against it by a test.
//
// Nothing here reads the process environment or the file system by
// itself: Load takes them as arguments, so tests and commands control them.
package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paymentctl/paymentctl/sdk"
)

// Mode is the deployment mode.
type Mode string

// The modes. Local runs on an embedded SQLite file with the fake PGs in
// process; dev and real use PostgreSQL and real PGs.
const (
	ModeLocal Mode = "local"
	ModeDev   Mode = "dev"
	ModeReal  Mode = "real"
)

// Modes lists the valid modes.
func Modes() []Mode { return []Mode{ModeLocal, ModeDev, ModeReal} }

// ParseMode returns the mode named s, or an error naming the valid ones.
func ParseMode(s string) (Mode, error) {
	for _, m := range Modes() {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("%q is not a mode; use local, dev or real", s)
}

// Secret is a string that must never be printed or logged. Its String,
// GoString, LogValue and MarshalText methods all return a mask; Reveal
// returns the value for the code that uses it.
type Secret string

// mask is what a non-empty secret prints as.
const mask = "******"

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String returns a mask, or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return mask
}

// GoString masks the secret in %#v too.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// MarshalText masks the secret in JSON, YAML and text encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Encryption is a key and IV pair as the original configured them, plus
// the keys it replaced.
type Encryption struct {
	Key Secret `mapstructure:"key"`
	IV  Secret `mapstructure:"iv"`
	// Previous holds earlier keys, comma-separated, that still open old
	// values after a rotation; see Keys.
	Previous Secret `mapstructure:"previous"`
}

// PreviousKeys returns the earlier keys of a rotation, in the order given.
func (e Encryption) PreviousKeys() []string { return splitList(e.Previous.Reveal()) }

// splitList splits a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Encrypted wraps an Encryption under the `encryption` key, as the
// original's PAYMENT_<THING>_ENCRYPTION_KEY / _IV names nest.
type Encrypted struct {
	Encryption Encryption `mapstructure:"encryption"`
}

// Postgres holds the original's PostgreSQL settings.
type Postgres struct {
	Host             string `mapstructure:"host"`
	Port             int    `mapstructure:"port"`
	Database         string `mapstructure:"database"`
	Schema           string `mapstructure:"schema"`
	Username         string `mapstructure:"username"`
	UsernameReadonly string `mapstructure:"username_readonly"`
	Password         Secret `mapstructure:"password"`
	URL              Secret `mapstructure:"url"`
}

// Remote holds the addresses of a dev or real deployment.
type Remote struct {
	APIURL string `mapstructure:"api_url"`
	Master string `mapstructure:"master"`
}

// Config is paymentctl's whole configuration. Build it with Load; the
// zero value is not valid.
type Config struct {
	Mode Mode `mapstructure:"mode"`
	API  struct {
		Host         string        `mapstructure:"host"`
		Port         int           `mapstructure:"port"`
		ReadTimeout  time.Duration `mapstructure:"read_timeout"`
		WriteTimeout time.Duration `mapstructure:"write_timeout"`
		IdleTimeout  time.Duration `mapstructure:"idle_timeout"`
		// TrustedProxies is a comma-separated list of IPs and CIDRs; see
		// APITrustedProxies.
		TrustedProxies string `mapstructure:"trusted_proxies"`
	} `mapstructure:"api"`
	Updator struct {
		Port     int    `mapstructure:"port"`
		Master   string `mapstructure:"master"`
		Repo     string `mapstructure:"repo"`
		Releases string `mapstructure:"releases"`
	} `mapstructure:"updator"`
	System struct {
		Password Secret `mapstructure:"password"`
	} `mapstructure:"system"`
	Database struct {
		URL Secret `mapstructure:"url"`
	} `mapstructure:"database"`
	Postgres      Postgres  `mapstructure:"postgres"`
	Connection    Encrypted `mapstructure:"connection"`
	History       Encrypted `mapstructure:"history"`
	Reservation   Encrypted `mapstructure:"reservation"`
	CancelHistory Encrypted `mapstructure:"cancel_history"`
	Password      struct {
		Secret   Secret `mapstructure:"secret"`
		Previous Secret `mapstructure:"previous"`
	} `mapstructure:"password"`
	Webhook struct {
		Secret Secret `mapstructure:"secret"`
		// AllowedNetworks is a comma-separated list of CIDRs; see
		// WebhookAllowedNetworks.
		AllowedNetworks string `mapstructure:"allowed_networks"`
	} `mapstructure:"webhook"`
	Reconcile struct {
		// Interval is how often the reconciler sweeps; 0 disables it.
		Interval time.Duration `mapstructure:"interval"`
	} `mapstructure:"reconcile"`
	Throttle struct {
		// Failures per record and client address (and undecryptable
		// bodies per address) in a Window; 0 disables throttling.
		Failures int `mapstructure:"failures"`
		// AddressFailures per client address across records in a Window.
		AddressFailures int           `mapstructure:"address_failures"`
		Window          time.Duration `mapstructure:"window"`
	} `mapstructure:"throttle"`
	Iamport struct {
		Key    Secret `mapstructure:"key"`
		Secret Secret `mapstructure:"secret"`
		URL    string `mapstructure:"url"`
	} `mapstructure:"iamport"`
	TossPayments struct {
		Secret Secret `mapstructure:"secret"`
		URL    string `mapstructure:"url"`
	} `mapstructure:"toss_payments"`
	PortOne struct {
		URL     string `mapstructure:"url"`
		Secret  Secret `mapstructure:"secret"`
		StoreID string `mapstructure:"store_id"`
		// WebhookSecret is one whsec_ secret, or two separated by a comma
		// while PortOne rotates it; see PortOneWebhookSecrets.
		WebhookSecret Secret `mapstructure:"webhook_secret"`
	} `mapstructure:"portone"`
	Fake struct {
		IamportPort int `mapstructure:"iamport_port"`
		TossPort    int `mapstructure:"toss_port"`
		PortOnePort int `mapstructure:"portone_port"`
		// Capacity bounds each record store of the fake PGs.
		Capacity int `mapstructure:"capacity"`
	} `mapstructure:"fake"`
	Metrics struct {
		Addr string `mapstructure:"addr"`
	} `mapstructure:"metrics"`
	Dev  Remote `mapstructure:"dev"`
	Real struct {
		Remote `mapstructure:",squash"`
		// AllowInsecurePGURLs lets real mode use http:// PG URLs.
		AllowInsecurePGURLs bool `mapstructure:"allow_insecure_pg_urls"`
	} `mapstructure:"real"`
	Log struct {
		Format string `mapstructure:"format"`
		Level  string `mapstructure:"level"`
	} `mapstructure:"log"`
	// Stores are the merchant accounts with credentials of their own
	// (`stores`, or PAYMENT_STORES as JSON); see Store. Load reads them
	// itself, not through viper's decoder.
	Stores []Store `mapstructure:"-"`
	// Services are the client services and their API keys (services.go).
	Services Services `mapstructure:"services"`

	// storesSource is where Stores came from, for Print and problems.
	storesSource Source
	// values and sources record each key's effective raw value and where it
	// came from, for Print.
	values  map[string]string
	sources map[string]Source
}

// PaymentFlowTimeout bounds a mutating payment flow (a registration, a
// cancel) once the server has read its request: the PG calls, each bounded
// by the PG client's 10-second timeout, and the database writes run to the
// end within it even if the client leaves. api.write_timeout, which counts
// from the end of a request's headers to the end of its response, must
// exceed it, or the answer of a slow flow would be cut off although the
// flow completed (the client's retry with its Idempotency-Key then gets
// the stored answer); Validate refuses one that does not. 45 s holds two
// PG calls, a wait for another cancel of the same payment at its PG
// (payment's inFlightWait) and the writes, under the 60 s default.
const PaymentFlowTimeout = 45 * time.Second

// Endpoint is where a mode's servers are.
type Endpoint struct {
	APIURL string // base URL of the payment API
	Master string // host:port of the updater master
}

// Endpoint returns the API and updater master addresses of mode: loopback
// and the configured ports for local, the PAYMENT_DEV_* / PAYMENT_REAL_*
// settings otherwise.
func (c *Config) Endpoint(mode Mode) (Endpoint, error) {
	switch mode {
	case ModeLocal:
		return Endpoint{
			APIURL: "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(c.API.Port)),
			Master: net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Updator.Port)),
		}, nil
	case ModeDev, ModeReal:
		r, prefix := c.Dev, "PAYMENT_DEV_"
		if mode == ModeReal {
			r, prefix = c.Real.Remote, "PAYMENT_REAL_"
		}
		if r.APIURL == "" || r.Master == "" {
			return Endpoint{}, fmt.Errorf("the %s servers' addresses are not configured: set %sAPI_URL (e.g. https://payments.example.com) and %sMASTER (e.g. 10.0.0.5:37820)", mode, prefix, prefix)
		}
		return Endpoint{APIURL: r.APIURL, Master: r.Master}, nil
	}
	return Endpoint{}, fmt.Errorf("%q is not a mode; use local, dev or real", mode)
}

// DatabaseURL returns the DSN the server connects to: PAYMENT_DATABASE_URL
// when set; in local mode the embedded SQLite file; otherwise the
// original's PAYMENT_POSTGRES_URL (its Prisma `schema` parameter turned
// into a search_path) or a URL built from the PAYMENT_POSTGRES_* parts.
func (c *Config) DatabaseURL() string {
	if u := c.Database.URL.Reveal(); u != "" {
		return u
	}
	if c.Mode == ModeLocal {
		return "sqlite:paymentctl.db"
	}
	if u := c.Postgres.URL.Reveal(); u != "" {
		return prismaToPostgres(u)
	}
	u := url.URL{
		Scheme: "postgres",
		User:   url.UserPassword(c.Postgres.Username, c.Postgres.Password.Reveal()),
		Host:   net.JoinHostPort(c.Postgres.Host, strconv.Itoa(c.Postgres.Port)),
		Path:   "/" + c.Postgres.Database,
	}
	if c.Postgres.Schema != "" {
		// Query encoding writes a space as "+", which libpq-style parsers
		// read literally: spell it %20.
		u.RawQuery = strings.ReplaceAll(url.Values{"search_path": {c.Postgres.Schema}}.Encode(), "+", "%20")
	}
	return u.String()
}

// prismaToPostgres rewrites Prisma's `?schema=x` parameter, which libpq and
// pgx do not know, into `search_path=x`.
func prismaToPostgres(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	if s := q.Get("schema"); s != "" {
		q.Del("schema")
		q.Set("search_path", s)
		u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	}
	return u.String()
}

// Value returns the effective raw value of a key as loaded (secrets
// unmasked), and whether the key exists.
func (c *Config) Value(key string) (string, bool) {
	v, ok := c.values[key]
	return v, ok
}

// SourceOf returns where a key's effective value came from.
func (c *Config) SourceOf(key string) Source { return c.sources[key] }

// Source says which layer supplied a value.
type Source string

// The layers, from lowest to highest precedence.
const (
	SourceDefault Source = "default"
	SourceFile    Source = "file"
	SourceDotEnv  Source = ".env"
	SourceEnv     Source = "env"
	SourceFlag    Source = "flag"
)

// PortOneWebhookSecrets returns the Standard Webhooks secrets PortOne V2's
// webhooks may be signed with: one, or two during a rotation.
func (c *Config) PortOneWebhookSecrets() []string { return splitList(c.PortOne.WebhookSecret.Reveal()) }

// PortOneEnabled reports whether PortOne V2 is configured: an API secret
// is set. Local mode with no portone.url uses the in-process fake, with
// its own credentials, whatever the settings say.
func (c *Config) PortOneEnabled() bool { return c.PortOne.Secret != "" }

// PreviousPasswordSecrets returns the earlier record-password secrets.
func (c *Config) PreviousPasswordSecrets() []string { return splitList(c.Password.Previous.Reveal()) }

// FlagName returns the command-line flag that may override key: the key
// with dots and underscores turned into dashes ("api.port" → "api-port").
func FlagName(key string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '_' {
			return '-'
		}
		return r
	}, key)
}

// LogValue masks the secret in log/slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// WebhookKey returns the key forwarded webhooks are signed with:
// webhook.secret read by sdk.ParseWebhookSecret, so the key of a whsec_
// value is its decoded bytes and that of a legacy value its own bytes.
// Validate has already refused a secret that does not parse.
func (c *Config) WebhookKey() []byte {
	key, err := sdk.ParseWebhookSecret(c.Webhook.Secret.Reveal())
	if err != nil {
		return nil
	}
	return key
}

// WebhookAllowedNetworks parses webhook.allowed_networks. Validate has
// already refused a list that does not parse.
func (c *Config) WebhookAllowedNetworks() []*net.IPNet {
	var out []*net.IPNet
	for _, s := range splitList(c.Webhook.AllowedNetworks) {
		if _, n, err := net.ParseCIDR(s); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// APITrustedProxies returns api.trusted_proxies as a list of IPs and
// CIDRs. Validate has already refused entries that do not parse.
func (c *Config) APITrustedProxies() []string { return splitList(c.API.TrustedProxies) }

// MetricsOff is the metrics.addr value that turns the Prometheus listener
// off from the environment, where an empty value counts as unset.
const MetricsOff = "off"
