package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// serviceJSON is a valid PAYMENT_SERVICES value with one service.
const serviceJSON = `[{"name":"shop","api_keys":["sha256:` + zeros64 + `"],"encryption":{"key":"shopKey0shopKey0shopKey0shopKey0","iv":"shopIV0shopIV0sh"}}]`

const zeros64 = "0000000000000000000000000000000000000000000000000000000000000000"

func TestServicesFromEnvironment(t *testing.T) {
	cfg, err := Load(LoadOptions{LookupEnv: env(map[string]string{"PAYMENT_SERVICES": serviceJSON, "PAYMENT_SERVICES_REQUIRE_KEY": "true"})})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Services.RequireKey || len(cfg.Services.List) != 1 {
		t.Fatalf("Services = %+v, want require_key and one service", cfg.Services)
	}
	s := cfg.Services.List[0]
	if s.Name != "shop" || s.APIKeys[0] != "sha256:"+zeros64 || s.Encryption.Key.Reveal() != "shopKey0shopKey0shopKey0shopKey0" || s.Encryption.IV.Reveal() != "shopIV0shopIV0sh" {
		t.Errorf("service = %+v", s)
	}
	// No webhook_secret: the top-level one signs its events.
	if got, want := cfg.ServiceWebhookKey(s), cfg.WebhookKey(); !bytes.Equal(got, want) {
		t.Errorf("ServiceWebhookKey = %x, want the top-level key %x", got, want)
	}
}

func TestServicesProblems(t *testing.T) {
	valid := func() Service {
		return Service{Name: "shop", APIKeys: []string{"sha256:" + zeros64},
			Encryption: ServiceEncryption{Key: "shopKey0shopKey0", IV: "shopIV0shopIV0sh"}}
	}
	tests := []struct {
		name   string
		mode   Mode
		change func(s []Service) []Service
		want   string // key of the problem; "" for none
	}{
		{"valid", ModeLocal, func(s []Service) []Service { return s }, ""},
		{"24-character key", ModeLocal, func(s []Service) []Service { s[0].Encryption.Key = "shopKey0shopKey0shopKey0"; return s }, ""},
		{"two keys while rotating", ModeLocal, func(s []Service) []Service {
			s[0].APIKeys = append(s[0].APIKeys, "sha256:"+strings.Repeat("1", 64))
			return s
		}, ""},
		{"three keys", ModeLocal, func(s []Service) []Service {
			s[0].APIKeys = append(s[0].APIKeys, "sha256:"+strings.Repeat("1", 64), "sha256:"+strings.Repeat("2", 64))
			return s
		}, "services.list[0].api_keys"},
		{"no key", ModeLocal, func(s []Service) []Service { s[0].APIKeys = nil; return s }, "services.list[0].api_keys"},
		{"uppercase hash", ModeLocal, func(s []Service) []Service { s[0].APIKeys[0] = "sha256:" + strings.Repeat("A", 64); return s }, "services.list[0].api_keys[0]"},
		{"short hash", ModeLocal, func(s []Service) []Service { s[0].APIKeys[0] = "sha256:00"; return s }, "services.list[0].api_keys[0]"},
		{"bare hex", ModeLocal, func(s []Service) []Service { s[0].APIKeys[0] = zeros64; return s }, "services.list[0].api_keys[0]"},
		{"empty name", ModeLocal, func(s []Service) []Service { s[0].Name = ""; return s }, "services.list[0].name"},
		{"name with a space", ModeLocal, func(s []Service) []Service { s[0].Name = "my shop"; return s }, "services.list[0].name"},
		{"15-character key", ModeLocal, func(s []Service) []Service { s[0].Encryption.Key = "shopKey0shopKey"; return s }, "services.list[0].encryption.key"},
		{"17-character IV", ModeLocal, func(s []Service) []Service { s[0].Encryption.IV = "shopIV0shopIV0sh0"; return s }, "services.list[0].encryption.iv"},
		{"gcm only", ModeLocal, func(s []Service) []Service { s[0].Encryption.Format = BodyFormatGCM; return s }, ""},
		{"unknown body format", ModeLocal, func(s []Service) []Service { s[0].Encryption.Format = "ctr"; return s }, "services.list[0].encryption.format"},
		{"bad webhook secret", ModeLocal, func(s []Service) []Service { s[0].WebhookSecret = "whsec_!!"; return s }, "services.list[0].webhook_secret"},
		{"duplicate name", ModeLocal, func(s []Service) []Service {
			o := valid()
			o.APIKeys, o.Encryption.Key = []string{"sha256:" + strings.Repeat("1", 64)}, "billKey0billKey0"
			return append(s, o)
		}, "services.list[1].name"},
		{"shared API key", ModeLocal, func(s []Service) []Service {
			o := valid()
			o.Name, o.Encryption.Key = "billing", "billKey0billKey0"
			return append(s, o)
		}, "services.list[1].api_keys[0]"},
		{"another service's body key", ModeLocal, func(s []Service) []Service {
			o := valid()
			o.Name, o.APIKeys = "billing", []string{"sha256:" + strings.Repeat("1", 64)}
			return append(s, o)
		}, "services.list[1].encryption.key"},
		{"the top-level body key", ModeLocal, func(s []Service) []Service { s[0].Encryption.Key = "topLevelKey0topLevelKey0"; return s }, "services.list[0].encryption.key"},
		{"published key in real mode", ModeReal, func(s []Service) []Service { s[0].Encryption.Key = defaultConnectionKey; return s }, "services.list[0].encryption"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Mode: tt.mode}
			c.Connection.Encryption.Key = "topLevelKey0topLevelKey0"
			c.Services.List = tt.change([]Service{valid()})
			ps := c.servicesProblems()
			var keys []string
			for _, p := range ps {
				keys = append(keys, p.Key)
			}
			if tt.want == "" && len(ps) > 0 || tt.want != "" && (len(ps) != 1 || ps[0].Key != tt.want) {
				t.Errorf("servicesProblems() = %v, want %q", keys, tt.want)
			}
		})
	}
}

func TestGenerateService(t *testing.T) {
	g, err := GenerateService("shop", nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(g.APIKey))
	if got, want := g.APIKeyHash, "sha256:"+hex.EncodeToString(sum[:]); got != want {
		t.Errorf("APIKeyHash = %s, want %s", got, want)
	}
	c := &Config{}
	c.Services.List = []Service{{Name: g.Name, APIKeys: []string{g.APIKeyHash},
		Encryption: ServiceEncryption{Key: Secret(g.Key), IV: Secret(g.IV)}, WebhookSecret: Secret(g.WebhookSecret)}}
	if ps := c.servicesProblems(); len(ps) != 0 {
		t.Errorf("generated credentials are refused: %v", ps)
	}
	if other, _ := GenerateService("shop", nil); other.APIKey == g.APIKey {
		t.Error("two generations gave the same API key")
	}
	if _, err := GenerateService("Bad Name", nil); err == nil {
		t.Error("GenerateService accepted a bad name")
	}
}

// FuzzDecodeServiceList: PAYMENT_SERVICES is parsed without panicking,
// and a refusal never quotes the value, which holds keys.
func FuzzDecodeServiceList(f *testing.F) {
	f.Add(serviceJSON)
	f.Add(`[{"name":"x","encryption":{"key":"secretvalue","extra":1}}]`)
	f.Add(`[{"name":1}]`)
	f.Add(`{}`)
	// The fixed text of every kind of refusal: a value that is part of it
	// is found in the message without having been quoted.
	var fixed strings.Builder
	for _, bad := range []string{"x", "{}", `[1]`, `[{"a":1}]`, `[{"encryption":{"a":1}}]`, `[{"name":1}]`} {
		if _, p := decodeServiceList(bad); p != nil {
			fixed.WriteString(p.String())
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		_, p := decodeServiceList(text)
		if p == nil || len(text) < 12 {
			return
		}
		if msg := p.String(); strings.Contains(msg, text) && !strings.Contains(fixed.String(), text) {
			t.Errorf("problem %q quotes the value", msg)
		}
	})
}

func TestServicesListProblemIsValidationError(t *testing.T) {
	_, err := Load(LoadOptions{LookupEnv: env(map[string]string{"PAYMENT_SERVICES": `[{"name":"shop","api_keys":"notalist","encryption":{"key":"x","iv":"y"}}]`})})
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "wrong type") || strings.Contains(err.Error(), "notalist") {
		t.Errorf("Load = %v, want a ValidationError about the type that does not quote the value", err)
	}
}
