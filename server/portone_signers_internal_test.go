package server

import (
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/internal/stdwebhook"
)

// TestPortOneSignersMatchTheNamedStore: a webhook verifies only under the
// secret of the store its body names, the top-level secret standing in
// for stores without one of their own.
func TestPortOneSignersMatchTheNamedStore(t *testing.T) {
	key := func(b byte) []byte { k := make([]byte, 32); k[0] = b; return k }
	secret := func(k []byte) string { return stdwebhook.SecretPrefix + base64.StdEncoding.EncodeToString(k) }
	top, a, aNext, b := key(1), key(2), key(3), key(4)
	signers, err := newPortOneSigners([]string{secret(top)}, "store-top",
		map[string][]string{"store-a": {secret(a), secret(aNext)}, "store-b": {secret(b)}, "store-c": nil})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_780_000_000, 0)
	body := func(store string) []byte {
		return fmt.Appendf(nil, `{"type":"Transaction.Paid","timestamp":"2026-06-01T00:00:00Z","data":{"paymentId":"p1","storeId":%q}}`, store)
	}
	tests := []struct {
		name  string
		store string
		key   []byte
		ok    bool
	}{
		{"own secret", "store-a", a, true},
		{"own secret being rotated in", "store-a", aNext, true},
		{"another store's secret", "store-a", b, false},
		{"top-level secret for a store with its own", "store-b", top, false},
		{"top-level secret for the top-level store", "store-top", top, true},
		{"a store's secret for the top-level store", "store-top", a, false},
		{"store without a secret of its own", "store-c", top, true},
		{"store without a secret, another store's secret", "store-c", b, false},
		{"unconfigured store (local and dev mode)", "store-x", top, true},
		{"no store named", "", top, true},
		{"no store named, a store's secret", "", a, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := body(tt.store)
			err := signers.verifyAt(stdwebhook.Header([][]byte{tt.key}, "msg_1", now, raw), raw, now)
			if tt.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.ok && !errors.Is(err, portone.ErrWebhookSignature) {
				t.Fatalf("err = %v, want ErrWebhookSignature", err)
			}
		})
	}
}

// TestPortOneSignersStoresOnly: with the top-level PortOne V2 off, only
// the stores' own secrets are accepted, and with no secret at all there is
// no signer (every webhook is refused).
func TestPortOneSignersStoresOnly(t *testing.T) {
	k := make([]byte, 32)
	s := stdwebhook.SecretPrefix + base64.StdEncoding.EncodeToString(k)
	signers, err := newPortOneSigners(nil, "", map[string][]string{"store-a": {s}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_780_000_000, 0)
	raw := []byte(`{"type":"Transaction.Paid","data":{"paymentId":"p1","storeId":"store-x"}}`)
	if err := signers.verifyAt(stdwebhook.Header([][]byte{k}, "msg_1", now, raw), raw, now); !errors.Is(err, portone.ErrWebhookSignature) {
		t.Fatalf("a store's secret for an unconfigured store: err = %v", err)
	}
	if none, err := newPortOneSigners(nil, "", map[string][]string{"store-a": nil}); err != nil || none != nil {
		t.Fatalf("no secrets: %v, %v; want nil, nil", none, err)
	}
	if _, err := newPortOneSigners(nil, "", map[string][]string{"store-a": {"whsec_!!"}}); err == nil {
		t.Fatal("an undecodable secret was accepted")
	}
}
