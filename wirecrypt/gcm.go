package wirecrypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// GCMContentType is the media type of bodies in the authenticated format. A
// request whose body has this Content-Type, or a request without a body
// whose Accept header names it, is answered in the same format.
const GCMContentType = "application/vnd.paymentctl.aesgcm"

// gcmInfo is the HKDF info string of the GCM key: it keeps the derived key
// apart from the CBC key and from any other use of the same material.
const gcmInfo = "paymentctl wire aes-256-gcm"

// Direction says which way a body travels. It is the additional
// authenticated data of the GCM format, so a captured request body cannot
// be passed off as a response or the reverse.
type Direction uint8

// The directions and the additional data they authenticate.
const (
	// Request is a body sent to the server: AAD "paymentctl request".
	Request Direction = iota + 1
	// Response is a body sent by the server: AAD "paymentctl response".
	Response
)

// aad returns the additional authenticated data of d.
func (d Direction) aad() []byte {
	if d == Response {
		return []byte("paymentctl response")
	}
	return []byte("paymentctl request")
}

// GCM encrypts and decrypts bodies in the authenticated format:
//
//	body  = base64(nonce || ciphertext || tag)   standard alphabet, padded
//	nonce = 12 random bytes, fresh for every body
//	tag   = 16 bytes
//	key   = HKDF-SHA256(secret = the connection key's UTF-8 bytes,
//	                    salt = none, info = "paymentctl wire aes-256-gcm", 32 bytes)
//	AAD   = "paymentctl request" or "paymentctl response" (see Direction)
//
// The key is derived even when the connection key is 32 bytes long already,
// so the CBC and GCM formats never share an AES key; the connection IV is
// not used. A body that was altered, truncated, encrypted under another key
// or for the other direction does not decrypt. Random nonces make equal
// plaintexts encrypt differently. Replays are not detected: a captured body
// still decrypts when sent again. A GCM is safe for concurrent use.
type GCM struct {
	aead cipher.AEAD
}

// NewGCM returns a GCM for the connection key string, which must be 16, 24
// or 32 bytes of UTF-8 as for New; the AES-256 key is derived from it.
func NewGCM(key string) (*GCM, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("aes key is %d bytes long, want 16, 24 or 32", len(key))
	}
	derived, err := hkdf.Key(sha256.New, []byte(key), nil, gcmInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("derive aes-256-gcm key: %w", err)
	}
	block, err := aes.NewCipher(derived)
	if err != nil {
		return nil, fmt.Errorf("create aes cipher: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("create aes-gcm: %w", err)
	}
	return &GCM{aead: aead}, nil
}

// Encrypt encrypts plain for direction d under a fresh random nonce and
// returns the body as standard base64 text.
func (g *GCM) Encrypt(plain []byte, d Direction) []byte {
	sealed := g.aead.Seal(nil, nil, plain, d.aad())
	out := make([]byte, base64.StdEncoding.EncodedLen(len(sealed)))
	base64.StdEncoding.Encode(out, sealed)
	return out
}

// Decrypt decodes base64 text and authenticates and decrypts it as a body
// travelling in direction d. Whitespace is ignored as by Cipher.Decrypt.
// Every error wraps ErrMalformed; no plaintext is released unless the tag
// is right.
func (g *GCM) Decrypt(text []byte, d Direction) ([]byte, error) {
	text = bytes.TrimSpace(text)
	buf := make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	n, err := base64.StdEncoding.Decode(buf, text)
	if err != nil {
		return nil, fmt.Errorf("%w: invalid base64: %w", ErrMalformed, err)
	}
	if n < g.aead.Overhead() {
		return nil, fmt.Errorf("%w: ciphertext is %d bytes long, want at least %d", ErrMalformed, n, g.aead.Overhead())
	}
	plain, err := g.aead.Open(buf[:0], nil, buf[:n], d.aad())
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrMalformed)
	}
	return plain, nil
}
