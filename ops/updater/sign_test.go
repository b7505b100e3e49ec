package updater

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

func TestDeriveKey(t *testing.T) {
	k1, err := DeriveKey("samchon")
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := DeriveKey("samchon")
	k3, _ := DeriveKey("samchon2")
	if len(k1) != keyLength || !bytes.Equal(k1, k2) || bytes.Equal(k1, k3) {
		t.Errorf("keys: len %d, deterministic %v, distinct %v", len(k1), bytes.Equal(k1, k2), !bytes.Equal(k1, k3))
	}
	if bytes.Contains(k1, []byte("samchon")) {
		t.Error("the key contains the password")
	}
	if _, err := DeriveKey(""); err == nil {
		t.Error("an empty password gave a key")
	}
}

func TestVerify(t *testing.T) {
	key, _ := DeriveKey("secret")
	other, _ := DeriveKey("other")
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	body := []byte(`{"ref":"main"}`)

	// signed returns a request to /v1/update signed with k at time at.
	signed := func(k []byte, at time.Time) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/v1/update", bytes.NewReader(body))
		NewSigner(k, func() time.Time { return at }).Sign(r, body)
		return r
	}
	tests := []struct {
		name string
		req  func() (*http.Request, []byte)
		want error // nil: accepted
	}{
		{"valid", func() (*http.Request, []byte) { return signed(key, now), body }, nil},
		{"clock 59s behind", func() (*http.Request, []byte) { return signed(key, now.Add(-59*time.Second)), body }, nil},
		{"clock 59s ahead", func() (*http.Request, []byte) { return signed(key, now.Add(59*time.Second)), body }, nil},
		{"tampered body", func() (*http.Request, []byte) { return signed(key, now), []byte(`{"ref":"evil"}`) }, ErrBadSignature},
		{"empty body instead", func() (*http.Request, []byte) { return signed(key, now), nil }, ErrBadSignature},
		{"tampered path", func() (*http.Request, []byte) {
			r := signed(key, now)
			r.URL.Path = "/v1/instance/rollback"
			return r, body
		}, ErrBadSignature},
		{"tampered query", func() (*http.Request, []byte) {
			r := signed(key, now)
			r.URL.RawQuery = "x=1"
			return r, body
		}, ErrBadSignature},
		{"tampered method", func() (*http.Request, []byte) {
			r := signed(key, now)
			r.Method = http.MethodGet
			return r, body
		}, ErrBadSignature},
		{"tampered timestamp", func() (*http.Request, []byte) {
			r := signed(key, now)
			r.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix()+1, 10))
			return r, body
		}, ErrBadSignature},
		{"tampered nonce", func() (*http.Request, []byte) {
			r := signed(key, now)
			r.Header.Set(HeaderNonce, "00000000000000000000000000000000")
			return r, body
		}, ErrBadSignature},
		{"signature without scheme", func() (*http.Request, []byte) {
			r := signed(key, now)
			r.Header.Set(HeaderSignature, r.Header.Get(HeaderSignature)[len(sigScheme):])
			return r, body
		}, ErrBadSignature},
		{"too old", func() (*http.Request, []byte) { return signed(key, now.Add(-61*time.Second)), body }, ErrStale},
		{"too far ahead", func() (*http.Request, []byte) { return signed(key, now.Add(61*time.Second)), body }, ErrStale},
		{"timestamp not a number", func() (*http.Request, []byte) {
			r := signed(key, now)
			r.Header.Set(HeaderTimestamp, "noon")
			return r, body
		}, ErrStale},
		{"wrong key", func() (*http.Request, []byte) { return signed(other, now), body }, ErrBadSignature},
		{"unsigned", func() (*http.Request, []byte) {
			return httptest.NewRequest(http.MethodPost, "/v1/update", bytes.NewReader(body)), body
		}, ErrUnsigned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, b := tt.req()
			err := NewVerifier(key, clock).Verify(r, b)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyReplay(t *testing.T) {
	key, _ := DeriveKey("secret")
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	v := NewVerifier(key, func() time.Time { return now })
	r := httptest.NewRequest(http.MethodGet, "/v1/members", nil)
	NewSigner(key, func() time.Time { return now }).Sign(r, nil)
	if err := v.Verify(r, nil); err != nil {
		t.Fatalf("first: %v", err)
	}
	if err := v.Verify(r, nil); !errors.Is(err, ErrReplay) {
		t.Errorf("replayed within the window: %v, want ErrReplay", err)
	}
	// Once the window has passed, the time check refuses it instead.
	now = now.Add(MaxSkew + time.Second)
	if err := v.Verify(r, nil); !errors.Is(err, ErrStale) {
		t.Errorf("replayed after the window: %v, want ErrStale", err)
	}
	// A bad signature does not burn the nonce of a good request.
	r2 := httptest.NewRequest(http.MethodGet, "/v1/members", nil)
	NewSigner(key, func() time.Time { return now }).Sign(r2, nil)
	forged := r2.Clone(r2.Context())
	forged.Header.Set(HeaderSignature, sigScheme+"00")
	if err := v.Verify(forged, nil); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("forged: %v", err)
	}
	if err := v.Verify(r2, nil); err != nil {
		t.Errorf("genuine request after a forged one with its nonce: %v", err)
	}
}

func TestVerifyCacheBound(t *testing.T) {
	key, _ := DeriveKey("secret")
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	v := NewVerifier(key, clock)
	v.max = 3
	s := NewSigner(key, clock)
	verify := func() error {
		r := httptest.NewRequest(http.MethodGet, "/v1/members", nil)
		s.Sign(r, nil)
		return v.Verify(r, nil)
	}
	for i := range 3 {
		if err := verify(); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if err := verify(); !errors.Is(err, ErrReplay) {
		t.Errorf("full cache: %v, want a refusal", err)
	}
	now = now.Add(2*MaxSkew + time.Second)
	if err := verify(); err != nil {
		t.Errorf("after the entries expired: %v", err)
	}
	if len(v.nonces) != 1 {
		t.Errorf("cache holds %d nonces after expiry, want 1", len(v.nonces))
	}
}
