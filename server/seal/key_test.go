package seal

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// testKey returns a fixed key whose secret is b repeated.
func testKey(id string, b byte) Key {
	return Key{ID: id, Secret: bytes.Repeat([]byte{b}, KeySize)}
}

func TestDeriveKeyKnownAnswer(t *testing.T) {
	// Computed independently (Python hmac/hashlib, RFC 5869) from the
	// original's default PAYMENT_HISTORY_ENCRYPTION_KEY. Changing the
	// derivation makes every stored value unreadable, so this must not move.
	k, err := DeriveKey([]byte("MTlsOESZ6geZTjeaubOdR71tobe0KqE7"), PurposeHistory)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(k.Secret), "1f4f518e76d29da376e51a086cfe7f8cc50e493c3e73fdd1a2a16136467f429d"; got != want {
		t.Errorf("secret = %s, want %s", got, want)
	}
	if got, want := k.ID, "4e1f71f88dd4"; got != want {
		t.Errorf("id = %s, want %s", got, want)
	}
}

func TestDeriveKeySeparation(t *testing.T) {
	masterA := []byte("master-secret-number-one-000000")
	masterB := []byte("master-secret-number-two-000000")
	seen := map[string]string{}
	for _, master := range [][]byte{masterA, masterB} {
		for _, p := range []string{PurposeHistory, PurposeReservation, PurposeCancel, PurposeWebhook, PurposePassword} {
			k, err := DeriveKey(master, p)
			if err != nil {
				t.Fatalf("DeriveKey(%s): %v", p, err)
			}
			if err := checkKey(k); err != nil {
				t.Errorf("DeriveKey(%s) gave an invalid key: %v", p, err)
			}
			name := string(master) + "/" + p
			if prev, ok := seen[string(k.Secret)]; ok {
				t.Errorf("%s and %s derive the same secret", prev, name)
			}
			if prev, ok := seen[k.ID]; ok {
				t.Errorf("%s and %s derive the same id %s", prev, name, k.ID)
			}
			seen[string(k.Secret)], seen[k.ID] = name, name
			again, _ := DeriveKey(master, p)
			if !bytes.Equal(again.Secret, k.Secret) || again.ID != k.ID {
				t.Errorf("DeriveKey(%s) is not deterministic", name)
			}
			if bytes.Contains(k.Secret, master[:8]) {
				t.Errorf("DeriveKey(%s) secret contains the master", name)
			}
		}
	}
}

func TestDeriveKeyErrors(t *testing.T) {
	tests := []struct {
		name    string
		master  string
		purpose string
		wantSub string
	}{
		{"empty master", "", PurposeHistory, "0 bytes long"},
		{"short master", "0123456789abcde", PurposeHistory, "15 bytes long"},
		{"unknown purpose", "0123456789abcdef", "histories", `unknown key purpose "histories"`},
		{"empty purpose", "0123456789abcdef", "", "unknown key purpose"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := DeriveKey([]byte(tt.master), tt.purpose)
			if err == nil {
				t.Fatalf("DeriveKey = %v, want error", k)
			}
			if !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("error = %q, want it to mention %q", err, tt.wantSub)
			}
			if strings.Contains(err.Error(), tt.master) && tt.master != "" {
				t.Errorf("error %q reveals the master secret", err)
			}
		})
	}
}

func TestKeyDoesNotPrintSecret(t *testing.T) {
	k := Key{ID: "k1", Secret: []byte("0123456789abcdefghijklmnopqrstuv")}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("loaded", "key", k)
	outputs := []string{
		fmt.Sprintf("%v", k), fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k), fmt.Sprintf("%s", k),
		fmt.Sprint([]Key{k}), logged.String(),
	}
	for _, out := range outputs {
		if !strings.Contains(out, "k1") {
			t.Errorf("output %q does not name the key id", out)
		}
		for _, leak := range []string{"0123456789", hex.EncodeToString(k.Secret)[:16], "[48 49 50"} {
			if strings.Contains(out, leak) {
				t.Errorf("output %q leaks the secret", out)
			}
		}
	}
}
