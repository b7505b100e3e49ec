package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/paymentctl/paymentctl/internal/stdwebhook"
)

// Store is one merchant account at a PG (an entry of `stores`): the
// vendor, the store id records name in `vendor.store_id`, and that
// account's credentials. Every PG call for a record of the store uses
// them; see StoresEnv for the environment form.
type Store struct {
	// Vendor is StoreVendorIamport, StoreVendorToss or StoreVendorPortOne.
	Vendor string `json:"vendor"`
	// StoreID is the `vendor.store_id` the store's records carry.
	StoreID string `json:"store_id"`
	// Key is Iamport's imp_key; unused by the other vendors.
	Key Secret `json:"key"`
	// Secret is Iamport's imp_secret, Toss's secret key or PortOne's API
	// secret.
	Secret Secret `json:"secret"`
	// WebhookSecret is PortOne's webhook secret (whsec_…); two,
	// comma-separated, while PortOne rotates it. Unused by the others.
	WebhookSecret Secret `json:"webhook_secret"`
}

// The vendors a store may name: the API's vendor codes.
const (
	StoreVendorIamport = "iamport"
	StoreVendorToss    = "toss.payments"
	StoreVendorPortOne = "portone"
)

// StoresKey is the file key of the store list, and StoresEnv its
// environment form: the same list as a JSON array,
// `[{"vendor":"toss.payments","store_id":"store-a","secret":"…"}]`. The
// environment (or .env) replaces the file's list as a whole.
const (
	StoresKey = "stores"
	StoresEnv = "PAYMENT_STORES"
)

// maxStoreID bounds a store id as the API bounds `vendor.store_id`.
const maxStoreID = 128

// WebhookSecrets returns the store's PortOne webhook secrets: one, or two
// during a rotation.
func (s Store) WebhookSecrets() []string { return splitList(s.WebhookSecret.Reveal()) }

// StoresOf returns the configured stores of vendor, in file order.
func (c *Config) StoresOf(vendor string) []Store {
	var out []Store
	for _, s := range c.Stores {
		if s.Vendor == vendor {
			out = append(out, s)
		}
	}
	return out
}

// RefusesUnknownStores reports whether a record naming a store id that
// is not configured for its vendor is refused (422) rather than served
// with the top-level credentials: in real mode, for a vendor that has at
// least one store configured. Local and dev mode always fall back, so a
// developer's made-up store ids work; a vendor with no stores is one
// merchant account whatever store id a record names, as before stores.
func (c *Config) RefusesUnknownStores(vendor string) bool {
	return c.Mode == ModeReal && len(c.StoresOf(vendor)) > 0
}

// decodeStores reads the store list from JSON, refusing unknown fields
// (a misspelt `secert` must not leave a store without its secret). The
// file's list reaches here re-encoded as JSON, so both forms are read by
// the same code. Errors never quote a value.
func decodeStores(data []byte) ([]Store, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var out []Store
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("not a list of stores: %s", jsonProblem(err))
	}
	if dec.More() {
		return nil, fmt.Errorf("not a list of stores: text after the list")
	}
	return out, nil
}

// jsonProblem describes a decoding error without the value it choked on:
// encoding/json quotes types and field names, never string values. An
// unknown field's name is quoted only when it looks like a misspelt field
// (`secert`), not like a value typed where a name goes.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	const unknown = `json: unknown field "`
	if msg := err.Error(); strings.HasPrefix(msg, unknown) {
		name := strings.TrimSuffix(strings.TrimPrefix(msg, unknown), `"`)
		if len(name) > 32 || strings.TrimLeft(name, "abcdefghijklmnopqrstuvwxyz_") != "" {
			return "an entry has an unknown field"
		}
		return fmt.Sprintf("unknown field %q", name)
	}
	switch {
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("%s must be a %s, not a %s", te.Field, te.Type.Kind(), te.Value)
		}
		return fmt.Sprintf("a %s where a list was expected", te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	return err.Error()
}

// storeProblems checks the store list: known vendors, a store id, the
// credentials each vendor needs and no others, PortOne webhook secrets
// that decode, and no vendor and store id twice. Problems name the
// entry's field (`stores[1].secret`), never a secret's value.
func (c *Config) storeProblems() []Problem {
	var ps []Problem
	add := func(i int, field, problem, fix string) {
		ps = append(ps, Problem{Key: fmt.Sprintf("%s[%d].%s", StoresKey, i, field), Problem: problem + c.storesFrom(), Fix: fix})
	}
	seen := map[string]int{}
	for i, s := range c.Stores {
		switch s.Vendor {
		case StoreVendorIamport, StoreVendorToss, StoreVendorPortOne:
		case "":
			add(i, "vendor", "is missing", "set iamport, toss.payments or portone")
			continue
		default:
			add(i, "vendor", "is not a vendor", "use iamport, toss.payments or portone")
			continue
		}
		switch id := s.StoreID; {
		case strings.TrimSpace(id) == "":
			add(i, "store_id", "is missing", "set the vendor.store_id the store's records carry")
		case utf8.RuneCountInString(id) > maxStoreID || !utf8.ValidString(id) || strings.ContainsFunc(id, isControl) || id != strings.TrimSpace(id):
			add(i, "store_id", fmt.Sprintf("is not 1 to %d printable characters", maxStoreID), "use the store id as the API's vendor.store_id carries it")
		default:
			key := s.Vendor + "\x00" + id
			if j, dup := seen[key]; dup {
				add(i, "store_id", fmt.Sprintf("repeats stores[%d] (the same vendor and store id)", j), "list each store once")
			}
			seen[key] = i
		}
		checkCredentials(i, s, add)
	}
	return ps
}

// checkCredentials checks one store's credentials against what its
// vendor needs, reporting through add.
func checkCredentials(i int, s Store, add func(i int, field, problem, fix string)) {
	need := func(field string, v Secret, what string) {
		if strings.TrimSpace(v.Reveal()) == "" {
			add(i, field, "is missing: "+s.Vendor+" needs "+what, "copy it from the PG's console for this store")
		}
	}
	unused := func(field string, v Secret) {
		if v != "" {
			add(i, field, "is set but "+s.Vendor+" has no such credential", "remove it (key is Iamport's, webhook_secret PortOne's)")
		}
	}
	switch s.Vendor {
	case StoreVendorIamport:
		need("key", s.Key, "the REST API key (imp_key)")
		need("secret", s.Secret, "the REST API secret (imp_secret)")
		unused("webhook_secret", s.WebhookSecret)
	case StoreVendorToss:
		need("secret", s.Secret, "the secret key")
		unused("key", s.Key)
		unused("webhook_secret", s.WebhookSecret)
	case StoreVendorPortOne:
		need("secret", s.Secret, "the API secret")
		need("webhook_secret", s.WebhookSecret, "the webhook secret (whsec_…) to verify its webhooks")
		unused("key", s.Key)
		secrets := s.WebhookSecrets()
		for j, w := range secrets {
			if _, err := stdwebhook.DecodeSecret(w); err != nil {
				add(i, "webhook_secret", fmt.Sprintf("entry %d: %v", j+1, err), "copy the webhook secret (whsec_…) from PortOne's console")
			}
		}
		if len(secrets) > maxPortOneWebhookSecrets {
			add(i, "webhook_secret", fmt.Sprintf("lists %d secrets", len(secrets)), "list the current secret and, during a rotation, the next one")
		}
	}
}

// realStoreProblems refuses, in real mode, a store whose credential is a
// value published with the original or with the fakes.
func (c *Config) realStoreProblems(known map[string]bool) []Problem {
	var ps []Problem
	for i, s := range c.Stores {
		for field, v := range map[string]string{"key": s.Key.Reveal(), "secret": s.Secret.Reveal()} {
			if known[v] {
				ps = append(ps, Problem{Key: fmt.Sprintf("%s[%d].%s", StoresKey, i, field),
					Problem: "is a published test credential (the original's or a fake PG's), refused in real mode" + c.storesFrom(),
					Fix:     "use the credential the PG's console shows for this store"})
			}
		}
		for _, w := range s.WebhookSecrets() {
			if known[w] {
				ps = append(ps, Problem{Key: fmt.Sprintf("%s[%d].webhook_secret", StoresKey, i),
					Problem: "is the fake PortOne's published test value, refused in real mode" + c.storesFrom(),
					Fix:     "use the value PortOne's console shows for this store"})
				break
			}
		}
	}
	return ps
}

// storesFrom says where the list came from, for problems of the
// environment form (whose entries have no line to point at).
func (c *Config) storesFrom() string {
	if c.storesSource == SourceEnv || c.storesSource == SourceDotEnv {
		return " (in " + StoresEnv + ")"
	}
	return ""
}

// isControl reports C0 and C1 control characters and DEL.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }
