package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// storesFile is the file form of README's example, with credentials.
const storesFile = `stores:
  - vendor: toss.payments
    store_id: store-a
    secret: toss-secret-store-a
  - vendor: iamport
    store_id: store-b
    key: imp-key-store-b
    secret: imp-secret-store-b
  - vendor: portone
    store_id: store-c
    secret: portone-secret-store-c
    webhook_secret: whsec_c3RvcmUtYy13ZWJob29rLXNlY3JldC0wMTIzNDU2
`

// storesEnvValue is the same list in the environment form.
const storesEnvValue = `[{"vendor":"toss.payments","store_id":"store-a","secret":"toss-secret-store-a"},
 {"vendor":"iamport","store_id":"store-b","key":"imp-key-store-b","secret":"imp-secret-store-b"},
 {"vendor":"portone","store_id":"store-c","secret":"portone-secret-store-c","webhook_secret":"whsec_c3RvcmUtYy13ZWJob29rLXNlY3JldC0wMTIzNDU2"}]`

func TestStoresForms(t *testing.T) {
	want := []Store{
		{Vendor: "toss.payments", StoreID: "store-a", Secret: "toss-secret-store-a"},
		{Vendor: "iamport", StoreID: "store-b", Key: "imp-key-store-b", Secret: "imp-secret-store-b"},
		{Vendor: "portone", StoreID: "store-c", Secret: "portone-secret-store-c", WebhookSecret: "whsec_c3RvcmUtYy13ZWJob29rLXNlY3JldC0wMTIzNDU2"},
	}
	tests := []struct {
		name       string
		file       string
		dotenv     string
		env        map[string]string
		want       []Store
		wantSource Source
	}{
		{name: "none", want: nil, wantSource: SourceDefault},
		{name: "file", file: "cfg.yaml", want: want, wantSource: SourceFile},
		{name: "env", env: map[string]string{StoresEnv: storesEnvValue}, want: want, wantSource: SourceEnv},
		{name: ".env", dotenv: ".env", want: want, wantSource: SourceDotEnv},
		{name: "env replaces the file's list", file: "cfg.yaml",
			env:  map[string]string{StoresEnv: `[{"vendor":"toss.payments","store_id":"store-z","secret":"toss-secret-z"}]`},
			want: []Store{{Vendor: "toss.payments", StoreID: "store-z", Secret: "toss-secret-z"}}, wantSource: SourceEnv},
		{name: "an empty list", env: map[string]string{StoresEnv: `[]`}, want: []Store{}, wantSource: SourceEnv},
	}
	fsys := files{"cfg.yaml": storesFile, ".env": "PAYMENT_STORES='" + strings.ReplaceAll(storesEnvValue, "\n", "") + "'\n"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(LoadOptions{File: tt.file, DotEnv: tt.dotenv, LookupEnv: env(tt.env), ReadFile: fsys.read})
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Stores) != len(tt.want) {
				t.Fatalf("Stores = %d entries, want %d", len(cfg.Stores), len(tt.want))
			}
			for i := range tt.want {
				if cfg.Stores[i] != tt.want[i] {
					t.Errorf("Stores[%d] = %#v, want %#v", i, cfg.Stores[i].Vendor+" "+cfg.Stores[i].StoreID, tt.want[i].Vendor+" "+tt.want[i].StoreID)
				}
			}
			if cfg.storesSource != tt.wantSource {
				t.Errorf("source = %s, want %s", cfg.storesSource, tt.wantSource)
			}
		})
	}
}

func TestStoresValidation(t *testing.T) {
	tests := []struct {
		name   string
		stores string // PAYMENT_STORES
		want   string // a line of the error, "" for valid
	}{
		{"valid", `[{"vendor":"iamport","store_id":"a","key":"k","secret":"s"},{"vendor":"iamport","store_id":"b","key":"k2","secret":"s2"}]`, ""},
		{"same id at two vendors", `[{"vendor":"iamport","store_id":"a","key":"k","secret":"s"},{"vendor":"toss.payments","store_id":"a","secret":"s2"}]`, ""},
		{"not JSON", `[{"vendor":`, "PAYMENT_STORES: not a list of stores: "},
		{"not a list", `{"vendor":"iamport"}`, "PAYMENT_STORES: not a list of stores: a object where a list was expected"},
		{"unknown field", `[{"vendor":"toss.payments","store_id":"a","secert":"s"}]`, `PAYMENT_STORES: not a list of stores: unknown field "secert"`},
		{"unknown field that looks like a value", `[{"vendor":"toss.payments","store_id":"a","live_sk_0123":"s"}]`, "PAYMENT_STORES: not a list of stores: an entry has an unknown field;"},
		{"unknown vendor", `[{"vendor":"paypal","store_id":"a","secret":"s"}]`, "stores[0].vendor: is not a vendor (in PAYMENT_STORES); use iamport, toss.payments or portone"},
		{"missing vendor", `[{"store_id":"a","secret":"s"}]`, "stores[0].vendor: is missing"},
		{"missing store id", `[{"vendor":"toss.payments","secret":"s"}]`, "stores[0].store_id: is missing"},
		{"overlong store id", `[{"vendor":"toss.payments","store_id":"` + strings.Repeat("x", 129) + `","secret":"s"}]`, "stores[0].store_id: is not 1 to 128 printable characters"},
		{"control character in store id", `[{"vendor":"toss.payments","store_id":"a\u0007","secret":"s"}]`, "stores[0].store_id: is not 1 to 128 printable characters"},
		{"duplicate", `[{"vendor":"toss.payments","store_id":"a","secret":"s"},{"vendor":"toss.payments","store_id":"a","secret":"t"}]`, "stores[1].store_id: repeats stores[0]"},
		{"iamport without key", `[{"vendor":"iamport","store_id":"a","secret":"s"}]`, "stores[0].key: is missing: iamport needs the REST API key (imp_key)"},
		{"iamport without secret", `[{"vendor":"iamport","store_id":"a","key":"k"}]`, "stores[0].secret: is missing: iamport needs the REST API secret (imp_secret)"},
		{"toss without secret", `[{"vendor":"toss.payments","store_id":"a"}]`, "stores[0].secret: is missing: toss.payments needs the secret key"},
		{"toss with a key", `[{"vendor":"toss.payments","store_id":"a","key":"k","secret":"s"}]`, "stores[0].key: is set but toss.payments has no such credential"},
		{"portone without webhook secret", `[{"vendor":"portone","store_id":"a","secret":"s"}]`, "stores[0].webhook_secret: is missing: portone needs the webhook secret"},
		{"portone webhook secret not base64", `[{"vendor":"portone","store_id":"a","secret":"s","webhook_secret":"whsec_not base64!"}]`, "stores[0].webhook_secret: entry 1: webhook secret is not whsec_ followed by base64"},
		{"webhook secret outside portone", `[{"vendor":"toss.payments","store_id":"a","secret":"s","webhook_secret":"whsec_YQ=="}]`, "stores[0].webhook_secret: is set but toss.payments has no such credential"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(LoadOptions{LookupEnv: env(map[string]string{StoresEnv: tt.stores})})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Load() = %v, want no error", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Load() = %v, want a *ValidationError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load() = %v\nwant a line containing %q", err, tt.want)
			}
		})
	}
}

func TestStoresFileProblemsNameTheEntry(t *testing.T) {
	fsys := files{"cfg.yaml": "stores:\n  - vendor: iamport\n    store_id: a\n    secret: s\n", "map.yaml": "stores:\n  vendor: iamport\n"}
	_, err := Load(LoadOptions{File: "cfg.yaml", ReadFile: fsys.read})
	if err == nil || !strings.Contains(err.Error(), "\n  stores[0].key: is missing: iamport needs") || strings.Contains(err.Error(), "PAYMENT_STORES") {
		t.Errorf("Load(file without key) = %v, want stores[0].key named, without the environment form", err)
	}
	if _, err := Load(LoadOptions{File: "map.yaml", ReadFile: fsys.read}); err == nil {
		t.Error("Load(stores as a map) = nil, want an error")
	}
}

func TestStoresSecretsNeverShown(t *testing.T) {
	secrets := []string{"imp-key-store-b", "imp-secret-store-b", "toss-secret-store-a", "portone-secret-store-c", "whsec_c3RvcmUtYy13ZWJob29rLXNlY3JldC0wMTIzNDU2"}
	cfg, err := Load(LoadOptions{LookupEnv: env(map[string]string{StoresEnv: storesEnvValue})})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := cfg.Print(&out); err != nil {
		t.Fatal(err)
	}
	printed := out.String()
	for _, want := range []string{
		"stores[0].vendor", "toss.payments", "stores[0].store_id", "store-a",
		"stores[0].secret", "****** (19 chars)", "stores[1].key", "stores[2].webhook_secret", "PAYMENT_STORES",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("Print() lacks %q:\n%s", want, printed)
		}
	}
	// A problem in another store's entry names fields, never values.
	bad := strings.Replace(storesEnvValue, `"store_id":"store-a"`, `"store_id":"store-a","key":"stray"`, 1)
	_, verr := Load(LoadOptions{LookupEnv: env(map[string]string{StoresEnv: bad})})
	if verr == nil {
		t.Fatal("Load(toss store with a key) = nil, want an error")
	}
	for _, s := range append(secrets, "stray") {
		if strings.Contains(printed, s) {
			t.Errorf("Print() shows the secret %q", s)
		}
		if strings.Contains(verr.Error(), s) {
			t.Errorf("validation error shows the secret %q: %v", s, verr)
		}
	}
}

func TestStoresRealMode(t *testing.T) {
	tests := []struct {
		name   string
		stores string
		want   string
	}{
		{"fresh credentials", `[{"vendor":"iamport","store_id":"a","key":"live-key-a","secret":"live-secret-a"}]`, ""},
		{"fake iamport credentials", `[{"vendor":"iamport","store_id":"a","key":"test_imp_key","secret":"test_imp_secret"}]`,
			"stores[0].key: is a published test credential"},
		{"original's iamport secret", `[{"vendor":"iamport","store_id":"a","key":"live-key-a","secret":"bbbbb"}]`,
			"stores[0].secret: is a published test credential"},
		{"fake toss secret", `[{"vendor":"toss.payments","store_id":"a","secret":"test_ak_ZORzdMaqN3wQd5k6ygr5AkYXQGwy"}]`,
			"stores[0].secret: is a published test credential"},
		{"fake portone credentials", `[{"vendor":"portone","store_id":"a","secret":"fake_portone_v2_api_secret_not_for_production_use","webhook_secret":"whsec_cGF5bWVudGN0bC1mYWtlLXBvcnRvbmUtd2ViaG9vayE="}]`,
			"stores[0].webhook_secret: is the fake PortOne's published test value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := realEnv()
			e[StoresEnv] = tt.stores
			cfg, err := Load(LoadOptions{LookupEnv: env(e)})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Load() = %v, want no error", err)
				}
				if !cfg.RefusesUnknownStores(StoreVendorIamport) || cfg.RefusesUnknownStores(StoreVendorToss) {
					t.Errorf("RefusesUnknownStores(iamport, toss) = %v, %v; want true, false (toss has no stores)",
						cfg.RefusesUnknownStores(StoreVendorIamport), cfg.RefusesUnknownStores(StoreVendorToss))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load() = %v, want a line containing %q", err, tt.want)
			}
		})
	}
	// Local and dev modes never refuse an unknown store.
	for _, mode := range []string{"local", "dev"} {
		cfg, err := Load(LoadOptions{LookupEnv: env(map[string]string{"PAYMENT_MODE": mode,
			StoresEnv: `[{"vendor":"iamport","store_id":"a","key":"k","secret":"s"}]`})})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.RefusesUnknownStores(StoreVendorIamport) {
			t.Errorf("%s mode: RefusesUnknownStores(iamport) = true, want false", mode)
		}
	}
}

// FuzzStores loads arbitrary PAYMENT_STORES values: Load never panics,
// and a refusal never quotes a credential, whatever the entries hold.
func FuzzStores(f *testing.F) {
	f.Add(storesEnvValue)
	f.Add(`[{"vendor":"iamport","store_id":"a","key":"k-secret-value","secret":"s-secret-value"}]`)
	f.Add(`[{"vendor":"toss.payments","store_id":"a","key":"k-secret-value","secret":"s-secret-value"},{"vendor":"toss.payments","store_id":"a","secret":"s-secret-value"}]`)
	f.Add(`[{"vendor":"portone","store_id":"","secret":"s-secret-value","webhook_secret":"whsec_!!"}]`)
	f.Add(`{"vendor":1}`)
	f.Fuzz(func(t *testing.T, value string) {
		var stores []Store
		if json.Unmarshal([]byte(value), &stores) != nil {
			stores = nil
		}
		_, err := Load(LoadOptions{LookupEnv: env(map[string]string{StoresEnv: value})})
		if err == nil {
			return
		}
		for _, s := range stores {
			for _, secret := range []Secret{s.Key, s.Secret, s.WebhookSecret} {
				// A value typed elsewhere too (as a field name) may be
				// named there.
				v := secret.Reveal()
				if len(v) < 8 || strings.Count(value, v) != 1 || !strings.Contains(err.Error(), v) {
					continue
				}
				// The refusal holds the value's text. It is a leak only if
				// the text came from the value: the same entry with the
				// value swapped for a marker of its length must either
				// quote the marker or lose the text. A credential such as
				// "toss.pay" is also part of the fixed hint
				// "use iamport, toss.payments or portone".
				marker := markerFor(value, len(v))
				if marker == "" {
					continue
				}
				_, err2 := Load(LoadOptions{LookupEnv: env(map[string]string{StoresEnv: strings.Replace(value, v, marker, 1)})})
				if err2 == nil || strings.Contains(err2.Error(), marker) || !strings.Contains(err2.Error(), v) {
					t.Fatalf("Load() error quotes a credential %q: %v", v, err)
				}
			}
		}
	})
}

// markerFor returns n copies of a JSON-safe byte that value does not
// hold, or "" when value holds them all.
func markerFor(value string, n int) string {
	for _, c := range "~^|`" {
		if !strings.ContainsRune(value, c) {
			return strings.Repeat(string(c), n)
		}
	}
	return ""
}
