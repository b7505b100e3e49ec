package wirecrypt

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func mustGCM(t testing.TB, key string) *GCM {
	t.Helper()
	g, err := NewGCM(key)
	if err != nil {
		t.Fatalf("NewGCM(%q): %v", key, err)
	}
	return g
}

func TestGCMRoundTrip(t *testing.T) {
	plains := []string{"", "a", `{"password":"some-password"}`, strings.Repeat("x", 2048)}
	for _, key := range []string{"0123456789abcdef", "0123456789abcdef01234567", testKey} {
		g := mustGCM(t, key)
		for _, d := range []Direction{Request, Response} {
			for _, p := range plains {
				text := g.Encrypt([]byte(p), d)
				raw, err := base64.StdEncoding.DecodeString(string(text))
				if err != nil {
					t.Fatalf("Encrypt(%q) = %q is not standard base64: %v", p, text, err)
				}
				if want := 12 + len(p) + 16; len(raw) != want {
					t.Errorf("Encrypt(%q) is %d bytes, want nonce + plaintext + tag = %d", p, len(raw), want)
				}
				got, err := g.Decrypt(text, d)
				if err != nil || string(got) != p {
					t.Errorf("Decrypt(Encrypt(%q)) = %q, %v", p, got, err)
				}
			}
		}
	}
}

func TestGCMFreshNonce(t *testing.T) {
	g := mustGCM(t, testKey)
	a, b := g.Encrypt([]byte("same"), Request), g.Encrypt([]byte("same"), Request)
	if bytes.Equal(a, b) {
		t.Errorf("Encrypt gave %q twice; want a fresh nonce per body", a)
	}
}

// TestGCMKeyIsDerived pins the key derivation, so that a client in another
// language can check its implementation against the documented one: the
// vector decrypts only with HKDF-SHA256(key, no salt, "paymentctl wire
// aes-256-gcm"), AAD "paymentctl request", a zero nonce (computed with
// Python's cryptography package).
func TestGCMKeyIsDerived(t *testing.T) {
	const vector = "AAAAAAAAAAAAAAAAye30BcYi2FrsK5M15DE3o9KqB/DtagWD9F7SJ36fc5A="
	got, err := mustGCM(t, testKey).Decrypt([]byte(vector), Request)
	if err != nil || string(got) != `{"password":"x"}` {
		t.Errorf("Decrypt(vector) = %q, %v; want {\"password\":\"x\"}", got, err)
	}
}

func TestGCMRefuses(t *testing.T) {
	g := mustGCM(t, testKey)
	good := g.Encrypt([]byte(`{"password":"some-password"}`), Request)
	raw, _ := base64.StdEncoding.DecodeString(string(good))
	flip := func(i int) []byte {
		b := bytes.Clone(raw)
		b[i] ^= 1
		return []byte(base64.StdEncoding.EncodeToString(b))
	}
	tests := []struct {
		name string
		text []byte
		d    Direction
	}{
		{"other direction", good, Response},
		{"nonce bit", flip(0), Request},
		{"ciphertext bit", flip(14), Request},
		{"tag bit", flip(len(raw) - 1), Request},
		{"truncated", []byte(base64.StdEncoding.EncodeToString(raw[:len(raw)-1])), Request},
		{"shorter than overhead", []byte(base64.StdEncoding.EncodeToString(raw[:27])), Request},
		{"empty", nil, Request},
		{"not base64", []byte("{}"), Request},
		{"other key", mustGCM(t, "0123456789abcdef0123456789abcdef").Encrypt([]byte("{}"), Request), Request},
		{"cbc body", mustNew(t, testKey, testIV).Encrypt([]byte(`{"password":"some-password"}`)), Request},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := g.Decrypt(tt.text, tt.d)
			if err == nil || !errors.Is(err, ErrMalformed) {
				t.Errorf("Decrypt = %q, %v; want an error wrapping ErrMalformed", got, err)
			}
		})
	}
}

func TestNewGCMKeySize(t *testing.T) {
	for _, key := range []string{"", "short", testKey + "x"} {
		if _, err := NewGCM(key); err == nil {
			t.Errorf("NewGCM(%d bytes) succeeded, want an error", len(key))
		}
	}
}
