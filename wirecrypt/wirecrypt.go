// Package wirecrypt implements the body encryption of paymentctl's HTTP
// protocol, so that the server's middleware, the Go SDK and the ops tools
// can speak it without depending on gin. There are two formats.
//
// Cipher is the original payment server's format, the default and the only
// one its TypeScript SDK speaks: AES-CBC with PKCS#7 padding, rendered as
// standard base64 with padding. The key and the IV are the UTF-8 bytes of two
// configured strings (not hex or base64 decoded): a 16, 24 or 32 byte key
// selects AES-128, AES-192 or AES-256, and the IV is always 16 bytes. The same
// key and IV are used for requests, responses and outbound webhooks, so equal
// plaintexts give equal ciphertexts.
//
// That format is unauthenticated and the IV is static: it keeps bodies away
// from casual observers but does not protect them from tampering or replay,
// and a server that answers bad padding differently from bad JSON, in words
// or in time, turns itself into a padding oracle. DecryptUniform is the
// decryption for such a server: it does the same work whatever is wrong with
// its input.
//
// GCM is the opt-in authenticated format (AES-256-GCM, media type
// GCMContentType): see its documentation.
package wirecrypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
)

// ContentType is the media type of bodies in the original's CBC format, on
// requests and responses.
const ContentType = "text/plain"

// ErrMalformed is wrapped by every error the Decrypt methods return: the
// text is not base64, is not a whole number of AES blocks, does not end in
// valid PKCS#7 padding or (GCM) does not authenticate.
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
	return c.AppendEncrypt(nil, plain)
}

// AppendEncrypt appends Encrypt(plain) to dst and returns the extended
// buffer. When dst has room for the text and the ciphertext (about
// 2.4 × len(plain)) it allocates only the CBC mode's small state, so that
// a caller reusing dst encrypts without garbage; the ciphertext is left in
// the spare capacity. plain and dst must not overlap.
func (c *Cipher) AppendEncrypt(dst, plain []byte) []byte {
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	size := len(plain) + pad
	textLen := base64.StdEncoding.EncodedLen(size)
	start := len(dst)
	dst = slices.Grow(dst, textLen+size)
	// The ciphertext goes after the text's room, so that encoding it
	// never overwrites what it has yet to read.
	buf := dst[start+textLen : start+textLen+size]
	copy(buf, plain)
	for i := len(plain); i < size; i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(c.block, c.iv[:]).CryptBlocks(buf, buf)
	base64.StdEncoding.Encode(dst[start:start+textLen], buf)
	return dst[:start+textLen]
}

// Decrypt decodes base64 text, decrypts it and strips the padding. Leading
// and trailing whitespace and embedded line breaks are ignored. Every error
// wraps ErrMalformed and says what was wrong; an empty text is an error too,
// because even an empty plaintext encrypts to one block. A server answering
// untrusted clients uses DecryptUniform instead.
func (c *Cipher) Decrypt(text []byte) ([]byte, error) {
	plain, ok := c.DecryptUniform(text)
	if ok {
		return plain, nil
	}
	// Only the explanation is computed here, after the fact.
	text = bytes.TrimSpace(text)
	n, err := base64.StdEncoding.Decode(make([]byte, base64.StdEncoding.DecodedLen(len(text))), text)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: invalid base64: %w", ErrMalformed, err)
	case n == 0 || n%aes.BlockSize != 0:
		return nil, fmt.Errorf("%w: ciphertext is %d bytes long, want a positive multiple of %d", ErrMalformed, n, aes.BlockSize)
	}
	return nil, fmt.Errorf("%w: invalid padding", ErrMalformed)
}

// DecryptUniform decrypts like Decrypt but reports only whether text was
// valid, after the same work whatever was wrong with it: text that is not
// base64 or not a positive number of blocks is still decrypted (what
// decoded, zero-filled to whole blocks, at least one), and the padding is
// always checked in constant time. When ok is false, plain holds the bytes
// that decryption produced, all but the last block (garbage, never to be
// used): a caller that validates the plaintext further (as JSON, say) runs
// the same checks on it whether or not the padding was right, so neither
// its answer nor its timing tells the two apart.
func (c *Cipher) DecryptUniform(text []byte) (plain []byte, ok bool) {
	text = bytes.TrimSpace(text)
	buf := make([]byte, base64.StdEncoding.DecodedLen(len(text))+aes.BlockSize)
	n, err := base64.StdEncoding.Decode(buf, text)
	ok = err == nil && n > 0 && n%aes.BlockSize == 0
	size := max(aes.BlockSize, (n+aes.BlockSize-1)/aes.BlockSize*aes.BlockSize)
	buf = buf[:size]
	cipher.NewCBCDecrypter(c.block, c.iv[:]).CryptBlocks(buf, buf)
	pad, good := padLen(buf)
	cut := subtle.ConstantTimeSelect(good, pad, aes.BlockSize)
	return buf[:size-cut], ok && good == 1
}

// padLen returns the PKCS#7 padding length of b, whose length is a positive
// multiple of the block size, and 1 when the padding is valid (0 when not).
// It inspects the last block in constant time so that timing does not tell
// how much of the padding was right.
func padLen(b []byte) (int, int) {
	last := b[len(b)-aes.BlockSize:]
	p := int(last[aes.BlockSize-1])
	good := subtle.ConstantTimeLessOrEq(1, p) & subtle.ConstantTimeLessOrEq(p, aes.BlockSize)
	for i := range aes.BlockSize {
		inPad := subtle.ConstantTimeLessOrEq(i+1, p)
		eq := subtle.ConstantTimeByteEq(last[aes.BlockSize-1-i], byte(p))
		good &= subtle.ConstantTimeSelect(inPad, eq, 1)
	}
	return p, good
}
