package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/wirecrypt"
)

func mustKeyring(t testing.TB, purpose string, active Key, old ...Key) *Keyring {
	t.Helper()
	k, err := NewKeyring(purpose, active, old...)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return k
}

func mustSeal(t testing.TB, k *Keyring, plain, aad []byte) string {
	t.Helper()
	s, err := k.Seal(plain, aad)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return s
}

func TestNewKeyringErrors(t *testing.T) {
	good := testKey("k1", 1)
	tests := []struct {
		name    string
		purpose string
		active  Key
		old     []Key
		wantSub string
	}{
		{"unknown purpose", "payments", good, nil, "unknown key purpose"},
		{"empty id", PurposeHistory, testKey("", 1), nil, "1 to 32"},
		{"long id", PurposeHistory, testKey(strings.Repeat("a", 33), 1), nil, "1 to 32"},
		{"dot in id", PurposeHistory, testKey("k.1", 1), nil, `has '.'`},
		{"dollar in id", PurposeHistory, testKey("k$1", 1), nil, `has '$'`},
		{"short secret", PurposeHistory, Key{ID: "k1", Secret: make([]byte, 16)}, nil, "16 bytes long, want 32"},
		{"nil secret", PurposeHistory, Key{ID: "k1"}, nil, "0 bytes long"},
		{"bad old key", PurposeHistory, good, []Key{{ID: "k0", Secret: make([]byte, 31)}}, "k0 is 31 bytes"},
		{"duplicate id", PurposeHistory, good, []Key{testKey("k1", 2)}, "two different keys have the id k1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := NewKeyring(tt.purpose, tt.active, tt.old...)
			if err == nil {
				t.Fatalf("NewKeyring = %v, want error", k)
			}
			if !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("error = %q, want it to mention %q", err, tt.wantSub)
			}
		})
	}
	// Listing the active key again among the old ones is harmless.
	if _, err := NewKeyring(PurposeHistory, good, good); err != nil {
		t.Errorf("NewKeyring with a repeated identical key: %v", err)
	}
}

func TestSealOpen(t *testing.T) {
	k := mustKeyring(t, PurposeHistory, testKey("k1", 1))
	tests := []struct {
		name  string
		plain []byte
		aad   []byte
	}{
		{"empty", nil, nil},
		{"empty with aad", []byte{}, []byte("0b7e2f4c-8c1a-4e55-9f1e-3c2d6a7b8e90")},
		{"json", []byte(`{"imp_uid":"imp_123","amount":10000,"status":"paid"}`), nil},
		{"json with record id", []byte(`{"paymentKey":"tgen_1","totalAmount":5000}`), []byte("0b7e2f4c-8c1a-4e55-9f1e-3c2d6a7b8e90")},
		{"binary", []byte{0, 1, 2, 0xff, '.', '$'}, []byte{0}},
		{"utf8", []byte(`{"orderName":"결제 테스트"}`), nil},
		{"2 KiB", bytes.Repeat([]byte("0123456789abcdef"), 128), []byte("id")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSeal(t, k, tt.plain, tt.aad)
			prefix := "v1.k1."
			if !strings.HasPrefix(s, prefix) {
				t.Fatalf("Seal = %q, want prefix %q", s, prefix)
			}
			body, err := base64.RawURLEncoding.DecodeString(s[len(prefix):])
			if err != nil {
				t.Fatalf("Seal body is not unpadded base64url: %v", err)
			}
			if got, want := len(body), len(tt.plain)+gcmOverhead; got != want {
				t.Errorf("body is %d bytes, want %d", got, want)
			}
			if len(tt.plain) > 4 && bytes.Contains(body, tt.plain) {
				t.Errorf("body contains the plaintext")
			}
			got, err := k.Open(s, tt.aad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if diff := cmp.Diff(string(tt.plain), string(got)); diff != "" {
				t.Errorf("Open(Seal(x)) mismatch (-want +got):\n%s", diff)
			}
			if k.Stale(s) {
				t.Errorf("Stale(%q) = true for a value under the active key", s)
			}
		})
	}
}

func TestSealNonceUnique(t *testing.T) {
	k := mustKeyring(t, PurposeReservation, testKey("k1", 1))
	seen := map[string]bool{}
	nonces := map[string]bool{}
	for range 100 {
		s := mustSeal(t, k, []byte("same plaintext"), []byte("same id"))
		if seen[s] {
			t.Fatalf("Seal produced %q twice", s)
		}
		seen[s] = true
		body, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(s, "v1.k1."))
		if err != nil {
			t.Fatal(err)
		}
		nonce := string(body[:12])
		if nonces[nonce] {
			t.Fatalf("nonce %x used twice", nonce)
		}
		nonces[nonce] = true
	}
}

func TestRotation(t *testing.T) {
	k1, k2, k3 := testKey("k1", 1), testKey("k2", 2), testKey("k3", 3)
	before := mustKeyring(t, PurposeHistory, k1)
	after := mustKeyring(t, PurposeHistory, k2, k1)
	aad := []byte("row-1")

	old := mustSeal(t, before, []byte("sealed before rotation"), aad)
	got, err := after.Open(old, aad)
	if err != nil {
		t.Fatalf("Open of a value under the old key after rotation: %v", err)
	}
	if string(got) != "sealed before rotation" {
		t.Errorf("Open = %q", got)
	}
	if !after.Stale(old) {
		t.Errorf("Stale(old value) = false after rotation, want true")
	}

	fresh := mustSeal(t, after, []byte("sealed after rotation"), aad)
	if !strings.HasPrefix(fresh, "v1.k2.") {
		t.Errorf("Seal after rotation = %q, want key k2", fresh)
	}
	if after.Stale(fresh) {
		t.Errorf("Stale(fresh value) = true")
	}

	// A server that has not been given the new key yet.
	if _, err := before.Open(fresh, aad); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Open under a keyring without k2: err = %v, want ErrUnknownKey", err)
	}
	// Old key retired.
	retired := mustKeyring(t, PurposeHistory, k3, k2)
	if _, err := retired.Open(old, aad); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Open after retiring k1: err = %v, want ErrUnknownKey", err)
	}
	if _, err := retired.Open(fresh, aad); err != nil {
		t.Errorf("Open of a k2 value with k2 as old key: %v", err)
	}
}

func TestOpenRejects(t *testing.T) {
	k1, k2 := testKey("k1", 1), testKey("k2", 2)
	ring := mustKeyring(t, PurposeHistory, k1, k2)
	aad := []byte("0b7e2f4c-8c1a-4e55-9f1e-3c2d6a7b8e90")
	good := mustSeal(t, ring, []byte(`{"amount":10000}`), aad)
	body := strings.TrimPrefix(good, "v1.k1.")

	// The same key under another purpose: only the additional data differs.
	sameKeyOtherTable := mustKeyring(t, PurposeReservation, k1)

	flipLastBodyByte := func() string {
		raw, _ := base64.RawURLEncoding.DecodeString(body)
		raw[len(raw)-1] ^= 1
		return "v1.k1." + base64.RawURLEncoding.EncodeToString(raw)
	}
	flipMiddleByte := func() string {
		raw, _ := base64.RawURLEncoding.DecodeString(body)
		raw[gcmOverhead/2] ^= 0x80
		return "v1.k1." + base64.RawURLEncoding.EncodeToString(raw)
	}
	dropLastBlock := func() string {
		raw, _ := base64.RawURLEncoding.DecodeString(body)
		return "v1.k1." + base64.RawURLEncoding.EncodeToString(raw[:len(raw)-16])
	}
	tests := []struct {
		name   string
		ring   *Keyring
		sealed string
		aad    []byte
		want   error
	}{
		{"other record id", ring, good, []byte("another-row"), ErrTampered},
		{"no record id", ring, good, nil, ErrTampered},
		{"other purpose", sameKeyOtherTable, good, aad, ErrTampered},
		{"flipped tag byte", ring, flipLastBodyByte(), aad, ErrTampered},
		{"flipped nonce byte", ring, flipMiddleByte(), aad, ErrTampered},
		{"key id relabelled", ring, "v1.k2." + body, aad, ErrTampered},
		{"unknown key id", ring, "v1.k9." + body, aad, ErrUnknownKey},
		{"truncated by 16 bytes", ring, dropLastBlock(), aad, ErrTampered},
		{"truncated to a bad length", ring, good[:len(good)-2], aad, ErrMalformed},
		{"truncated below overhead", ring, "v1.k1." + body[:20], aad, ErrMalformed},
		{"empty body", ring, "v1.k1.", aad, ErrMalformed},
		{"padded base64", ring, good + "==", aad, ErrMalformed},
		{"standard alphabet", ring, "v1.k1.+/" + body[2:], aad, ErrMalformed},
		{"no key id", ring, "v1." + body, aad, ErrMalformed},
		{"future version", ring, "v2.k1." + body, aad, ErrMalformed},
		{"empty", ring, "", aad, ErrMalformed},
		{"legacy without legacy cipher", ring, "bp8N4w+BzXeMbfWPDJIguQ==", aad, ErrMalformed},
		{"trailing space", ring, good + " ", aad, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.ring.Open(tt.sealed, tt.aad)
			if err == nil {
				t.Fatalf("Open(%q) = %q, want error", tt.sealed, got)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Open(%q) error = %v, want %v", tt.sealed, err, tt.want)
			}
		})
	}
}

func TestOpenEveryCharacterFlip(t *testing.T) {
	// Changing any one character of a sealed value must make Open fail.
	ring := mustKeyring(t, PurposeCancel, testKey("k1", 1), testKey("k2", 2))
	sealed := mustSeal(t, ring, []byte(`{"cancel_amount":3000,"reason":"test"}`), []byte("row"))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
	for i := range len(sealed) {
		for _, c := range []byte(alphabet) {
			if c == sealed[i] {
				continue
			}
			changed := sealed[:i] + string(c) + sealed[i+1:]
			if got, err := ring.Open(changed, []byte("row")); err == nil {
				t.Fatalf("Open(%q) with byte %d changed to %q = %q, want error", changed, i, c, got)
			}
		}
	}
}

func TestLegacy(t *testing.T) {
	// The original's HISTORY key and IV defaults.
	legacy, err := wirecrypt.New("MTlsOESZ6geZTjeaubOdR71tobe0KqE7", "7BqAGp1HPY9Ox66w")
	if err != nil {
		t.Fatal(err)
	}
	plain := `{"imp_uid":"imp_1","amount":1000}`
	old := string(legacy.Encrypt([]byte(plain)))

	base := mustKeyring(t, PurposeHistory, testKey("k1", 1))
	ring := base.WithLegacy(legacy)
	got, err := ring.Open(old, []byte("ignored for legacy values"))
	if err != nil {
		t.Fatalf("Open(legacy value): %v", err)
	}
	if string(got) != plain {
		t.Errorf("Open(legacy value) = %q, want %q", got, plain)
	}
	if !ring.Stale(old) {
		t.Errorf("Stale(legacy value) = false, want true")
	}
	if _, err := base.Open(old, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("Open(legacy value) without WithLegacy: err = %v, want ErrMalformed", err)
	}
	if _, err := ring.Open("bm90IGEgYmxvY2s=", nil); !errors.Is(err, ErrMalformed) || !errors.Is(err, wirecrypt.ErrMalformed) {
		t.Errorf("Open(bad legacy value): err = %v, want ErrMalformed from both packages", err)
	}
	// New values are still sealed in the current format.
	if s := mustSeal(t, ring, []byte(plain), nil); !strings.HasPrefix(s, "v1.k1.") {
		t.Errorf("Seal with a legacy cipher = %q, want the v1 format", s)
	}
}

func TestStale(t *testing.T) {
	ring := mustKeyring(t, PurposeWebhook, testKey("k2", 2), testKey("k1", 1))
	tests := []struct {
		sealed string
		want   bool
	}{
		{"v1.k2.AAAA", false},
		{"v1.k1.AAAA", true},
		{"v1.k2.", true},
		{"v1.k22.AAAA", true},
		{"v2.k2.AAAA", true},
		{"bp8N4w+BzXeMbfWPDJIguQ==", true},
		{"", true},
	}
	for _, tt := range tests {
		if got := ring.Stale(tt.sealed); got != tt.want {
			t.Errorf("Stale(%q) = %v, want %v", tt.sealed, got, tt.want)
		}
	}
}

func TestZeroKeyring(t *testing.T) {
	for name, k := range map[string]*Keyring{"nil": nil, "zero": {}} {
		if _, err := k.Seal([]byte("x"), nil); err == nil {
			t.Errorf("%s keyring: Seal succeeded", name)
		}
		if _, err := k.Open("v1.k1.AAAA", nil); err == nil {
			t.Errorf("%s keyring: Open succeeded", name)
		}
	}
}

func TestKeyringConcurrent(t *testing.T) {
	ring := mustKeyring(t, PurposeHistory, testKey("k1", 1))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			aad := []byte{byte(g)}
			for range 50 {
				s, err := ring.Seal([]byte("concurrent"), aad)
				if err == nil {
					_, err = ring.Open(s, aad)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkSeal2KiB(b *testing.B) {
	ring := mustKeyring(b, PurposeHistory, testKey("k1", 1))
	plain := bytes.Repeat([]byte("0123456789abcdef"), 128)
	aad := []byte("0b7e2f4c-8c1a-4e55-9f1e-3c2d6a7b8e90")
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ring.Seal(plain, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen2KiB(b *testing.B) {
	ring := mustKeyring(b, PurposeHistory, testKey("k1", 1))
	aad := []byte("0b7e2f4c-8c1a-4e55-9f1e-3c2d6a7b8e90")
	sealed := mustSeal(b, ring, bytes.Repeat([]byte("0123456789abcdef"), 128), aad)
	b.SetBytes(2048)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ring.Open(sealed, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzOpen(f *testing.F) {
	ring := mustKeyring(f, PurposeHistory, testKey("k1", 1), testKey("k0", 0))
	legacy, err := wirecrypt.New("MTlsOESZ6geZTjeaubOdR71tobe0KqE7", "7BqAGp1HPY9Ox66w")
	if err != nil {
		f.Fatal(err)
	}
	ring = ring.WithLegacy(legacy)
	f.Add(mustSeal(f, ring, []byte(`{"amount":1}`), []byte("row")), []byte("row"))
	f.Add("v1.k0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", []byte(nil))
	f.Add(string(legacy.Encrypt([]byte("{}"))), []byte(nil))
	f.Add("v1..", []byte{})
	f.Fuzz(func(t *testing.T, sealed string, aad []byte) {
		plain, err := ring.Open(sealed, aad)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrTampered) {
				t.Fatalf("Open(%q) error %v wraps no sentinel", sealed, err)
			}
			return
		}
		again, err := ring.Open(mustSeal(t, ring, plain, aad), aad)
		if err != nil || !bytes.Equal(again, plain) {
			t.Fatalf("reseal of %q: %q, %v", plain, again, err)
		}
	})
}
