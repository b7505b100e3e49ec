package config

import (
	"crypto/rand"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/paymentctl/paymentctl/sdk"
)

// Print writes the effective configuration as a table of key, environment
// name, value and source. Secrets are masked: only whether they are set
// and their length are shown.
func (c *Config) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tENV\tVALUE\tSOURCE")
	for _, s := range Settings() {
		v := c.values[s.Key]
		if s.Key == keyServicesList && len(c.Services.List) > 0 {
			c.printServices(tw, c.sources[s.Key])
			continue
		}
		shown := v
		if s.Secret() && v != "" {
			shown = fmt.Sprintf("%s (%d chars)", mask, len(v))
		}
		if shown == "" {
			shown = `""`
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Key, s.Env, shown, c.sources[s.Key])
	}
	c.printStores(tw)
	return tw.Flush()
}

// printStores adds the store list to Print's table, one row per field
// (`stores[0].secret`), credentials masked like the other secrets; or
// one row saying there are none.
func (c *Config) printStores(w io.Writer) {
	src := c.storesSource
	if src == "" {
		src = SourceDefault
	}
	if len(c.Stores) == 0 {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", StoresKey, StoresEnv, "[]", src)
		return
	}
	masked := func(v Secret) string {
		if v == "" {
			return `""`
		}
		return fmt.Sprintf("%s (%d chars)", mask, len(v))
	}
	for i, s := range c.Stores {
		rows := [][2]string{{"vendor", s.Vendor}, {"store_id", s.StoreID}}
		if s.Key != "" {
			rows = append(rows, [2]string{"key", masked(s.Key)})
		}
		rows = append(rows, [2]string{"secret", masked(s.Secret)})
		if s.WebhookSecret != "" {
			rows = append(rows, [2]string{"webhook_secret", masked(s.WebhookSecret)})
		}
		for _, r := range rows {
			fmt.Fprintf(w, "%s[%d].%s\t%s\t%s\t%s\n", StoresKey, i, r[0], StoresEnv, r[1], src)
		}
	}
}

// GeneratedSecret is one freshly generated value for a .env file.
type GeneratedSecret struct {
	Env   string
	Value string
}

// alphabet of generated secrets: letters and digits, as the original's
// generate:password script made them, so values need no quoting.
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// webhookKeyLen is the length in bytes of a generated webhook signing key,
// as Standard Webhooks libraries generate theirs.
const webhookKeyLen = 32

// GenerateSecrets returns fresh random values for every key, IV and secret
// a deployment needs, from rnd (nil means crypto/rand): letters and
// digits, except the webhook signing secret, which is a Standard Webhooks
// secret, "whsec_" and the base64 of 32 random bytes, as every Standard
// Webhooks library reads it.
func GenerateSecrets(rnd io.Reader) ([]GeneratedSecret, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	specs := []struct {
		env string
		n   int
	}{
		{"PAYMENT_SYSTEM_PASSWORD", 32},
		{"PAYMENT_CONNECTION_ENCRYPTION_KEY", 32},
		{"PAYMENT_CONNECTION_ENCRYPTION_IV", 16},
		{"PAYMENT_HISTORY_ENCRYPTION_KEY", 32},
		{"PAYMENT_HISTORY_ENCRYPTION_IV", 16},
		{"PAYMENT_RESERVATION_ENCRYPTION_KEY", 32},
		{"PAYMENT_RESERVATION_ENCRYPTION_IV", 16},
		{"PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY", 32},
		{"PAYMENT_CANCEL_HISTORY_ENCRYPTION_IV", 16},
		{"PAYMENT_PASSWORD_SECRET", 32},
	}
	out := make([]GeneratedSecret, 0, len(specs)+1)
	for _, s := range specs {
		v, err := randomString(rnd, s.n)
		if err != nil {
			return nil, fmt.Errorf("generate %s: %w", s.env, err)
		}
		out = append(out, GeneratedSecret{Env: s.env, Value: v})
	}
	key := make([]byte, webhookKeyLen)
	if _, err := io.ReadFull(rnd, key); err != nil {
		return nil, fmt.Errorf("generate PAYMENT_WEBHOOK_SECRET: %w", err)
	}
	return append(out, GeneratedSecret{Env: "PAYMENT_WEBHOOK_SECRET", Value: sdk.FormatWebhookSecret(key)}), nil
}

// randomString draws n characters of alphabet without modulo bias.
func randomString(rnd io.Reader, n int) (string, error) {
	out := make([]byte, 0, n)
	var buf [64]byte
	// 62 characters: accept bytes below 248 (= 4 × 62) and reduce mod 62.
	const limit = 4 * len(alphabet)
	for len(out) < n {
		if _, err := io.ReadFull(rnd, buf[:]); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}
