package config

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/go-viper/mapstructure/v2"

	"github.com/paymentctl/paymentctl/sdk"
)

// Services is the `services` block: the client services that call the API,
// each with API keys of its own and its own body encryption key and IV.
//
// In the file it is written as
//
//	services:
//	  require_key: false
//	  list:
//	    - name: shop
//	      api_keys: ["sha256:<hex SHA-256 of the key>"]   # two while rotating
//	      encryption: {key: "<16, 24 or 32 chars>", iv: "<16 chars>"}
//	      # encryption.format: any (default) or gcm (authenticated only)
//	      webhook_secret: "whsec_..."                      # optional
//
// and in the environment as PAYMENT_SERVICES_REQUIRE_KEY and
// PAYMENT_SERVICES, the list as JSON with the same field names (which
// replaces the file's list as a whole).
type Services struct {
	// RequireKey refuses (401) requests without an API key; false lets
	// them use the top-level connection keys as the default service.
	RequireKey bool `mapstructure:"require_key"`
	// List holds the services. Load decodes it itself (decodeServiceList),
	// refusing unknown fields.
	List []Service `mapstructure:"-"`
}

// Service is one client service of the hub.
type Service struct {
	// Name identifies the service in records, logs and the audit trail.
	Name string `mapstructure:"name" json:"name"`
	// APIKeys are the hashes of its API keys, "sha256:" and the lowercase
	// hex SHA-256 of the key; two while a key is being rotated.
	APIKeys []string `mapstructure:"api_keys" json:"api_keys"`
	// Encryption is the body encryption key and IV of its requests,
	// responses and forwarded webhooks.
	Encryption ServiceEncryption `mapstructure:"encryption" json:"encryption"`
	// WebhookSecret signs the events forwarded to it; empty means the
	// top-level webhook.secret.
	WebhookSecret Secret `mapstructure:"webhook_secret" json:"webhook_secret"`
}

// ServiceEncryption is a service's body encryption key and IV, and the
// body formats it may use.
type ServiceEncryption struct {
	Key Secret `mapstructure:"key" json:"key"`
	IV  Secret `mapstructure:"iv" json:"iv"`
	// Format is BodyFormatAny (the default, also when empty): the
	// original's AES-CBC format, or the authenticated AES-GCM one when a
	// request asks for it; or BodyFormatGCM: only the authenticated
	// format, so the service's traffic cannot be attacked through the
	// CBC format's padding.
	Format string `mapstructure:"format" json:"format,omitempty"`
}

// Body formats of a service (services.list[].encryption.format).
const (
	BodyFormatAny = "any"
	BodyFormatGCM = "gcm"
)

// GCMOnly reports whether the service takes and answers only the
// authenticated AES-GCM body format.
func (e ServiceEncryption) GCMOnly() bool { return e.Format == BodyFormatGCM }

// Setting keys of the services block.
const (
	keyServicesRequireKey = "services.require_key"
	keyServicesList       = "services.list"
)

// APIKeyHashPrefix starts every stored API key hash.
const APIKeyHashPrefix = "sha256:"

// serviceNamePattern is what a service name may be: it is written to
// records and logs, and to the audit trail.
var serviceNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// serviceSettings are the settings of the services block.
func serviceSettings() []Setting {
	return []Setting{
		{Key: keyServicesRequireKey, Env: "PAYMENT_SERVICES_REQUIRE_KEY", Default: "false", Kind: KindBool,
			Help: "Refuse (401) API requests without `Authorization: Bearer <api key>`; `false` serves them with the top-level connection keys as the default service."},
		{Key: keyServicesList, Env: "PAYMENT_SERVICES", Default: "", Kind: KindSecret,
			Help: "The services calling the API, each with its API key hashes, body key and IV and optional webhook secret: a YAML list in the file (see \"Several services and stores\"), a JSON array of the same objects in the environment, which replaces the file's list."},
	}
}

// decodeServiceList decodes services.list as Load found it: a list from
// the file, or JSON text from the environment, .env or a flag. Unknown
// fields are refused, so a misspelt one is not silently ignored. A
// problem never quotes the value, which holds keys.
func decodeServiceList(raw any) ([]Service, *Problem) {
	problem := func(what string) *Problem {
		return &Problem{Key: keyServicesList, Env: "PAYMENT_SERVICES", Problem: what,
			Fix: `use a list of {name, api_keys, encryption: {key, iv}, webhook_secret}; in the environment as JSON, e.g. [{"name":"shop","api_keys":["sha256:…"],"encryption":{"key":"…","iv":"…"}}]`}
	}
	if text, ok := raw.(string); ok {
		if strings.TrimSpace(text) == "" {
			return nil, nil
		}
		var decoded []any
		if err := json.Unmarshal([]byte(text), &decoded); err != nil {
			return nil, problem("is not a JSON array")
		}
		raw = decoded
	}
	if raw == nil {
		return nil, nil
	}
	entries, ok := raw.([]any)
	if !ok {
		return nil, problem("is not a list")
	}
	for i, e := range entries {
		if field := unknownServiceField(e); field != "" {
			return nil, problem(fmt.Sprintf("entry %d: unknown or misplaced field %q", i, field))
		}
	}
	var list []Service
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{Result: &list, TagName: "mapstructure"})
	if err != nil {
		return nil, problem(err.Error())
	}
	if err := dec.Decode(raw); err != nil {
		// mapstructure's message may quote the value, which may be a key.
		return nil, problem("a field has the wrong type: name, keys and secrets are text, api_keys a list of text, encryption an object")
	}
	return list, nil
}

// unknownServiceField returns the first field of a services.list entry
// that is not one of its fields (a misspelling would otherwise be
// ignored), or "" when there is none. The entry itself is checked by the
// decoder.
func unknownServiceField(entry any) string {
	m, ok := entry.(map[string]any)
	if !ok {
		return ""
	}
	for k, v := range m {
		switch k {
		case "name", "api_keys", "webhook_secret":
		case "encryption":
			if enc, ok := v.(map[string]any); ok {
				for ek := range enc {
					if ek != "key" && ek != "iv" && ek != "format" {
						return "encryption." + ek
					}
				}
			}
		default:
			return k
		}
	}
	return ""
}

// servicesProblems checks the services block: names, hashes, keys and IVs,
// and webhook secrets. A problem names the entry and field, never a value.
func (c *Config) servicesProblems() []Problem {
	var ps []Problem
	add := func(i int, field, problem, fix string) {
		// Named by the entry's key, which says which field of which
		// service, whether the list came from the file or PAYMENT_SERVICES.
		ps = append(ps, Problem{Key: fmt.Sprintf("%s[%d].%s", keyServicesList, i, field), Problem: problem, Fix: fix})
	}
	names := map[string]int{}
	hashes := map[string]int{}
	// Body keys already in use: the top-level one and earlier services'.
	bodyKeys := map[string]string{c.Connection.Encryption.Key.Reveal(): "connection.encryption.key"}
	for i, s := range c.Services.List {
		if !serviceNamePattern.MatchString(s.Name) {
			add(i, "name", "must be 1 to 63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit", "e.g. shop")
		} else if j, dup := names[s.Name]; dup {
			add(i, "name", fmt.Sprintf("is the name of services.list[%d] too", j), "give every service a name of its own")
		} else {
			names[s.Name] = i
		}
		if len(s.APIKeys) == 0 {
			add(i, "api_keys", "is empty", "add the hash `paymentctl config generate --service NAME` prints")
		}
		if len(s.APIKeys) > 2 {
			add(i, "api_keys", fmt.Sprintf("has %d entries", len(s.APIKeys)), "keep one key, or two while rotating")
		}
		for k, h := range s.APIKeys {
			if !validAPIKeyHash(h) {
				add(i, fmt.Sprintf("api_keys[%d]", k), "is not sha256: and 64 lowercase hex digits",
					"use the hash `paymentctl config generate --service NAME` prints")
				continue
			}
			if j, dup := hashes[h]; dup {
				add(i, fmt.Sprintf("api_keys[%d]", k), fmt.Sprintf("is an API key of services.list[%d] too", j), "give every service keys of its own")
				continue
			}
			hashes[h] = i
		}
		if n := len(s.Encryption.Key); n != 16 && n != 24 && n != 32 {
			add(i, "encryption.key", fmt.Sprintf("the key has %d characters", n), "AES needs 16, 24 or 32; `paymentctl config generate --service NAME` makes one")
		}
		if owner, dup := bodyKeys[s.Encryption.Key.Reveal()]; dup && s.Encryption.Key != "" {
			add(i, "encryption.key", "is the key of "+owner+" too; one leaked key would expose both",
				"give every service a key of its own (`paymentctl config generate --service NAME`)")
		} else {
			bodyKeys[s.Encryption.Key.Reveal()] = fmt.Sprintf("%s[%d]", keyServicesList, i)
		}
		if n := len(s.Encryption.IV); n != 16 {
			add(i, "encryption.iv", fmt.Sprintf("the IV has %d characters", n), "AES-CBC needs 16; `paymentctl config generate --service NAME` makes one")
		}
		switch s.Encryption.Format {
		case "", BodyFormatAny, BodyFormatGCM:
		default:
			add(i, "encryption.format", "is not a known body format", "use `any` (the default) or `gcm` (the authenticated format only)")
		}
		if s.WebhookSecret != "" {
			if problem := webhookSecretProblem(s.WebhookSecret.Reveal()); problem != "" {
				add(i, "webhook_secret", problem, "use the whsec_ value `paymentctl config generate --service NAME` prints")
			}
		}
		if c.Mode == ModeReal {
			known := wellKnownSecrets()
			if known[s.Encryption.Key.Reveal()] || known[s.Encryption.IV.Reveal()] {
				add(i, "encryption", "is a well-known default published with the original project, refused in real mode",
					"set fresh values (`paymentctl config generate --service NAME`)")
			}
		}
	}
	return ps
}

// validAPIKeyHash reports whether h is "sha256:" and 64 lowercase hex
// digits.
func validAPIKeyHash(h string) bool {
	hexPart, ok := strings.CutPrefix(h, APIKeyHashPrefix)
	if !ok || len(hexPart) != 2*sha256.Size || strings.ToLower(hexPart) != hexPart {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil
}

// HashAPIKey returns the stored form of an API key: "sha256:" and the hex
// SHA-256 of the key. A fast hash is enough: keys are long random
// strings, not passwords.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return APIKeyHashPrefix + hex.EncodeToString(sum[:])
}

// APIKeyHashBytes returns the SHA-256 a hash in stored form names; ok is
// false when h is not one (Validate refuses those).
func APIKeyHashBytes(h string) (sum [sha256.Size]byte, ok bool) {
	if !validAPIKeyHash(h) {
		return sum, false
	}
	b, _ := hex.DecodeString(strings.TrimPrefix(h, APIKeyHashPrefix))
	copy(sum[:], b)
	return sum, true
}

// ServiceWebhookKey returns the key the events forwarded to s are signed
// with: its webhook_secret, or the top-level webhook.secret when it has
// none.
func (c *Config) ServiceWebhookKey(s Service) []byte {
	if s.WebhookSecret == "" {
		return c.WebhookKey()
	}
	key, err := sdk.ParseWebhookSecret(s.WebhookSecret.Reveal())
	if err != nil {
		return nil
	}
	return key
}

// printServices writes one row per field of every service, secrets masked
// (the API key hashes are not secrets: the keys cannot be found from them).
func (c *Config) printServices(w io.Writer, source Source) {
	for i, s := range c.Services.List {
		key := fmt.Sprintf("%s[%d]", keyServicesList, i)
		row := func(field, value string) {
			if value == "" {
				value = `""`
			}
			fmt.Fprintf(w, "%s.%s\t%s\t%s\t%s\n", key, field, "PAYMENT_SERVICES", value, source)
		}
		row("name", s.Name)
		row("api_keys", strings.Join(s.APIKeys, ","))
		row("encryption.key", maskedLen(s.Encryption.Key.Reveal()))
		row("encryption.iv", maskedLen(s.Encryption.IV.Reveal()))
		format := s.Encryption.Format
		if format == "" {
			format = BodyFormatAny
		}
		row("encryption.format", format)
		row("webhook_secret", maskedLen(s.WebhookSecret.Reveal()))
	}
}

// maskedLen shows a secret as the mask and its length, or "" when empty.
func maskedLen(v string) string {
	if v == "" {
		return ""
	}
	return fmt.Sprintf("%s (%d chars)", mask, len(v))
}

// GeneratedService is what `paymentctl config generate --service NAME`
// prints: a fresh API key (given to the service only), its hash (for the
// configuration), and a fresh body key, IV and webhook secret.
type GeneratedService struct {
	Name          string
	APIKey        string
	APIKeyHash    string
	Key, IV       string
	WebhookSecret string
}

// apiKeyPrefix starts generated API keys, so a leaked one is recognisable
// (secret scanners, logs).
const apiKeyPrefix = "pk_"

// GenerateService returns fresh credentials for the service name, from
// rnd (nil means crypto/rand). The API key is "pk_" and 40 letters and
// digits (about 238 bits).
func GenerateService(name string, rnd io.Reader) (GeneratedService, error) {
	if !serviceNamePattern.MatchString(name) {
		return GeneratedService{}, fmt.Errorf("service name: must be 1 to 63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	g := GeneratedService{Name: name}
	var err error
	if g.APIKey, err = randomString(rnd, 40); err != nil {
		return g, err
	}
	g.APIKey = apiKeyPrefix + g.APIKey
	g.APIKeyHash = HashAPIKey(g.APIKey)
	if g.Key, err = randomString(rnd, 32); err != nil {
		return g, err
	}
	if g.IV, err = randomString(rnd, 16); err != nil {
		return g, err
	}
	wh := make([]byte, webhookKeyLen)
	if _, err := io.ReadFull(rnd, wh); err != nil {
		return g, err
	}
	g.WebhookSecret = sdk.FormatWebhookSecret(wh)
	return g, nil
}
