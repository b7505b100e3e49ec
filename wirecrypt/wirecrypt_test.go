package wirecrypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// The default connection key and IV of the original server's committed .env.
const (
	testKey = "MCKOxv9B23r7EatArCFcBP03nfaS03T8"
	testIV  = "9haeYD1tIf4v8xs7"
)

func mustNew(t testing.TB, key, iv string) *Cipher {
	t.Helper()
	c, err := New(key, iv)
	if err != nil {
		t.Fatalf("New(%q, %q): %v", key, iv, err)
	}
	return c
}

// rawEncrypt encrypts blocks with AES-CBC and no padding, so tests can build
// ciphertexts whose plaintext ends in arbitrary (also invalid) padding.
func rawEncrypt(t *testing.T, key, iv string, blocks []byte) []byte {
	t.Helper()
	b, err := aes.NewCipher([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, len(blocks))
	cipher.NewCBCEncrypter(b, []byte(iv)).CryptBlocks(out, blocks)
	return []byte(base64.StdEncoding.EncodeToString(out))
}

func TestVectors(t *testing.T) {
	// From the reference, computed with Node's crypto and the default key/iv.
	tests := []struct {
		name  string
		plain string
		text  string
	}{
		{"json", `{"password":"some-password"}`, "/Lu96CDAgYv09JxV0IsOQy8H7LuG9o4QJ29eZjgYjeI="},
		{"empty", "", "bp8N4w+BzXeMbfWPDJIguQ=="},
	}
	c := mustNew(t, testKey, testIV)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(c.Encrypt([]byte(tt.plain))); got != tt.text {
				t.Errorf("Encrypt(%q) = %q, want %q", tt.plain, got, tt.text)
			}
			got, err := c.Decrypt([]byte(tt.text))
			if err != nil {
				t.Fatalf("Decrypt(%q): %v", tt.text, err)
			}
			if string(got) != tt.plain {
				t.Errorf("Decrypt(%q) = %q, want %q", tt.text, got, tt.plain)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	keys := map[string]string{
		"aes128": "0123456789abcdef",
		"aes192": "0123456789abcdef01234567",
		"aes256": testKey,
		// Three bytes per rune: 8 runes are 24 bytes, so AES-192.
		"aes192 utf8": "가나다라마바사아",
	}
	plains := []string{"", "a", "0123456789abcde", "0123456789abcdef", "0123456789abcdef0", `{"amount":10000,"name":"결제"}`, strings.Repeat("x", 2048)}
	for name, key := range keys {
		t.Run(name, func(t *testing.T) {
			c := mustNew(t, key, testIV)
			for _, p := range plains {
				text := c.Encrypt([]byte(p))
				if _, err := base64.StdEncoding.DecodeString(string(text)); err != nil {
					t.Fatalf("Encrypt(%q) = %q is not standard base64: %v", p, text, err)
				}
				if want := (len(p)/aes.BlockSize + 1) * aes.BlockSize; base64.StdEncoding.DecodedLen(len(text)) < want {
					t.Errorf("Encrypt(%q) is %d base64 bytes, too short for %d ciphertext bytes", p, len(text), want)
				}
				got, err := c.Decrypt(text)
				if err != nil {
					t.Fatalf("Decrypt(Encrypt(%q)): %v", p, err)
				}
				if string(got) != p {
					t.Errorf("Decrypt(Encrypt(%q)) = %q", p, got)
				}
			}
		})
	}
}

func TestKeySizeMatters(t *testing.T) {
	// A 16-byte prefix of the key must not decrypt what the full key sealed:
	// the key length picks the AES variant, it is not truncated.
	full := mustNew(t, testKey, testIV)
	short := mustNew(t, testKey[:16], testIV)
	text := full.Encrypt([]byte(`{"password":"some-password"}`))
	if got, err := short.Decrypt(text); err == nil && string(got) == `{"password":"some-password"}` {
		t.Errorf("AES-128 with the key prefix decrypted an AES-256 ciphertext")
	}
}

func TestDecryptWhitespace(t *testing.T) {
	c := mustNew(t, testKey, testIV)
	const want = `{"password":"some-password"}`
	for _, text := range []string{
		"/Lu96CDAgYv09JxV0IsOQy8H7LuG9o4QJ29eZjgYjeI=\n",
		"  /Lu96CDAgYv09JxV0IsOQy8H7LuG9o4QJ29eZjgYjeI=\r\n",
		"\t/Lu96CDAgYv09JxV0IsOQy8H7LuG9o4QJ29eZjgYjeI= ",
		"/Lu96CDAgYv09JxV0IsOQy8H7\r\nLuG9o4QJ29eZjgYjeI=",
	} {
		got, err := c.Decrypt([]byte(text))
		if err != nil {
			t.Errorf("Decrypt(%q): %v", text, err)
			continue
		}
		if string(got) != want {
			t.Errorf("Decrypt(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name, key, iv string
		wantSub       string
	}{
		{"empty key", "", testIV, "key is 0 bytes"},
		{"short key", "0123456789", testIV, "key is 10 bytes"},
		{"key 31", testKey[:31], testIV, "key is 31 bytes"},
		{"key 33", testKey + "x", testIV, "key is 33 bytes"},
		{"utf8 key counts bytes", "가나다라마바", testIV, "key is 18 bytes"},
		{"short iv", testKey, "0123456789", "iv is 10 bytes"},
		{"long iv", testKey, testIV + "x", "iv is 17 bytes"},
		{"empty iv", testKey, "", "iv is 0 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.key, tt.iv)
			if err == nil {
				t.Fatalf("New(%q, %q) = %v, want error", tt.key, tt.iv, c)
			}
			if !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("New(%q, %q) error = %q, want it to mention %q", tt.key, tt.iv, err, tt.wantSub)
			}
		})
	}
}

func TestDecryptErrors(t *testing.T) {
	block := func(last ...byte) []byte {
		b := bytes.Repeat([]byte{'a'}, aes.BlockSize)
		copy(b[aes.BlockSize-len(last):], last)
		return b
	}
	other := mustNew(t, "0123456789abcdef0123456789abcdef", testIV).Encrypt([]byte(`{"password":"some-password"}`))
	tests := []struct {
		name    string
		text    []byte
		wantSub string
	}{
		{"empty", nil, "0 bytes long"},
		{"only whitespace", []byte(" \n"), "0 bytes long"},
		{"not base64", []byte("{\"password\":1}"), "invalid base64"},
		{"url alphabet", []byte("_Lu96CDAgYv09JxV0IsOQy8H7LuG9o4QJ29eZjgYjeI="), "invalid base64"},
		{"missing padding", []byte("bp8N4w+BzXeMbfWPDJIguQ"), "invalid base64"},
		{"inner space", []byte("bp8N4w+B zXeMbfWPDJIguQ=="), "invalid base64"},
		{"short block", []byte(base64.StdEncoding.EncodeToString(make([]byte, 15))), "15 bytes long"},
		{"block and a half", []byte(base64.StdEncoding.EncodeToString(make([]byte, 24))), "24 bytes long"},
		{"pad zero", rawEncrypt(t, testKey, testIV, block(0)), "invalid padding"},
		{"pad 17", rawEncrypt(t, testKey, testIV, block(17)), "invalid padding"},
		{"pad 255", rawEncrypt(t, testKey, testIV, block(255)), "invalid padding"},
		{"pad inconsistent", rawEncrypt(t, testKey, testIV, block(3, 2, 3)), "invalid padding"},
		{"wrong key", other, "invalid padding"},
	}
	c := mustNew(t, testKey, testIV)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Decrypt(tt.text)
			if err == nil {
				t.Fatalf("Decrypt(%q) = %q, want error", tt.text, got)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("Decrypt(%q) error %q does not wrap ErrMalformed", tt.text, err)
			}
			if !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("Decrypt(%q) error = %q, want it to mention %q", tt.text, err, tt.wantSub)
			}
		})
	}
}

func TestPadLen(t *testing.T) {
	full := bytes.Repeat([]byte{16}, 16)
	tests := []struct {
		name   string
		b      []byte
		want   int
		wantOK bool
	}{
		{"one", append(bytes.Repeat([]byte{'x'}, 15), 1), 1, true},
		{"two", append(bytes.Repeat([]byte{'x'}, 14), 2, 2), 2, true},
		{"full block", full, 16, true},
		{"full block after data", append(bytes.Repeat([]byte{'x'}, 16), full...), 16, true},
		{"fifteen", append([]byte{'x'}, bytes.Repeat([]byte{15}, 15)...), 15, true},
		{"zero", append(bytes.Repeat([]byte{'x'}, 15), 0), 0, false},
		{"seventeen", append(bytes.Repeat([]byte{17}, 15), 17), 0, false},
		{"short run", append(bytes.Repeat([]byte{'x'}, 14), 'x', 2), 0, false},
		{"hole", append(append(bytes.Repeat([]byte{'x'}, 12), 4, 4, 9), 4), 0, false},
		{"full block one wrong", append([]byte{15}, bytes.Repeat([]byte{16}, 15)...), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, good := padLen(tt.b)
			ok := good == 1
			if ok != tt.wantOK || (ok && got != tt.want) {
				t.Errorf("padLen(%v) = %d, %v, want %d, %v", tt.b, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	// The original's static IV makes ciphertexts deterministic; clients may
	// rely on it (for example to compare bodies), so keep it.
	c := mustNew(t, testKey, testIV)
	a, b := c.Encrypt([]byte("same")), c.Encrypt([]byte("same"))
	if !bytes.Equal(a, b) {
		t.Errorf("Encrypt is not deterministic: %q != %q", a, b)
	}
}

func TestEncryptKeepsInput(t *testing.T) {
	c := mustNew(t, testKey, testIV)
	in := []byte(`{"password":"some-password"}`)
	orig := bytes.Clone(in)
	c.Encrypt(in)
	if !bytes.Equal(in, orig) {
		t.Errorf("Encrypt modified its input: %q", in)
	}
}

func TestAppendEncrypt(t *testing.T) {
	c := mustNew(t, testKey, testIV)
	tests := []struct {
		name  string
		dst   []byte
		plain string
	}{
		{"nil dst, empty plain", nil, ""},
		{"nil dst", nil, `{"password":"some-password"}`},
		{"prefix kept", []byte("prefix:"), strings.Repeat("z", 16)},
		{"reused buffer", make([]byte, 0, 4096), strings.Repeat("0123456789abcdef", 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := string(tt.dst)
			got := c.AppendEncrypt(tt.dst, []byte(tt.plain))
			want := prefix + string(c.Encrypt([]byte(tt.plain)))
			if string(got) != want {
				t.Errorf("AppendEncrypt(%q, %q) = %q, want %q", prefix, tt.plain, got, want)
			}
		})
	}
}

func TestAppendEncryptNoAlloc(t *testing.T) {
	c := mustNew(t, testKey, testIV)
	plain := bytes.Repeat([]byte("0123456789abcdef"), 128)
	buf := make([]byte, 0, 8192)
	// The one allocation is the CBC mode's state (crypto/cipher).
	if n := testing.AllocsPerRun(100, func() { buf = c.AppendEncrypt(buf[:0], plain) }); n > 1 {
		t.Errorf("AppendEncrypt into a buffer with room: %v allocations, want at most 1", n)
	}
}

func FuzzDecrypt(f *testing.F) {
	c := mustNew(f, testKey, testIV)
	for _, s := range []string{
		"/Lu96CDAgYv09JxV0IsOQy8H7LuG9o4QJ29eZjgYjeI=",
		"bp8N4w+BzXeMbfWPDJIguQ==",
		"", "=", "====", "AAAA", "bp8N4w+BzXeMbfWPDJIguQ", " \r\n",
		base64.StdEncoding.EncodeToString(make([]byte, 32)),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		plain, err := c.Decrypt(text)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decrypt(%q) error %q does not wrap ErrMalformed", text, err)
			}
			return
		}
		// Whatever decrypted must survive a round trip unchanged.
		again, err := c.Decrypt(c.Encrypt(plain))
		if err != nil {
			t.Fatalf("Decrypt(Encrypt(%q)): %v", plain, err)
		}
		if !bytes.Equal(again, plain) {
			t.Fatalf("Decrypt(Encrypt(%q)) = %q", plain, again)
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	c := mustNew(f, testKey, testIV)
	for _, s := range []string{"", "a", `{"password":"some-password"}`, strings.Repeat("z", 16)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, plain []byte) {
		text := c.Encrypt(plain)
		got, err := c.Decrypt(text)
		if err != nil {
			t.Fatalf("Decrypt(Encrypt(%q)): %v", plain, err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("Decrypt(Encrypt(%q)) = %q", plain, got)
		}
	})
}

func BenchmarkEncrypt2KiB(b *testing.B) {
	c := mustNew(b, testKey, testIV)
	plain := bytes.Repeat([]byte("0123456789abcdef"), 128)
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		c.Encrypt(plain)
	}
}

func BenchmarkAppendEncrypt2KiB(b *testing.B) {
	c := mustNew(b, testKey, testIV)
	plain := bytes.Repeat([]byte("0123456789abcdef"), 128)
	var buf []byte
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		buf = c.AppendEncrypt(buf[:0], plain)
	}
}

func BenchmarkDecrypt2KiB(b *testing.B) {
	c := mustNew(b, testKey, testIV)
	text := c.Encrypt(bytes.Repeat([]byte("0123456789abcdef"), 128))
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Decrypt(text); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDecryptUniform(t *testing.T) {
	c := mustNew(t, testKey, testIV)
	const plain = `{"password":"some-password"}`
	good := c.Encrypt([]byte(plain))
	raw, _ := base64.StdEncoding.DecodeString(string(good))
	// Flipping a bit of the first block garbles the first plaintext block and
	// flips the same bit of the second: here its padding byte, so the
	// padding is wrong while the length and base64 are right.
	badPad := bytes.Clone(raw)
	badPad[aes.BlockSize-1] ^= 0x10
	tests := []struct {
		name    string
		text    []byte
		wantOK  bool
		wantLen int // of plain: the plaintext, or all but the last block
	}{
		{"valid", good, true, len(plain)},
		{"bad padding", []byte(base64.StdEncoding.EncodeToString(badPad)), false, len(raw) - aes.BlockSize},
		{"not base64", []byte("{\"password\":1}"), false, 0},
		{"empty", nil, false, 0},
		{"short block", []byte(base64.StdEncoding.EncodeToString(make([]byte, 15))), false, 0},
		{"block and a half", []byte(base64.StdEncoding.EncodeToString(make([]byte, 24))), false, aes.BlockSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := c.DecryptUniform(tt.text)
			if ok != tt.wantOK || len(got) != tt.wantLen {
				t.Errorf("DecryptUniform(%q) = %d bytes, %v; want %d bytes, %v", tt.text, len(got), ok, tt.wantLen, tt.wantOK)
			}
			if ok && string(got) != plain {
				t.Errorf("DecryptUniform(%q) = %q, want %q", tt.text, got, plain)
			}
		})
	}
}

// BenchmarkDecryptUniform compares bodies of one length that fail in
// different ways (or do not): the times should not tell them apart.
func BenchmarkDecryptUniform(b *testing.B) {
	c := mustNew(b, testKey, testIV)
	good := c.Encrypt([]byte(`{"password":"some-password"}`))
	raw, _ := base64.StdEncoding.DecodeString(string(good))
	var rightPad, wrongPad []byte
	for v := 1; v < 256 && (rightPad == nil || wrongPad == nil); v++ {
		x := bytes.Clone(raw)
		x[aes.BlockSize-1] ^= byte(v)
		text := []byte(base64.StdEncoding.EncodeToString(x))
		if _, ok := c.DecryptUniform(text); ok && rightPad == nil {
			rightPad = text
		} else if !ok && wrongPad == nil {
			wrongPad = text
		}
	}
	notBase64 := bytes.Repeat([]byte{'!'}, len(good))
	for _, tt := range []struct {
		name string
		text []byte
	}{{"valid", good}, {"padding_right", rightPad}, {"padding_wrong", wrongPad}, {"not_base64", notBase64}} {
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				c.DecryptUniform(tt.text)
			}
		})
	}
}
