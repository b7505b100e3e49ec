package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/paymentctl/paymentctl/wirecrypt"
)

// Errors returned by Keyring.Open; match them with errors.Is.
var (
	// ErrMalformed means the value is not a sealed value this version reads.
	ErrMalformed = errors.New("malformed sealed value")
	// ErrUnknownKey means the value names a key id the keyring does not hold.
	ErrUnknownKey = errors.New("unknown seal key")
	// ErrTampered means authentication failed: the value was changed, or it
	// belongs to another purpose, record or key with the same id.
	ErrTampered = errors.New("sealed value failed authentication")
)

const version = "v1"

// gcmOverhead is the random nonce plus the tag of cipher.NewGCMWithRandomNonce.
const gcmOverhead = 12 + 16

// Keyring seals values for one purpose with its active key and opens values
// sealed under any of its keys. It is safe for concurrent use.
type Keyring struct {
	purpose  string
	activeID string
	aeads    map[string]cipher.AEAD // by key id; never written after NewKeyring
	legacy   *wirecrypt.Cipher
	b64      *base64.Encoding // strict, so that every body has one spelling
}

// NewKeyring returns a keyring for purpose that seals with active and also
// opens values sealed under the old keys. Keys must have valid, distinct ids
// and KeySize-byte secrets.
func NewKeyring(purpose string, active Key, old ...Key) (*Keyring, error) {
	if err := checkPurpose(purpose); err != nil {
		return nil, err
	}
	aeads, err := collectKeys(active, old, func(k Key) (cipher.AEAD, error) {
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", k.ID, err)
		}
		aead, err := cipher.NewGCMWithRandomNonce(block)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", k.ID, err)
		}
		return aead, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s keyring: %w", purpose, err)
	}
	return &Keyring{purpose: purpose, activeID: active.ID, aeads: aeads, b64: base64.RawURLEncoding.Strict()}, nil
}

// WithLegacy returns a copy of k that also opens values in the original
// server's format: standard base64 of AES-CBC under a static key and IV, as
// decrypted by c. Such values are not authenticated and ignore aad; Stale
// reports them so they can be resealed. Seal never writes them.
func (k *Keyring) WithLegacy(c *wirecrypt.Cipher) *Keyring {
	k2 := *k
	k2.legacy = c
	return &k2
}

// Seal encrypts plain under the active key, binding the purpose and aad (for
// example the record id; may be nil) to it, and returns the text form
// described in the package documentation. The only error is a keyring not
// made by NewKeyring.
func (k *Keyring) Seal(plain, aad []byte) (string, error) {
	if k == nil || k.aeads == nil {
		return "", errors.New("seal value: keyring not configured")
	}
	aead := k.aeads[k.activeID]
	body := aead.Seal(nil, nil, plain, k.additionalData(k.activeID, aad))
	var sb strings.Builder
	sb.Grow(len(version) + 2 + len(k.activeID) + k.b64.EncodedLen(len(body)))
	sb.WriteString(version)
	sb.WriteByte('.')
	sb.WriteString(k.activeID)
	sb.WriteByte('.')
	// Encode through a stack buffer in chunks of a multiple of 3 bytes, which
	// concatenate to the encoding of the whole body, to save a copy.
	var chunk [1024]byte
	for len(body) > 0 {
		n := min(len(body), 768)
		m := k.b64.EncodedLen(n)
		k.b64.Encode(chunk[:m], body[:n])
		sb.Write(chunk[:m])
		body = body[n:]
	}
	return sb.String(), nil
}

// Open authenticates and decrypts a value made by Seal with the same purpose
// and aad. Errors wrap ErrMalformed, ErrUnknownKey or ErrTampered.
func (k *Keyring) Open(sealed string, aad []byte) ([]byte, error) {
	if k == nil || k.aeads == nil {
		return nil, errors.New("open sealed value: keyring not configured")
	}
	ver, rest, ok := strings.Cut(sealed, ".")
	if !ok {
		// Base64 has no '.', so this may be a value of the original server.
		return k.openLegacy(sealed)
	}
	if ver != version {
		return nil, fmt.Errorf("%w: unsupported version %.8q", ErrMalformed, ver)
	}
	id, text, ok := strings.Cut(rest, ".")
	if !ok {
		return nil, fmt.Errorf("%w: no key id", ErrMalformed)
	}
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w %.40q for %s", ErrUnknownKey, id, k.purpose)
	}
	body, err := k.b64.DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(body) < gcmOverhead {
		return nil, fmt.Errorf("%w: %d bytes, want at least %d", ErrMalformed, len(body), gcmOverhead)
	}
	plain, err := aead.Open(body[:0], nil, body, k.additionalData(id, aad))
	if err != nil {
		return nil, fmt.Errorf("%w (key %s, purpose %s)", ErrTampered, id, k.purpose)
	}
	return plain, nil
}

func (k *Keyring) openLegacy(sealed string) ([]byte, error) {
	if k.legacy == nil {
		return nil, fmt.Errorf("%w: no version prefix", ErrMalformed)
	}
	plain, err := k.legacy.Decrypt([]byte(sealed))
	if err != nil {
		return nil, fmt.Errorf("%w: legacy value: %w", ErrMalformed, err)
	}
	return plain, nil
}

// Stale reports whether sealed is not a current value under the active key:
// sealed under an old key, in the legacy format, or unreadable. It does not
// authenticate the value; use it to pick values to reseal after a rotation.
func (k *Keyring) Stale(sealed string) bool {
	if k == nil {
		return true
	}
	rest, ok := strings.CutPrefix(sealed, version+".")
	if !ok {
		return true
	}
	rest, ok = strings.CutPrefix(rest, k.activeID+".")
	return !ok || rest == ""
}

// additionalData is the GCM additional data: the value's header, the purpose
// and the caller's aad. Key ids have no '.' and purposes no NUL, so the
// encoding is unambiguous.
func (k *Keyring) additionalData(id string, aad []byte) []byte {
	ad := make([]byte, 0, len(version)+len(id)+len(k.purpose)+3+len(aad))
	ad = append(ad, version...)
	ad = append(ad, '.')
	ad = append(ad, id...)
	ad = append(ad, '.')
	ad = append(ad, k.purpose...)
	ad = append(ad, 0)
	return append(ad, aad...)
}
