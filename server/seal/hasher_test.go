package seal

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func mustHasher(t testing.TB, active Key, old ...Key) *Hasher {
	t.Helper()
	h, err := NewHasher(active, old...)
	if err != nil {
		t.Fatalf("NewHasher: %v", err)
	}
	return h
}

func mustBcrypt(t testing.TB, password string) string {
	t.Helper()
	b, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHasherRoundTrip(t *testing.T) {
	h := mustHasher(t, testKey("p1", 1))
	for _, pw := range []string{"some-password", "", "비밀번호", strings.Repeat("x", 200), "with$dollar"} {
		stored := h.Hash(pw)
		parts := strings.Split(stored, "$")
		if len(parts) != 4 || parts[0] != "hmac-sha256" || parts[1] != "p1" {
			t.Errorf("Hash(%q) = %q, want hmac-sha256$p1$<salt>$<mac>", pw, stored)
		}
		if strings.Contains(stored, pw) && pw != "" {
			t.Errorf("Hash(%q) = %q contains the password", pw, stored)
		}
		if !h.Verify(stored, pw) {
			t.Errorf("Verify(Hash(%q), %q) = false", pw, pw)
		}
		for _, wrong := range []string{pw + "x", strings.ToUpper(pw) + "X", pw[:len(pw)/2] + "?"} {
			if h.Verify(stored, wrong) {
				t.Errorf("Verify(Hash(%q), %q) = true", pw, wrong)
			}
		}
		if h.NeedsRehash(stored) {
			t.Errorf("NeedsRehash(%q) = true for a current hash", stored)
		}
	}
}

func TestHasherSalted(t *testing.T) {
	h := mustHasher(t, testKey("p1", 1))
	a, b := h.Hash("same"), h.Hash("same")
	if a == b {
		t.Errorf("two hashes of the same password are equal: %q", a)
	}
}

func TestHasherKeys(t *testing.T) {
	p1, p2 := testKey("p1", 1), testKey("p2", 2)
	before := mustHasher(t, p1)
	after := mustHasher(t, p2, p1)
	other := mustHasher(t, Key{ID: "p1", Secret: testKey("", 9).Secret})

	old := before.Hash("pw")
	if !after.Verify(old, "pw") {
		t.Errorf("hash under an old key does not verify after rotation")
	}
	if !after.NeedsRehash(old) {
		t.Errorf("NeedsRehash(hash under old key) = false")
	}
	if fresh := after.Hash("pw"); !strings.HasPrefix(fresh, "hmac-sha256$p2$") || before.Verify(fresh, "pw") {
		t.Errorf("after rotation Hash = %q, want key p2 and unknown to the old hasher", fresh)
	}
	if other.Verify(old, "pw") {
		t.Errorf("a hash verified under another secret with the same id")
	}
	if _, err := NewHasher(Key{ID: "p1", Secret: []byte("short")}); err == nil {
		t.Errorf("NewHasher accepted a 5-byte secret")
	}
	if _, err := NewHasher(p1, testKey("p1", 7)); err == nil {
		t.Errorf("NewHasher accepted two secrets with one id")
	}
}

func TestHasherBcrypt(t *testing.T) {
	h := mustHasher(t, testKey("p1", 1))
	stored := mustBcrypt(t, "some-password")
	if !strings.HasPrefix(stored, "$2a$04$") {
		t.Fatalf("bcrypt hash %q, want $2a$04$", stored)
	}
	long := strings.Repeat("0123456789", 7) + "ab" // 72 bytes, bcrypt's limit
	longStored := mustBcrypt(t, long)
	tests := []struct {
		name     string
		stored   string
		password string
		want     bool
	}{
		{"2a", stored, "some-password", true},
		{"2a wrong", stored, "some-passwore", false},
		{"2a empty", stored, "", false},
		{"2b", "$2b$" + stored[4:], "some-password", true},
		{"2y", "$2y$" + stored[4:], "some-password", true},
		{"2x not accepted", "$2x$" + stored[4:], "some-password", false},
		{"2 not accepted", "$2$" + stored[4:], "some-password", false},
		{"corrupt", stored[:len(stored)-5], "some-password", false},
		// Known answer from the crypt_blowfish test vectors.
		{"vector", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U", true},
		{"vector wrong", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*V", false},
		// bcryptjs (and bcrypt) read only the first 72 bytes.
		{"72 bytes", longStored, long, true},
		{"beyond 72 bytes ignored", longStored, long + "tail", true},
		{"within 72 bytes counts", longStored, long[:71] + "X", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.Verify(tt.stored, tt.password); got != tt.want {
				t.Errorf("Verify(%q, %q) = %v, want %v", tt.stored, tt.password, got, tt.want)
			}
		})
	}
	if !h.NeedsRehash(stored) {
		t.Errorf("NeedsRehash(bcrypt) = false, want true")
	}
}

func TestHasherRejectsMalformed(t *testing.T) {
	h := mustHasher(t, testKey("p1", 1))
	good := h.Hash("pw")
	parts := strings.Split(good, "$")
	tests := map[string]string{
		"empty":          "",
		"plain password": "pw",
		"scheme only":    "hmac-sha256",
		"three parts":    strings.Join(parts[:3], "$"),
		"five parts":     good + "$x",
		"other scheme":   "hmac-sha512$" + strings.Join(parts[1:], "$"),
		"unknown key":    "hmac-sha256$p9$" + strings.Join(parts[2:], "$"),
		"short salt":     "hmac-sha256$p1$" + parts[2][:10] + "$" + parts[3],
		"short mac":      strings.Join(parts[:3], "$") + "$" + parts[3][:40],
		"bad base64":     strings.Join(parts[:3], "$") + "$" + "!" + parts[3][1:],
		"padded base64":  good + "=",
		"other salt":     "hmac-sha256$p1$" + strings.Repeat("A", len(parts[2])) + "$" + parts[3],
	}
	for name, stored := range tests {
		t.Run(name, func(t *testing.T) {
			if h.Verify(stored, "pw") {
				t.Errorf("Verify(%q, pw) = true", stored)
			}
			if !h.NeedsRehash(stored) && name != "other salt" {
				t.Errorf("NeedsRehash(%q) = false", stored)
			}
		})
	}
}

// TestVerifyConstantTime guards the source: MACs must be compared with
// hmac.Equal (or crypto/subtle), never with bytes.Equal or ==, which stop at
// the first differing byte.
func TestVerifyConstantTime(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "hasher.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var constantTime, variableTime []string
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		pkg, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		switch name := pkg.Name + "." + sel.Sel.Name; name {
		case "hmac.Equal", "subtle.ConstantTimeCompare":
			constantTime = append(constantTime, fset.Position(sel.Pos()).String())
		case "bytes.Equal", "bytes.Compare", "strings.EqualFold", "strings.Compare":
			variableTime = append(variableTime, name+" at "+fset.Position(sel.Pos()).String())
		}
		return true
	})
	if len(constantTime) == 0 {
		t.Errorf("hasher.go does not call hmac.Equal or subtle.ConstantTimeCompare")
	}
	if len(variableTime) > 0 {
		t.Errorf("hasher.go uses variable-time comparisons: %v", variableTime)
	}
}

func BenchmarkHash(b *testing.B) {
	h := mustHasher(b, testKey("p1", 1))
	b.ReportAllocs()
	for b.Loop() {
		h.Hash("some-password")
	}
}

func BenchmarkVerify(b *testing.B) {
	h := mustHasher(b, testKey("p1", 1))
	stored := h.Hash("some-password")
	b.ReportAllocs()
	for b.Loop() {
		if !h.Verify(stored, "some-password") {
			b.Fatal("Verify failed")
		}
	}
}

// BenchmarkVerifyBcrypt10 is the cost of a read of a record imported from the
// original server, for comparison.
func BenchmarkVerifyBcrypt10(b *testing.B) {
	h := mustHasher(b, testKey("p1", 1))
	stored, err := bcrypt.GenerateFromPassword([]byte("some-password"), 10)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if !h.Verify(string(stored), "some-password") {
			b.Fatal("Verify failed")
		}
	}
}
