package config

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/paymentctl/paymentctl/sdk"
)

// files is an in-memory file system for LoadOptions.ReadFile.
type files map[string]string

func (f files) read(name string) ([]byte, error) {
	if s, ok := f[name]; ok {
		return []byte(s), nil
	}
	return nil, fs.ErrNotExist
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// realEnv is a complete, valid real-mode environment.
func realEnv() map[string]string {
	return map[string]string{
		"PAYMENT_MODE":                          "real",
		"PAYMENT_SYSTEM_PASSWORD":               "Zr8s9d0fsdf98sdf0sd9f8sdfsdf9s8d",
		"PAYMENT_CONNECTION_ENCRYPTION_KEY":     "abcdefghijabcdefghijabcdefghijab",
		"PAYMENT_CONNECTION_ENCRYPTION_IV":      "abcdefghijabcdef",
		"PAYMENT_HISTORY_ENCRYPTION_KEY":        "history-key-0123456789abcdef0123",
		"PAYMENT_RESERVATION_ENCRYPTION_KEY":    "reservation-key-0123456789abcdef",
		"PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY": "cancel-key-0123456789abcdef01234",
		"PAYMENT_PASSWORD_SECRET":               "password-secret-0123456789abcdef",
		"PAYMENT_WEBHOOK_SECRET":                "webhook-secret-0123456789abcdef0",
		"PAYMENT_IAMPORT_KEY":                   "imp-key",
		"PAYMENT_IAMPORT_SECRET":                "imp-secret",
		"PAYMENT_TOSS_PAYMENTS_SECRET":          "live_sk_xxx",
		"PAYMENT_DATABASE_URL":                  "postgres://u:p@db:5432/payments",
	}
}

func withoutKeys(m map[string]string, keys ...string) map[string]string {
	for _, k := range keys {
		delete(m, k)
	}
	return m
}

func TestPrecedence(t *testing.T) {
	fsys := files{
		"cfg.yaml": "api:\n  port: 1001\nlog:\n  level: warn\nmode: dev\n",
		".env":     "PAYMENT_API_PORT=1002\nPAYMENT_LOG_LEVEL=error\n",
	}
	tests := []struct {
		name       string
		file       string
		dotenv     string
		env        map[string]string
		flags      []string
		wantPort   int
		wantSource Source
	}{
		{name: "default", wantPort: 37821, wantSource: SourceDefault},
		{name: "file beats default", file: "cfg.yaml", wantPort: 1001, wantSource: SourceFile},
		{name: ".env beats file", file: "cfg.yaml", dotenv: ".env", wantPort: 1002, wantSource: SourceDotEnv},
		{name: "env beats .env", file: "cfg.yaml", dotenv: ".env",
			env: map[string]string{"PAYMENT_API_PORT": "1003"}, wantPort: 1003, wantSource: SourceEnv},
		{name: "set flag beats env", file: "cfg.yaml", dotenv: ".env",
			env: map[string]string{"PAYMENT_API_PORT": "1003"}, flags: []string{"--api-port=1004"},
			wantPort: 1004, wantSource: SourceFlag},
		{name: "unset flag does not override", file: "cfg.yaml",
			env: map[string]string{"PAYMENT_API_PORT": "1003"}, flags: []string{},
			wantPort: 1003, wantSource: SourceEnv},
		{name: "missing .env is fine", dotenv: "nope.env", wantPort: 37821, wantSource: SourceDefault},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fl := pflag.NewFlagSet("test", pflag.ContinueOnError)
			fl.Int("api-port", 9999, "")
			if err := fl.Parse(tt.flags); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(LoadOptions{File: tt.file, DotEnv: tt.dotenv, LookupEnv: env(tt.env), Flags: fl, ReadFile: fsys.read})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if cfg.API.Port != tt.wantPort {
				t.Errorf("API.Port = %d, want %d", cfg.API.Port, tt.wantPort)
			}
			if got := cfg.SourceOf("api.port"); got != tt.wantSource {
				t.Errorf("SourceOf(api.port) = %q, want %q", got, tt.wantSource)
			}
		})
	}
}

func TestFileValuesReachEveryLayer(t *testing.T) {
	fsys := files{"cfg.yaml": "mode: dev\nconnection:\n  encryption:\n    key: 0123456789abcdef\n" +
		"dev:\n  api_url: https://dev.example.com\n  master: 10.0.0.5:37820\n"}
	cfg, err := Load(LoadOptions{File: "cfg.yaml", ReadFile: fsys.read})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != ModeDev || cfg.Connection.Encryption.Key.Reveal() != "0123456789abcdef" {
		t.Errorf("got mode %q key %q", cfg.Mode, cfg.Connection.Encryption.Key.Reveal())
	}
	ep, err := cfg.Endpoint(ModeDev)
	if err != nil || ep.APIURL != "https://dev.example.com" || ep.Master != "10.0.0.5:37820" {
		t.Errorf("Endpoint(dev) = %+v, %v", ep, err)
	}
	if _, err := cfg.Endpoint(ModeReal); err == nil || !strings.Contains(err.Error(), "PAYMENT_REAL_API_URL") {
		t.Errorf("Endpoint(real) error = %v, want one naming PAYMENT_REAL_API_URL", err)
	}
}

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		file string
		want string // the problem line, or a part of it
	}{
		{"mode", map[string]string{"PAYMENT_MODE": "prod"}, "", `PAYMENT_MODE: "prod" is not a mode; use local, dev or real`},
		{"port not a number", map[string]string{"PAYMENT_API_PORT": "abc"}, "", `PAYMENT_API_PORT: "abc" (from env) is not a whole number; set a number such as 37821`},
		{"port range", map[string]string{"PAYMENT_UPDATOR_PORT": "70000"}, "", "PAYMENT_UPDATOR_PORT: port 70000 is out of range"},
		{"postgres port", map[string]string{"PAYMENT_POSTGRES_PORT": "0"}, "", "PAYMENT_POSTGRES_PORT: port 0 is out of range"},
		{"fake port", map[string]string{"PAYMENT_FAKE_TOSS_PORT": "-1"}, "", "PAYMENT_FAKE_TOSS_PORT: port -1 is out of range"},
		{"fake capacity none", map[string]string{"PAYMENT_FAKE_CAPACITY": "0"}, "", "PAYMENT_FAKE_CAPACITY: 0 records is out of range; use 1 to 1,000,000"},
		{"fake capacity too large", map[string]string{"PAYMENT_FAKE_CAPACITY": "1000001"}, "", "PAYMENT_FAKE_CAPACITY: 1000001 records is out of range"},
		{"connection key length", map[string]string{"PAYMENT_CONNECTION_ENCRYPTION_KEY": "short"}, "", "PAYMENT_CONNECTION_ENCRYPTION_KEY: the key has 5 characters; AES needs 16, 24 or 32"},
		{"connection iv length", map[string]string{"PAYMENT_CONNECTION_ENCRYPTION_IV": "0123456789abcdefX"}, "", "PAYMENT_CONNECTION_ENCRYPTION_IV: the IV has 17 characters"},
		{"history key", map[string]string{"PAYMENT_HISTORY_ENCRYPTION_KEY": "x"}, "", "PAYMENT_HISTORY_ENCRYPTION_KEY: the secret has 1 characters"},
		{"reservation key", map[string]string{"PAYMENT_RESERVATION_ENCRYPTION_KEY": "0123456789"}, "", "PAYMENT_RESERVATION_ENCRYPTION_KEY: the secret has 10 characters"},
		{"cancel key", map[string]string{"PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY": "abc"}, "", "PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY: the secret has 3 characters"},
		{"password secret", map[string]string{"PAYMENT_PASSWORD_SECRET": "abc"}, "", "PAYMENT_PASSWORD_SECRET: the secret has 3 characters"},
		{"webhook secret", map[string]string{"PAYMENT_WEBHOOK_SECRET": "abc"}, "", "PAYMENT_WEBHOOK_SECRET: the secret has 3 characters"},
		{"webhook secret not base64", map[string]string{"PAYMENT_WEBHOOK_SECRET": "whsec_this-is-not-base64!!"}, "",
			"PAYMENT_WEBHOOK_SECRET: webhook secret starts with whsec_ but the rest is not standard base64"},
		{"webhook secret too short", map[string]string{"PAYMENT_WEBHOOK_SECRET": "whsec_" + base64.StdEncoding.EncodeToString([]byte("sixteen-bytes-ok"))}, "",
			"PAYMENT_WEBHOOK_SECRET: webhook secret whsec_… decodes to 16 bytes, want 24 to 64; use the whsec_ value `paymentctl config generate` prints"},
		{"previous key too short", map[string]string{"PAYMENT_HISTORY_ENCRYPTION_PREVIOUS": "0123456789abcdef0123, short"}, "", "PAYMENT_HISTORY_ENCRYPTION_PREVIOUS: entry 2 has 5 characters"},
		{"database url", map[string]string{"PAYMENT_DATABASE_URL": "mysql://x"}, "", "PAYMENT_DATABASE_URL: the DSN is neither postgres://… nor sqlite:…"},
		{"iamport url", map[string]string{"PAYMENT_IAMPORT_URL": "ftp://x"}, "", `PAYMENT_IAMPORT_URL: "ftp://x" is not an http(s) URL`},
		{"toss url", map[string]string{"PAYMENT_TOSS_PAYMENTS_URL": "nohost"}, "", `PAYMENT_TOSS_PAYMENTS_URL: "nohost" is not an http(s) URL`},
		{"portone url", map[string]string{"PAYMENT_PORTONE_URL": "api.portone.io"}, "", `PAYMENT_PORTONE_URL: "api.portone.io" is not an http(s) URL`},
		{"fake portone port", map[string]string{"PAYMENT_FAKE_PORTONE_PORT": "0"}, "", "PAYMENT_FAKE_PORTONE_PORT: port 0 is out of range"},
		{"portone webhook secret not base64", map[string]string{"PAYMENT_PORTONE_WEBHOOK_SECRET": "whsec_c2VjcmV0, whsec_not base64!"}, "", "PAYMENT_PORTONE_WEBHOOK_SECRET: entry 2: webhook secret is not whsec_ followed by base64"},
		{"three portone webhook secrets", map[string]string{"PAYMENT_PORTONE_WEBHOOK_SECRET": "whsec_YQ==,whsec_Yg==,whsec_Yw=="}, "", "PAYMENT_PORTONE_WEBHOOK_SECRET: lists 3 secrets"},
		{"portone secret without webhook secret", map[string]string{"PAYMENT_PORTONE_SECRET": "s"}, "", "PAYMENT_PORTONE_WEBHOOK_SECRET: is empty although portone.secret is set"},
		{"dev api url", map[string]string{"PAYMENT_DEV_API_URL": "::"}, "", "PAYMENT_DEV_API_URL"},
		{"real master", map[string]string{"PAYMENT_REAL_MASTER": "no-port"}, "", `PAYMENT_REAL_MASTER: "no-port" is not host:port`},
		{"trusted proxy", map[string]string{"PAYMENT_API_TRUSTED_PROXIES": "10.0.0.1, 10.1.0.0/16, proxy.local"}, "", `PAYMENT_API_TRUSTED_PROXIES: "proxy.local" is neither an IP nor a CIDR`},
		{"throttle failures", map[string]string{"PAYMENT_THROTTLE_FAILURES": "-1"}, "", "PAYMENT_THROTTLE_FAILURES: -1 is negative"},
		{"throttle address failures", map[string]string{"PAYMENT_THROTTLE_ADDRESS_FAILURES": "0"}, "", "PAYMENT_THROTTLE_ADDRESS_FAILURES: 0 is below 1"},
		{"throttle window", map[string]string{"PAYMENT_THROTTLE_WINDOW": "10ms"}, "", "PAYMENT_THROTTLE_WINDOW: 10ms is shorter than a second"},
		{"write timeout within a payment flow", map[string]string{"PAYMENT_API_WRITE_TIMEOUT": "45s"}, "", "PAYMENT_API_WRITE_TIMEOUT: 45s does not exceed 45s, the bound of a payment flow"},
		{"bool", map[string]string{"PAYMENT_REAL_ALLOW_INSECURE_PG_URLS": "yes"}, "", `PAYMENT_REAL_ALLOW_INSECURE_PG_URLS: "yes" (from env) is not true or false; set true or false`},
		{"log format", map[string]string{"PAYMENT_LOG_FORMAT": "xml"}, "", `PAYMENT_LOG_FORMAT: "xml" is not a log format; use text or json`},
		{"log level", map[string]string{"PAYMENT_LOG_LEVEL": "loud"}, "", `PAYMENT_LOG_LEVEL: "loud" is not a log level`},
		{"unknown file key", nil, "bad.yaml", `unknown key "api.prot"`},
		// A configuration file that cannot be used is a configuration
		// error like a bad value (exit 78), not another kind of failure.
		{"missing file", nil, "missing.yaml", "missing.yaml: file does not exist; check the path given by --config or PAYMENT_CONFIG"},
		{"YAML syntax", nil, "broken.yaml", "broken.yaml: While parsing config: yaml: line 2: did not find expected key; correct its syntax (yaml)"},
		{"real mode defaults", map[string]string{"PAYMENT_MODE": "real"}, "", "PAYMENT_SYSTEM_PASSWORD: is a well-known default published with the original project, refused in real mode"},
	}
	fsys := files{"bad.yaml": "api:\n  prot: 1\n", "broken.yaml": "api:\n  port: 1\n mode: dev\n"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(LoadOptions{LookupEnv: env(tt.env), File: tt.file, ReadFile: fsys.read})
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Load error = %v, want a *ValidationError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n%s\nwant it to contain:\n%s", err, tt.want)
			}
		})
	}
}

func TestDotEnvSyntaxError(t *testing.T) {
	fsys := files{".env": "PAYMENT_API_PORT=\"unterminated\n"}
	_, err := Load(LoadOptions{DotEnv: ".env", ReadFile: fsys.read})
	var verr *ValidationError
	if !errors.As(err, &verr) || !strings.Contains(err.Error(), "  .env: ") || !strings.HasSuffix(err.Error(), "; correct its syntax (NAME=value lines)") {
		t.Errorf("Load error = %v, want a *ValidationError naming .env", err)
	}
}

func TestValidationNeverShowsSecrets(t *testing.T) {
	_, err := Load(LoadOptions{LookupEnv: env(map[string]string{"PAYMENT_CONNECTION_ENCRYPTION_KEY": "topsecret"})})
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("error = %v, want one that does not contain the secret", err)
	}
}

func TestRealMode(t *testing.T) {
	t.Run("complete real config is accepted", func(t *testing.T) {
		if _, err := Load(LoadOptions{LookupEnv: env(realEnv())}); err != nil {
			t.Fatalf("Load: %v", err)
		}
	})
	tests := []struct {
		name, env, value, want string
	}{
		{"default connection key", "PAYMENT_CONNECTION_ENCRYPTION_KEY", defaultConnectionKey, "PAYMENT_CONNECTION_ENCRYPTION_KEY: is a well-known default"},
		{"default toss secret", "PAYMENT_TOSS_PAYMENTS_SECRET", defaultTossSecret, "PAYMENT_TOSS_PAYMENTS_SECRET: is a well-known default"},
		{"default history key", "PAYMENT_HISTORY_ENCRYPTION_KEY", defaultHistoryKey, "PAYMENT_HISTORY_ENCRYPTION_KEY: is a well-known default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := realEnv()
			e[tt.env] = tt.value
			_, err := Load(LoadOptions{LookupEnv: env(e)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	t.Run("empty secrets from the file are refused", func(t *testing.T) {
		fsys := files{"empty.yaml": "iamport:\n  secret: \"\"\nsystem:\n  password: \"\"\n"}
		_, err := Load(LoadOptions{File: "empty.yaml", ReadFile: fsys.read, LookupEnv: env(withoutKeys(realEnv(), "PAYMENT_IAMPORT_SECRET", "PAYMENT_SYSTEM_PASSWORD"))})
		for _, want := range []string{"PAYMENT_IAMPORT_SECRET: is empty in real mode", "PAYMENT_SYSTEM_PASSWORD: is empty in real mode"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Load error = %v, want it to contain %q", err, want)
			}
		}
	})
	t.Run("an empty variable counts as unset", func(t *testing.T) {
		e := realEnv()
		e["PAYMENT_IAMPORT_SECRET"] = ""
		_, err := Load(LoadOptions{LookupEnv: env(e)})
		if err == nil || !strings.Contains(err.Error(), "PAYMENT_IAMPORT_SECRET: is a well-known default") {
			t.Errorf("Load error = %v, want the default to apply and be refused", err)
		}
	})
	t.Run("dev mode accepts the defaults", func(t *testing.T) {
		if _, err := Load(LoadOptions{LookupEnv: env(map[string]string{"PAYMENT_MODE": "dev"})}); err != nil {
			t.Fatalf("Load: %v", err)
		}
	})
}

func TestRealModeWeakSecrets(t *testing.T) {
	const shared = "shared-secret-0123456789abcdef01"
	tests := []struct {
		name   string
		set    map[string]string
		unset  []string
		want   []string // problem lines, or parts of them; none: accepted
		absent []string // never in the error
	}{
		{name: "short system password",
			set:    map[string]string{"PAYMENT_SYSTEM_PASSWORD": "x"},
			want:   []string{"PAYMENT_SYSTEM_PASSWORD: has 1 characters, too few for a secret in real mode; use at least 16 random characters"},
			absent: []string{`"x"`}},
		{name: "short postgres password, used when no URL is set",
			set:   map[string]string{"PAYMENT_POSTGRES_PASSWORD": "pgpass"},
			unset: []string{"PAYMENT_DATABASE_URL"},
			want:  []string{"PAYMENT_POSTGRES_PASSWORD: has 6 characters"}},
		{name: "postgres password not checked when a URL is set",
			set: map[string]string{"PAYMENT_POSTGRES_PASSWORD": "pgpass"}},
		{name: "PG credentials keep the length the PG issued",
			set: map[string]string{"PAYMENT_IAMPORT_KEY": "1234", "PAYMENT_IAMPORT_SECRET": "5678", "PAYMENT_TOSS_PAYMENTS_SECRET": "live_sk_1"}},
		{name: "one value for two secrets",
			set:    map[string]string{"PAYMENT_PASSWORD_SECRET": shared, "PAYMENT_WEBHOOK_SECRET": shared},
			want:   []string{"PAYMENT_PASSWORD_SECRET: has the same value as PAYMENT_WEBHOOK_SECRET; one leaked secret would give away the others; give every secret a value of its own"},
			absent: []string{shared}},
		{name: "one value for three secrets, and another pair",
			set: map[string]string{
				"PAYMENT_SYSTEM_PASSWORD": shared, "PAYMENT_HISTORY_ENCRYPTION_KEY": shared, "PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY": shared,
				"PAYMENT_CONNECTION_ENCRYPTION_IV": "same-16-chars-ab", "PAYMENT_CONNECTION_ENCRYPTION_KEY": "same-16-chars-ab",
			},
			want: []string{
				"PAYMENT_SYSTEM_PASSWORD: has the same value as PAYMENT_HISTORY_ENCRYPTION_KEY, PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY;",
				"PAYMENT_CONNECTION_ENCRYPTION_KEY: has the same value as PAYMENT_CONNECTION_ENCRYPTION_IV;",
			},
			absent: []string{shared, "same-16-chars-ab"}},
		{name: "http PG URL",
			set:  map[string]string{"PAYMENT_IAMPORT_URL": "http://pg-proxy:8080", "PAYMENT_TOSS_PAYMENTS_URL": "HTTP://toss"},
			want: []string{`PAYMENT_IAMPORT_URL: "http://pg-proxy:8080" is not https`, `PAYMENT_TOSS_PAYMENTS_URL: "HTTP://toss" is not https`, "PAYMENT_REAL_ALLOW_INSECURE_PG_URLS=true"}},
		{name: "http PG URL explicitly allowed",
			set: map[string]string{"PAYMENT_IAMPORT_URL": "http://127.0.0.1:8443", "PAYMENT_REAL_ALLOW_INSECURE_PG_URLS": "true"}},
		{name: "https PG URLs",
			set: map[string]string{"PAYMENT_IAMPORT_URL": "https://api.iamport.kr", "PAYMENT_TOSS_PAYMENTS_URL": "https://api.tosspayments.com", "PAYMENT_PORTONE_URL": "https://api.portone.io"}},
		{name: "http PortOne URL",
			set:  map[string]string{"PAYMENT_PORTONE_URL": "http://api.portone.io"},
			want: []string{`PAYMENT_PORTONE_URL: "http://api.portone.io" is not https`}},
		{name: "PortOne V2 configured",
			set: map[string]string{"PAYMENT_PORTONE_SECRET": "portone-live-secret", "PAYMENT_PORTONE_STORE_ID": "store-1",
				"PAYMENT_PORTONE_WEBHOOK_SECRET": "whsec_bGl2ZS1zZWNyZXQ=, whsec_bmV4dC1zZWNyZXQ="}},
		{name: "the fake PortOne's credentials",
			set: map[string]string{"PAYMENT_PORTONE_SECRET": fakePortOneSecret, "PAYMENT_PORTONE_STORE_ID": fakePortOneStoreID,
				"PAYMENT_PORTONE_WEBHOOK_SECRET": "whsec_bGl2ZS1zZWNyZXQ=," + fakePortOneWebhookSecret},
			want: []string{
				"PAYMENT_PORTONE_SECRET: is the fake PortOne's published test value, refused in real mode",
				"PAYMENT_PORTONE_STORE_ID: is the fake PortOne's published test value",
				"PAYMENT_PORTONE_WEBHOOK_SECRET: is the fake PortOne's published test value",
			},
			absent: []string{fakePortOneSecret, fakePortOneWebhookSecret}},
		{name: "PortOne secret shared with another secret",
			set:    map[string]string{"PAYMENT_PORTONE_SECRET": shared, "PAYMENT_WEBHOOK_SECRET": shared, "PAYMENT_PORTONE_WEBHOOK_SECRET": "whsec_bGl2ZS1zZWNyZXQ="},
			want:   []string{"has the same value as"},
			absent: []string{shared}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := withoutKeys(realEnv(), tt.unset...)
			for k, v := range tt.set {
				e[k] = v
			}
			_, err := Load(LoadOptions{LookupEnv: env(e)})
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Load: %v, want it accepted", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Load accepted it, want %q", tt.want)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error:\n%s\nwant it to contain:\n%s", err, want)
				}
			}
			for _, secret := range tt.absent {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error shows %q:\n%s", secret, err)
				}
			}
		})
	}
	t.Run("dev mode keeps accepting short and shared values", func(t *testing.T) {
		e := realEnv()
		e["PAYMENT_MODE"] = "dev"
		e["PAYMENT_SYSTEM_PASSWORD"] = "x"
		e["PAYMENT_WEBHOOK_SECRET"] = e["PAYMENT_PASSWORD_SECRET"]
		e["PAYMENT_IAMPORT_URL"] = "http://127.0.0.1:10851"
		if _, err := Load(LoadOptions{LookupEnv: env(e)}); err != nil {
			t.Fatalf("Load: %v", err)
		}
	})
}

func TestPrintMasksSecrets(t *testing.T) {
	e := realEnv()
	cfg, err := Load(LoadOptions{LookupEnv: env(e)})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := cfg.Print(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, s := range Settings() {
		if !strings.Contains(out, s.Key) {
			t.Errorf("output lacks key %s", s.Key)
		}
		if v := e[s.Env]; s.Secret() && v != "" && strings.Contains(out, v) {
			t.Errorf("output shows the secret of %s", s.Env)
		}
	}
	if !strings.Contains(out, "****** (32 chars)") || !strings.Contains(out, "real") {
		t.Errorf("output lacks masked secrets or the mode:\n%s", out)
	}
}

func TestSecretFormatting(t *testing.T) {
	s := Secret("hunter2")
	for _, got := range []string{s.String(), s.GoString(), func() string { b, _ := s.MarshalText(); return string(b) }()} {
		if strings.Contains(got, "hunter2") {
			t.Errorf("secret leaked: %q", got)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Errorf("Reveal = %q", s.Reveal())
	}
	if Secret("").String() != "" {
		t.Errorf("empty secret should print empty")
	}
}

func TestDatabaseURL(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"local default is sqlite", nil, "sqlite:paymentctl.db"},
		{"explicit wins", map[string]string{"PAYMENT_DATABASE_URL": "postgres://a@b/c"}, "postgres://a@b/c"},
		{"dev built from parts", map[string]string{"PAYMENT_MODE": "dev", "PAYMENT_POSTGRES_HOST": "db"},
			"postgres://samchon:samchon@db:5432/payments?search_path=payments"},
		{"prisma url translated", map[string]string{"PAYMENT_MODE": "dev",
			"PAYMENT_POSTGRES_URL": "postgresql://u:p@h:5432/d?schema=s"}, "postgresql://u:p@h:5432/d?search_path=s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(LoadOptions{LookupEnv: env(tt.env)})
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.DatabaseURL(); got != tt.want {
				t.Errorf("DatabaseURL() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGenerateSecretsAreValidInRealMode(t *testing.T) {
	gen, err := GenerateSecrets(nil)
	if err != nil {
		t.Fatal(err)
	}
	e := realEnv()
	seen := map[string]bool{}
	for _, g := range gen {
		if seen[g.Value] {
			t.Errorf("value repeated for %s", g.Env)
		}
		seen[g.Value] = true
		e[g.Env] = g.Value
	}
	if _, err := Load(LoadOptions{LookupEnv: env(e)}); err != nil {
		t.Fatalf("generated secrets rejected: %v", err)
	}
}

func TestWebhookKey(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	tests := []struct {
		name, secret string
		want         []byte
	}{
		{"default, legacy", "", []byte("paymentctl-local-webhook-secret")},
		{"whsec_ form", sdk.FormatWebhookSecret(key), key},
		// A legacy secret is its own bytes, even when it looks like base64.
		{"legacy that looks like base64", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", []byte("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(LoadOptions{LookupEnv: env(map[string]string{"PAYMENT_WEBHOOK_SECRET": tt.secret})})
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.WebhookKey()
			if !bytes.Equal(got, tt.want) {
				t.Errorf("WebhookKey() = %q, want %q", got, tt.want)
			}
			// The SDK reads the configured value into the same key.
			if sdkKey, err := sdk.ParseWebhookSecret(cfg.Webhook.Secret.Reveal()); err != nil || !bytes.Equal(sdkKey, got) {
				t.Errorf("sdk.ParseWebhookSecret = %q, %v; want the server's key %q", sdkKey, err, got)
			}
		})
	}
}

func TestGenerateWebhookSecret(t *testing.T) {
	gen, err := GenerateSecrets(nil)
	if err != nil {
		t.Fatal(err)
	}
	var secret string
	for _, g := range gen {
		if g.Env == "PAYMENT_WEBHOOK_SECRET" {
			secret = g.Value
		}
	}
	encoded, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		t.Fatalf("PAYMENT_WEBHOOK_SECRET=%s, want whsec_ and base64", secret)
	}
	if key, err := base64.StdEncoding.DecodeString(encoded); err != nil || len(key) != 32 {
		t.Errorf("PAYMENT_WEBHOOK_SECRET decodes to %d bytes, %v; want 32", len(key), err)
	}
}

func TestFlagName(t *testing.T) {
	for key, want := range map[string]string{"api.port": "api-port", "log.format": "log-format", "fake.iamport_port": "fake-iamport-port"} {
		if got := FlagName(key); got != want {
			t.Errorf("FlagName(%q) = %q, want %q", key, got, want)
		}
	}
}

// TestMetricsAddrOff: the metrics listener is turned off by "off" from
// any source and by an empty value in the file; an empty environment
// variable counts as unset and keeps the default.
func TestMetricsAddrOff(t *testing.T) {
	fsys := files{"empty.yaml": "metrics:\n  addr: \"\"\n", "off.yaml": "metrics:\n  addr: \"OFF\"\n"}
	tests := []struct {
		name string
		file string
		env  map[string]string
		want string
	}{
		{name: "default", want: "127.0.0.1:9464"},
		{name: "empty in the file", file: "empty.yaml", want: ""},
		{name: "off in the file", file: "off.yaml", want: ""},
		{name: "off in the environment", env: map[string]string{"PAYMENT_METRICS_ADDR": "off"}, want: ""},
		{name: "empty in the environment is unset", env: map[string]string{"PAYMENT_METRICS_ADDR": ""}, want: "127.0.0.1:9464"},
		{name: "an address", env: map[string]string{"PAYMENT_METRICS_ADDR": "127.0.0.1:1"}, want: "127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(LoadOptions{File: tt.file, LookupEnv: env(tt.env), ReadFile: fsys.read})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if cfg.Metrics.Addr != tt.want {
				t.Errorf("Metrics.Addr = %q, want %q", cfg.Metrics.Addr, tt.want)
			}
		})
	}
}
