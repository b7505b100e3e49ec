package seal

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
)

// Purposes of keys. Each table with sealed data has its own, and record
// passwords have theirs.
const (
	PurposeHistory     = "history"     // payment_histories.data
	PurposeReservation = "reservation" // payment_reservations.data
	PurposeCancel      = "cancel"      // payment_history_cancels.data
	PurposeWebhook     = "webhook"     // webhook snapshots and payloads
	PurposePassword    = "password"    // record-password HMAC (Hasher)
	PurposeAudit       = "audit"       // payment_audit_events.data
)

// KeySize is the length of a key's secret: AES-256 and HMAC-SHA256 keys.
const KeySize = 32

// MinMasterSize is the shortest master secret DeriveKey accepts. HKDF does not
// stretch weak input, so masters should be random strings of 32 characters or
// more; the minimum only catches empty and truncated configuration.
const MinMasterSize = 16

const maxKeyIDLen = 32

// hkdfSalt separates this package's keys from any other use of the same
// master secret.
const hkdfSalt = "paymentctl/seal/v1"

// Key is a secret key with the id stored next to every value it seals or
// hashes. Its String, GoString and LogValue methods show only the id.
type Key struct {
	ID     string // 1 to 32 characters from [A-Za-z0-9_-]
	Secret []byte // KeySize bytes
}

// String returns the key's id, never its secret.
func (k Key) String() string { return "seal.Key(" + k.ID + ")" }

// GoString returns the key's id, never its secret.
func (k Key) GoString() string { return k.String() }

// LogValue makes slog record the key's id, never its secret.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.ID) }

// DeriveKey derives the key for purpose from a configured master secret with
// HKDF-SHA256. The id is the first 12 hex digits of a hash of the derived key,
// so the same master and purpose always give the same id, and a new master
// gives a new one.
func DeriveKey(master []byte, purpose string) (Key, error) {
	if err := checkPurpose(purpose); err != nil {
		return Key{}, err
	}
	if len(master) < MinMasterSize {
		return Key{}, fmt.Errorf("master secret for %s is %d bytes long, want at least %d", purpose, len(master), MinMasterSize)
	}
	secret, err := hkdf.Key(sha256.New, master, []byte(hkdfSalt), "paymentctl seal key "+purpose, KeySize)
	if err != nil {
		return Key{}, fmt.Errorf("derive %s key: %w", purpose, err)
	}
	sum := sha256.Sum256(append([]byte("paymentctl seal key id\x00"), secret...))
	return Key{ID: hex.EncodeToString(sum[:6]), Secret: secret}, nil
}

func checkPurpose(purpose string) error {
	switch purpose {
	case PurposeHistory, PurposeReservation, PurposeCancel, PurposeWebhook, PurposePassword, PurposeAudit:
		return nil
	}
	return fmt.Errorf("unknown key purpose %q, want one of %s, %s, %s, %s, %s or %s", purpose,
		PurposeHistory, PurposeReservation, PurposeCancel, PurposeWebhook, PurposePassword, PurposeAudit)
}

func checkKey(k Key) error {
	if k.ID == "" || len(k.ID) > maxKeyIDLen {
		return fmt.Errorf("key id %q is %d characters long, want 1 to %d", k.ID, len(k.ID), maxKeyIDLen)
	}
	for i := range len(k.ID) {
		if !isIDChar(k.ID[i]) {
			return fmt.Errorf("key id %q has %q, want only letters, digits, '-' and '_'", k.ID, k.ID[i])
		}
	}
	if len(k.Secret) != KeySize {
		return fmt.Errorf("key %s is %d bytes long, want %d", k.ID, len(k.Secret), KeySize)
	}
	return nil
}

func isIDChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// collectKeys validates active and old keys and returns them by id; identical
// repeats are ignored.
func collectKeys[V any](active Key, old []Key, build func(Key) (V, error)) (map[string]V, error) {
	byID := make(map[string]V, 1+len(old))
	secrets := make(map[string][]byte, 1+len(old))
	for _, k := range append([]Key{active}, old...) {
		if err := checkKey(k); err != nil {
			return nil, err
		}
		if s, ok := secrets[k.ID]; ok {
			if string(s) != string(k.Secret) {
				return nil, fmt.Errorf("two different keys have the id %s", k.ID)
			}
			continue
		}
		v, err := build(k)
		if err != nil {
			return nil, err
		}
		byID[k.ID] = v
		secrets[k.ID] = k.Secret
	}
	return byID, nil
}
