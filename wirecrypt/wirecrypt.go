// Package wirecrypt implements the body encryption of the original payment
// server's HTTP protocol, so that the server's middleware, the Go SDK and the
// ops tools can speak it without depending on gin.
//
// The format is AES-CBC with PKCS#7 padding, rendered as standard base64 with
// padding. The key and the IV are the UTF-8 bytes of two configured strings
// (not hex or base64 decoded): a 16, 24 or 32 byte key selects AES-128,
// AES-192 or AES-256, and the IV is always 16 bytes. The same key and IV are
// used for requests, responses and outbound webhooks, so equal plaintexts give
// equal ciphertexts.
//
// The format is unauthenticated and the IV is static: it keeps bodies away from
// casual observers but does not protect them from tampering or replay, and a
// caller that reports different errors for bad padding and for bad JSON turns
// the server into a padding oracle. Callers should answer every decryption
// failure with one generic message.
package wirecrypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
)

// ContentType is the media type of encrypted bodies, on requests and responses.
const ContentType = "text/plain"

// ErrMalformed is wrapped by every error Decrypt returns: the text is not
// base64, is not a whole number of AES blocks, or does not end in valid
// PKCS#7 padding.
var ErrMalformed = errors.New("malformed encrypted body")

// Cipher encrypts and decrypts bodies with one key and IV. It is safe for
// concurrent use.
type Cipher struct {
	block cipher.Block
	iv    [aes.BlockSize]byte
}

// New returns a Cipher for the given key and IV strings. The key must be 16,
// 24 or 32 bytes of UTF-8 and the IV 16 bytes.
func New(key, iv string) (*Cipher, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("aes key is %d bytes long, want 16, 24 or 32 (AES-128, AES-192 or AES-256)", len(key))
	}
	if len(iv) != aes.BlockSize {
		return nil, fmt.Errorf("aes iv is %d bytes long, want %d", len(iv), aes.BlockSize)
	}
	block, err := aes.NewCipher([]byte(key))
	if err != nil {
		return nil, fmt.Errorf("create aes cipher: %w", err)
	}
	c := &Cipher{block: block}
	copy(c.iv[:], iv)
	return c, nil
}

// Encrypt pads and encrypts plain and returns the ciphertext as standard
// base64 text. An empty plain gives one block of padding.
func (c *Cipher) Encrypt(plain []byte) []byte {
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := make([]byte, len(plain)+pad)
	copy(buf, plain)
	for i := len(plain); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(c.block, c.iv[:]).CryptBlocks(buf, buf)
	out := make([]byte, base64.StdEncoding.EncodedLen(len(buf)))
	base64.StdEncoding.Encode(out, buf)
	return out
}

// Decrypt decodes base64 text, decrypts it and strips the padding. Leading
// and trailing whitespace and embedded line breaks are ignored. Every error
// wraps ErrMalformed; an empty text is an error too, because even an empty
// plaintext encrypts to one block.
func (c *Cipher) Decrypt(text []byte) ([]byte, error) {
	text = bytes.TrimSpace(text)
	buf := make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	n, err := base64.StdEncoding.Decode(buf, text)
	if err != nil {
		return nil, fmt.Errorf("%w: invalid base64: %w", ErrMalformed, err)
	}
	buf = buf[:n]
	if n == 0 || n%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: ciphertext is %d bytes long, want a positive multiple of %d", ErrMalformed, n, aes.BlockSize)
	}
	cipher.NewCBCDecrypter(c.block, c.iv[:]).CryptBlocks(buf, buf)
	pad, ok := padLen(buf)
	if !ok {
		return nil, fmt.Errorf("%w: invalid padding", ErrMalformed)
	}
	return buf[:n-pad], nil
}

// padLen returns the PKCS#7 padding length of b, whose length is a positive
// multiple of the block size. It inspects the last block in constant time so
// that timing does not tell how much of the padding was right.
func padLen(b []byte) (int, bool) {
	last := b[len(b)-aes.BlockSize:]
	p := int(last[aes.BlockSize-1])
	good := subtle.ConstantTimeLessOrEq(1, p) & subtle.ConstantTimeLessOrEq(p, aes.BlockSize)
	for i := range aes.BlockSize {
		inPad := subtle.ConstantTimeLessOrEq(i+1, p)
		eq := subtle.ConstantTimeByteEq(last[aes.BlockSize-1-i], byte(p))
		good &= subtle.ConstantTimeSelect(inPad, eq, 1)
	}
	return p, good == 1
}
