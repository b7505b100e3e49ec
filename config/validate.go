package config

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paymentctl/paymentctl/internal/stdwebhook"
	"github.com/paymentctl/paymentctl/sdk"
)

// Problem is one invalid setting: which key, what is wrong with its value
// and how to fix it.
type Problem struct {
	Key     string // dotted key
	Env     string // its environment variable
	Problem string
	Fix     string
}

// String renders the problem on one line, naming the environment variable.
func (p Problem) String() string {
	name := p.Env
	if name == "" {
		name = p.Key
	}
	s := name + ": " + p.Problem
	if p.Fix != "" {
		s += "; " + p.Fix
	}
	return s
}

// ValidationError lists every problem found in a configuration.
type ValidationError struct {
	Problems []Problem
}

// Error lists the problems, one a line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration:")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// envOf returns the environment name of key.
func envOf(key string) string {
	for _, s := range Settings() {
		if s.Key == key {
			return s.Env
		}
	}
	return ""
}

// describe shows a value in a problem, masked when it is a secret.
func describe(s Setting, value string) string {
	if s.Secret() {
		return fmt.Sprintf("the value (%d characters)", len(value))
	}
	return strconv.Quote(value)
}

// checkKinds reports values that cannot be decoded into their kind.
func checkKinds(settings []Setting, values map[string]string, sources map[string]Source) []Problem {
	var problems []Problem
	for _, s := range settings {
		v := strings.TrimSpace(values[s.Key])
		switch s.Kind {
		case KindInt:
			if _, err := strconv.Atoi(v); err != nil {
				problems = append(problems, Problem{
					Key: s.Key, Env: s.Env,
					Problem: fmt.Sprintf("%s (from %s) is not a whole number", describe(s, values[s.Key]), sources[s.Key]),
					Fix:     "set a number such as " + s.Default,
				})
			}
		case KindDuration:
			if d, err := time.ParseDuration(v); err != nil || d < 0 {
				problems = append(problems, Problem{
					Key: s.Key, Env: s.Env,
					Problem: fmt.Sprintf("%s (from %s) is not a duration", describe(s, values[s.Key]), sources[s.Key]),
					Fix:     "set a Go duration such as " + s.Default,
				})
			}
		case KindBool:
			if _, err := strconv.ParseBool(v); err != nil {
				problems = append(problems, Problem{
					Key: s.Key, Env: s.Env,
					Problem: fmt.Sprintf("%s (from %s) is not true or false", describe(s, values[s.Key]), sources[s.Key]),
					Fix:     "set true or false",
				})
			}
		}
	}
	return problems
}

// maxFakeCapacity bounds fake.capacity: the fakes hold their records in
// memory.
const maxFakeCapacity = 1_000_000

// Validate checks the whole configuration and returns a *ValidationError
// listing every problem, or nil. In real mode it also refuses empty
// secrets and the well-known defaults published with the original.
func (c *Config) Validate() error {
	var ps []Problem
	add := func(key, problem, fix string) {
		ps = append(ps, Problem{Key: key, Env: envOf(key), Problem: problem, Fix: fix})
	}

	if _, err := ParseMode(string(c.Mode)); err != nil {
		add("mode", err.Error(), "")
	}
	for key, port := range map[string]int{
		"api.port": c.API.Port, "updator.port": c.Updator.Port, "postgres.port": c.Postgres.Port,
		"fake.iamport_port": c.Fake.IamportPort, "fake.toss_port": c.Fake.TossPort, "fake.portone_port": c.Fake.PortOnePort,
	} {
		if port < 1 || port > 65535 {
			add(key, fmt.Sprintf("port %d is out of range", port), "use a port between 1 and 65535")
		}
	}

	if n := c.Fake.Capacity; n < 1 || n > maxFakeCapacity {
		add("fake.capacity", fmt.Sprintf("%d records is out of range", n), "use 1 to 1,000,000")
	}

	if n := len(c.Connection.Encryption.Key); n != 16 && n != 24 && n != 32 {
		add("connection.encryption.key", fmt.Sprintf("the key has %d characters", n),
			"AES needs 16, 24 or 32; `paymentctl config generate` makes one")
	}
	if n := len(c.Connection.Encryption.IV); n != 16 {
		add("connection.encryption.iv", fmt.Sprintf("the IV has %d characters", n),
			"AES-CBC needs 16; `paymentctl config generate` makes one")
	}
	for key, v := range map[string]Secret{
		"history.encryption.key":        c.History.Encryption.Key,
		"reservation.encryption.key":    c.Reservation.Encryption.Key,
		"cancel_history.encryption.key": c.CancelHistory.Encryption.Key,
		"password.secret":               c.Password.Secret,
	} {
		if n := len(v); n < 16 {
			add(key, fmt.Sprintf("the secret has %d characters", n),
				"use at least 16 random characters; `paymentctl config generate` makes one")
		}
	}
	if problem := webhookSecretProblem(c.Webhook.Secret.Reveal()); problem != "" {
		add("webhook.secret", problem,
			"use the whsec_ value `paymentctl config generate` prints (whsec_ and the base64 of 32 random bytes)")
	}

	for key, list := range map[string][]string{
		"history.encryption.previous":        c.History.Encryption.PreviousKeys(),
		"reservation.encryption.previous":    c.Reservation.Encryption.PreviousKeys(),
		"cancel_history.encryption.previous": c.CancelHistory.Encryption.PreviousKeys(),
		"password.previous":                  c.PreviousPasswordSecrets(),
	} {
		for i, k := range list {
			if len(k) < 16 {
				add(key, fmt.Sprintf("entry %d has %d characters", i+1, len(k)), "earlier keys are at least 16 characters, as current ones")
			}
		}
	}

	if u := c.Database.URL.Reveal(); u != "" && !validDatabaseURL(u) {
		add("database.url", "the DSN is neither postgres://… nor sqlite:…",
			"use e.g. postgres://user:pass@127.0.0.1:5432/payments or sqlite:paymentctl.db")
	}
	for key, u := range map[string]string{
		"iamport.url": c.Iamport.URL, "toss_payments.url": c.TossPayments.URL, "portone.url": c.PortOne.URL,
		"dev.api_url": c.Dev.APIURL, "real.api_url": c.Real.APIURL,
	} {
		if u != "" && !validHTTPURL(u) {
			add(key, fmt.Sprintf("%q is not an http(s) URL", u), "use e.g. https://host:port")
		}
	}
	ps = append(ps, c.portOneProblems()...)
	ps = append(ps, c.storeProblems()...)
	ps = append(ps, c.servicesProblems()...)
	for key, addr := range map[string]string{"dev.master": c.Dev.Master, "real.master": c.Real.Master, "updator.master": c.Updator.Master, "metrics.addr": c.Metrics.Addr} {
		if addr == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			add(key, fmt.Sprintf("%q is not host:port", addr), "use e.g. 10.0.0.5:37820")
		}
	}

	for key, d := range map[string]time.Duration{
		"api.read_timeout": c.API.ReadTimeout, "api.write_timeout": c.API.WriteTimeout, "api.idle_timeout": c.API.IdleTimeout,
	} {
		if d < time.Second {
			add(key, fmt.Sprintf("%s is shorter than a second", d), "use e.g. 30s")
		}
	}
	if d := c.API.WriteTimeout; d >= time.Second && d <= PaymentFlowTimeout {
		add("api.write_timeout", fmt.Sprintf("%s does not exceed %s, the bound of a payment flow (PG calls and database writes); answers of slow flows would be cut off", d, PaymentFlowTimeout),
			"use e.g. 90s")
	}
	for _, n := range splitList(c.Webhook.AllowedNetworks) {
		if _, _, err := net.ParseCIDR(n); err != nil {
			add("webhook.allowed_networks", fmt.Sprintf("%q is not a CIDR", n), "use e.g. 10.0.0.0/8,fd00::/8")
		}
	}

	for _, p := range c.APITrustedProxies() {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			add("api.trusted_proxies", fmt.Sprintf("%q is neither an IP nor a CIDR", p), "use e.g. 10.0.0.1,10.1.0.0/16")
		}
	}
	if c.Throttle.Failures < 0 {
		add("throttle.failures", fmt.Sprintf("%d is negative", c.Throttle.Failures), "use e.g. 10, or 0 to disable throttling")
	}
	if c.Throttle.AddressFailures < 1 {
		add("throttle.address_failures", fmt.Sprintf("%d is below 1", c.Throttle.AddressFailures), "use e.g. 100")
	}
	if c.Throttle.Window < time.Second {
		add("throttle.window", fmt.Sprintf("%s is shorter than a second", c.Throttle.Window), "use e.g. 10m")
	}

	switch c.Log.Format {
	case "text", "json":
	default:
		add("log.format", fmt.Sprintf("%q is not a log format", c.Log.Format), "use text or json")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level", fmt.Sprintf("%q is not a log level", c.Log.Level), "use debug, info, warn or error")
	}

	if c.Mode == ModeReal {
		ps = append(ps, c.realModeProblems()...)
	}
	if len(ps) == 0 {
		return nil
	}
	sortProblems(ps)
	return &ValidationError{Problems: ps}
}

// webhookSecretProblem says what is wrong with a webhook signing secret,
// or returns "". A whsec_ value must decode as sdk.ParseWebhookSecret
// reads it (which is how the server and the SDK read it); a legacy value,
// used as its own bytes, must have at least 16 characters.
func webhookSecretProblem(s string) string {
	if strings.HasPrefix(strings.TrimSpace(s), sdk.WebhookSecretPrefix) {
		if _, err := sdk.ParseWebhookSecret(s); err != nil {
			return err.Error()
		}
		return ""
	}
	if n := len(s); n < 16 {
		return fmt.Sprintf("the secret has %d characters", n)
	}
	return ""
}

// minRealSecret is the fewest characters real mode accepts in a secret
// the operator chooses.
const minRealSecret = 16

// realModeProblems refuses weak secrets among those a real deployment
// depends on: empty ones, the published defaults, ones shorter than
// minRealSecret, and one value given to several secrets (the problem
// names the keys, never the value). It also refuses http:// PG URLs
// unless real.allow_insecure_pg_urls says otherwise. The at-rest IVs are
// unused (GCM draws a nonce per value) and so not required. PortOne V2 is
// optional (realPortOneProblems).
func (c *Config) realModeProblems() []Problem {
	required := []string{
		"system.password", "connection.encryption.key", "connection.encryption.iv",
		"history.encryption.key", "reservation.encryption.key", "cancel_history.encryption.key",
		"password.secret", "webhook.secret", "iamport.key", "iamport.secret", "toss_payments.secret",
	}
	// Only real mode bounds these from below: the keys and the IV have
	// length rules in every mode, and the PG credentials are what the PGs
	// issue.
	lengthChecked := map[string]bool{"system.password": true}
	if c.Database.URL == "" && c.Postgres.URL == "" {
		required = append(required, "postgres.password")
		lengthChecked["postgres.password"] = true
	}
	known := wellKnownSecrets()
	var ps []Problem
	sharing := map[string][]string{} // value → keys, of the acceptable values
	for _, key := range required {
		v := c.values[key]
		switch {
		case v == "":
			ps = append(ps, Problem{Key: key, Env: envOf(key), Problem: "is empty in real mode",
				Fix: "set a secret value"})
		case known[v]:
			ps = append(ps, Problem{Key: key, Env: envOf(key),
				Problem: "is a well-known default published with the original project, refused in real mode",
				Fix:     "set a fresh value (`paymentctl config generate` prints a set)"})
		case lengthChecked[key] && len(v) < minRealSecret:
			ps = append(ps, Problem{Key: key, Env: envOf(key),
				Problem: fmt.Sprintf("has %d characters, too few for a secret in real mode", len(v)),
				Fix:     fmt.Sprintf("use at least %d random characters; `paymentctl config generate` makes one", minRealSecret)})
		default:
			sharing[v] = append(sharing[v], key)
		}
	}
	ps = append(ps, c.realPortOneProblems(known, sharing)...)
	ps = append(ps, c.realStoreProblems(known)...)
	for _, keys := range sharing {
		if len(keys) < 2 {
			continue
		}
		others := make([]string, 0, len(keys)-1)
		for _, k := range keys[1:] {
			others = append(others, envOf(k))
		}
		ps = append(ps, Problem{Key: keys[0], Env: envOf(keys[0]),
			Problem: "has the same value as " + strings.Join(others, ", ") + "; one leaked secret would give away the others",
			Fix:     "give every secret a value of its own (`paymentctl config generate` prints a set)"})
	}
	for key, u := range map[string]string{"iamport.url": c.Iamport.URL, "toss_payments.url": c.TossPayments.URL, "portone.url": c.PortOne.URL} {
		if parsed, err := url.Parse(u); err == nil && parsed.Scheme == "http" && !c.Real.AllowInsecurePGURLs {
			ps = append(ps, Problem{Key: key, Env: envOf(key),
				Problem: fmt.Sprintf("%q is not https: the PG credentials would travel unencrypted", u),
				Fix:     "use https://, or set PAYMENT_REAL_ALLOW_INSECURE_PG_URLS=true if a local TLS proxy carries the calls on"})
		}
	}
	return ps
}

// sortProblems orders problems as the settings table does, so output is
// stable.
func sortProblems(ps []Problem) {
	order := make(map[string]int)
	for i, s := range Settings() {
		order[s.Key] = i
	}
	// An entry of a list (services.list[0].name) sorts as its list.
	base := func(k string) string { k, _, _ = strings.Cut(k, "["); return k }
	sort.SliceStable(ps, func(i, j int) bool { return order[base(ps[i].Key)] < order[base(ps[j].Key)] })
}

func validDatabaseURL(u string) bool {
	for _, p := range []string{"postgres://", "postgresql://", "sqlite:", "file:"} {
		if strings.HasPrefix(u, p) {
			return true
		}
	}
	return false
}

func validHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// maxPortOneWebhookSecrets is how many webhook secrets PortOne keeps
// active at once: the current one and, during a rotation, the next.
const maxPortOneWebhookSecrets = 2

// portOneProblems checks the PortOne V2 settings in every mode: webhook
// secrets in their whsec_ form, and no API secret without one (its
// webhooks could not be verified).
func (c *Config) portOneProblems() []Problem {
	const key = "portone.webhook_secret"
	var ps []Problem
	secrets := c.PortOneWebhookSecrets()
	for i, s := range secrets {
		if _, err := stdwebhook.DecodeSecret(s); err != nil {
			ps = append(ps, Problem{Key: key, Env: envOf(key), Problem: fmt.Sprintf("entry %d: %v", i+1, err),
				Fix: "copy the webhook secret (whsec_…) from PortOne's console"})
		}
	}
	if len(secrets) > maxPortOneWebhookSecrets {
		ps = append(ps, Problem{Key: key, Env: envOf(key), Problem: fmt.Sprintf("lists %d secrets", len(secrets)),
			Fix: "list the current secret and, during a rotation, the next one"})
	}
	if c.PortOne.Secret != "" && len(secrets) == 0 {
		ps = append(ps, Problem{Key: key, Env: envOf(key), Problem: "is empty although portone.secret is set: PortOne's webhooks could not be verified",
			Fix: "copy the webhook secret (whsec_…) from PortOne's console"})
	}
	return ps
}

// realPortOneProblems refuses, in real mode, the fake PortOne's published
// credentials in any PortOne V2 setting, and adds the API secret to the
// values checked for reuse across secrets. PortOne V2 itself is optional:
// empty settings leave it off.
func (c *Config) realPortOneProblems(known map[string]bool, sharing map[string][]string) []Problem {
	var ps []Problem
	refuse := func(key string) {
		ps = append(ps, Problem{Key: key, Env: envOf(key),
			Problem: "is the fake PortOne's published test value, refused in real mode",
			Fix:     "use the value PortOne's console shows for your store"})
	}
	if v := c.PortOne.Secret.Reveal(); known[v] {
		refuse("portone.secret")
	} else if v != "" {
		sharing[v] = append(sharing[v], "portone.secret")
	}
	if known[c.PortOne.StoreID] {
		refuse("portone.store_id")
	}
	for _, s := range c.PortOneWebhookSecrets() {
		if known[s] {
			refuse("portone.webhook_secret")
			break
		}
	}
	return ps
}
