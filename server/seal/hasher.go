package seal

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// hmacScheme names the hash format Hasher writes:
//
//	hmac-sha256$<key id>$<base64url salt>$<base64url HMAC-SHA256(key, salt | password)>
//
// with 16 random salt bytes and no base64 padding.
const hmacScheme = "hmac-sha256"

const saltSize = 16

// Hasher hashes record passwords with HMAC-SHA256 under a server secret and
// verifies them against its own hashes and the original server's bcrypt
// hashes. It is safe for concurrent use.
type Hasher struct {
	activeID string
	keys     map[string][]byte // by key id; never written after NewHasher
}

// NewHasher returns a Hasher that hashes under active and also verifies
// hashes made under the old keys. Derive the keys with DeriveKey and
// PurposePassword.
func NewHasher(active Key, old ...Key) (*Hasher, error) {
	keys, err := collectKeys(active, old, func(k Key) ([]byte, error) {
		return append([]byte(nil), k.Secret...), nil
	})
	if err != nil {
		return nil, fmt.Errorf("password hasher: %w", err)
	}
	return &Hasher{activeID: active.ID, keys: keys}, nil
}

// Hash returns the self-describing hash of password under the active key,
// with a fresh random salt, so equal passwords give different hashes.
func (h *Hasher) Hash(password string) string {
	salt := make([]byte, saltSize)
	rand.Read(salt) // never fails: crypto/rand aborts the program instead
	mac := macOf(h.keys[h.activeID], salt, password)
	enc := base64.RawURLEncoding
	return hmacScheme + "$" + h.activeID + "$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(mac)
}

// Verify reports whether password matches stored, a hash made by Hash under
// any of the hasher's keys, or a bcrypt hash ("$2a$", "$2b$" or "$2y$") as
// the original server stored them. MACs are compared in constant time.
// Unknown formats, unknown key ids and empty hashes never match.
func (h *Hasher) Verify(stored, password string) bool {
	if isBcrypt(stored) {
		// Like bcryptjs, only the first 72 bytes of the password count.
		return bcrypt.CompareHashAndPassword([]byte(stored), []byte(password)) == nil
	}
	id, salt, want, ok := parseHMAC(stored)
	if !ok {
		return false
	}
	key, ok := h.keys[id]
	if !ok {
		return false
	}
	return hmac.Equal(macOf(key, salt, password), want)
}

// NeedsRehash reports whether stored should be replaced by Hash(password)
// after a successful Verify: it is a bcrypt hash, or made under a key other
// than the active one, or not recognised at all.
func (h *Hasher) NeedsRehash(stored string) bool {
	id, _, _, ok := parseHMAC(stored)
	return !ok || id != h.activeID
}

func macOf(key, salt []byte, password string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(salt)
	m.Write([]byte(password))
	return m.Sum(nil)
}

func isBcrypt(stored string) bool {
	return strings.HasPrefix(stored, "$2a$") || strings.HasPrefix(stored, "$2b$") || strings.HasPrefix(stored, "$2y$")
}

// parseHMAC splits a hash made by Hash. It checks the structure only.
func parseHMAC(stored string) (id string, salt, mac []byte, ok bool) {
	parts := strings.Split(stored, "$")
	if len(parts) != 4 || parts[0] != hmacScheme {
		return "", nil, nil, false
	}
	enc := base64.RawURLEncoding
	salt, err := enc.DecodeString(parts[2])
	if err != nil || len(salt) != saltSize {
		return "", nil, nil, false
	}
	mac, err = enc.DecodeString(parts[3])
	if err != nil || len(mac) != sha256.Size {
		return "", nil, nil, false
	}
	return parts[1], salt, mac, true
}
