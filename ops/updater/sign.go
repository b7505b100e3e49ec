package updater

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The headers of a signed request.
const (
	HeaderTimestamp = "X-Paymentctl-Timestamp"
	HeaderNonce     = "X-Paymentctl-Nonce"
	HeaderSignature = "X-Paymentctl-Signature"
)

// MaxSkew is how far a request's timestamp may be from the receiver's
// clock, in either direction.
const MaxSkew = 60 * time.Second

// keyLabel is the HKDF info of the channel key, and signPrefix opens every
// signed string: both name the protocol version, so a key or a signature of
// another use of the system password never verifies here.
const (
	keyLabel   = "paymentctl updater channel v1"
	signPrefix = "paymentctl-updater-v1"
	sigScheme  = "v1="
	keyLength  = 32
	nonceBytes = 16
)

// maxNonces bounds the replay cache. Only requests with a valid signature
// are remembered, and each for twice MaxSkew, so the bound is reached only
// by a peer that holds the key and sends over 800 requests a second; the
// verifier then refuses requests until entries expire (it fails closed).
const maxNonces = 100_000

// Errors of Verify, matched with errors.Is.
var (
	// ErrUnsigned is a request without the three signature headers.
	ErrUnsigned = errors.New("request is not signed")
	// ErrStale is a timestamp outside MaxSkew of the receiver's clock.
	ErrStale = errors.New("request timestamp outside the allowed window")
	// ErrBadSignature is a signature that does not match the request.
	ErrBadSignature = errors.New("request signature does not match")
	// ErrReplay is a nonce already seen within the window.
	ErrReplay = errors.New("request nonce already used")
)

// DeriveKey returns the HMAC-SHA256 key of the control channel: HKDF-SHA256
// of the shared system password with a fixed label. The password itself
// never leaves the process.
func DeriveKey(password string) ([]byte, error) {
	if password == "" {
		return nil, errors.New("derive updater key: the system password is empty")
	}
	key, err := hkdf.Key(sha256.New, []byte(password), nil, keyLabel, keyLength)
	if err != nil {
		return nil, fmt.Errorf("derive updater key: %w", err)
	}
	return key, nil
}

// Signer signs outgoing requests. It is safe for concurrent use.
type Signer struct {
	key []byte
	now func() time.Time
}

// NewSigner returns a Signer with key (from DeriveKey). now reads the clock;
// nil means time.Now.
func NewSigner(key []byte, now func() time.Time) *Signer {
	if now == nil {
		now = time.Now
	}
	return &Signer{key: key, now: now}
}

// Sign sets the timestamp, a fresh random nonce and the signature of r,
// whose body must be body (nil for none).
func (s *Signer) Sign(r *http.Request, body []byte) {
	var raw [nonceBytes]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails since Go 1.24.
	ts := strconv.FormatInt(s.now().Unix(), 10)
	nonce := hex.EncodeToString(raw[:])
	r.Header.Set(HeaderTimestamp, ts)
	r.Header.Set(HeaderNonce, nonce)
	r.Header.Set(HeaderSignature, sigScheme+hex.EncodeToString(mac(s.key, r.Method, r.URL.RequestURI(), ts, nonce, body)))
}

// mac is the HMAC-SHA256 of the request's method, target (path and query),
// timestamp, nonce and the SHA-256 of its body, one per line.
func mac(key []byte, method, target, ts, nonce string, body []byte) []byte {
	sum := sha256.Sum256(body)
	h := hmac.New(sha256.New, key)
	for _, part := range []string{signPrefix, method, target, ts, nonce} {
		h.Write([]byte(part))
		h.Write([]byte{'\n'})
	}
	h.Write([]byte(hex.EncodeToString(sum[:])))
	return h.Sum(nil)
}

// Verifier checks incoming requests and remembers their nonces. It is safe
// for concurrent use.
type Verifier struct {
	key []byte
	now func() time.Time

	mu     sync.Mutex
	nonces map[string]time.Time // nonce → when it may be forgotten
	pruned time.Time            // when expired nonces were last dropped
	max    int
}

// NewVerifier returns a Verifier with key (from DeriveKey). now reads the
// clock; nil means time.Now.
func NewVerifier(key []byte, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{key: key, now: now, nonces: make(map[string]time.Time), max: maxNonces}
}

// Verify checks that r, whose body is body, carries a valid signature made
// with the verifier's key within MaxSkew of now, with a nonce not seen
// before; it then remembers the nonce. The signature is compared in
// constant time. Errors wrap ErrUnsigned, ErrStale, ErrBadSignature or
// ErrReplay.
func (v *Verifier) Verify(r *http.Request, body []byte) error {
	ts, nonce, sig := r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderNonce), r.Header.Get(HeaderSignature)
	if ts == "" || nonce == "" || sig == "" {
		return ErrUnsigned
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not a number", ErrStale, ts)
	}
	now := v.now()
	skew := now.Sub(time.Unix(secs, 0))
	if skew > MaxSkew || skew < -MaxSkew {
		return fmt.Errorf("%w: %s off (allowed %s; check the clocks)", ErrStale, skew.Round(time.Second), MaxSkew)
	}
	if raw, err := hex.DecodeString(nonce); err != nil || len(raw) != nonceBytes {
		return fmt.Errorf("%w: malformed nonce", ErrBadSignature)
	}
	got, err := hex.DecodeString(stripScheme(sig))
	if err != nil {
		return fmt.Errorf("%w: malformed signature", ErrBadSignature)
	}
	if !hmac.Equal(got, mac(v.key, r.Method, r.URL.RequestURI(), ts, nonce, body)) {
		return ErrBadSignature
	}
	return v.remember(nonce, now)
}

// stripScheme removes the "v1=" prefix; a signature without it cannot match.
func stripScheme(sig string) string {
	if len(sig) > len(sigScheme) && sig[:len(sigScheme)] == sigScheme {
		return sig[len(sigScheme):]
	}
	return "not-a-signature"
}

// remember records nonce until it can no longer pass the time check, and
// refuses one already recorded.
func (v *Verifier) remember(nonce string, now time.Time) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if until, ok := v.nonces[nonce]; ok && now.Before(until) {
		return ErrReplay
	}
	if len(v.nonces) >= v.max || now.Sub(v.pruned) > MaxSkew {
		v.pruned = now
		for n, until := range v.nonces {
			if !now.Before(until) {
				delete(v.nonces, n)
			}
		}
		if len(v.nonces) >= v.max {
			return fmt.Errorf("%w: replay cache full, retry later", ErrReplay)
		}
	}
	// A timestamp up to MaxSkew ahead is accepted until now+2·MaxSkew.
	v.nonces[nonce] = now.Add(2 * MaxSkew)
	return nil
}
