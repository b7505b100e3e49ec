package server_test

import (
	"context"
	"testing"
)

// TestKeyRotation: after the at-rest keys and the password secret change,
// records written under the previous ones still read, as long as the
// previous keys are listed; without them the server refuses to answer
// rather than return garbage.
func TestKeyRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		old := paid(t, h, methods()[0], 10000)

		h.stop()
		h.env = map[string]string{
			"PAYMENT_HISTORY_ENCRYPTION_KEY":             "rotated-history-key-0123456789ab",
			"PAYMENT_HISTORY_ENCRYPTION_PREVIOUS":        "MTlsOESZ6geZTjeaubOdR71tobe0KqE7",
			"PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY":      "rotated-cancel-key-0123456789abc",
			"PAYMENT_CANCEL_HISTORY_ENCRYPTION_PREVIOUS": "aU3y0PTXraB2SEYj1ACwtTYKxiYBvH4g",
			"PAYMENT_PASSWORD_SECRET":                    "rotated-password-secret-01234567",
			"PAYMENT_PASSWORD_PREVIOUS":                  "paymentctl-local-password-secret",
		}
		h.boot()
		ctx := context.Background()
		got, err := h.api.History(ctx, old.ID, testPassword)
		if err != nil {
			t.Fatalf("read a record sealed under the previous keys: %v", err)
		}
		if got.Price != old.Price || string(got.Data) != string(old.Data) {
			t.Errorf("record changed across the rotation: %+v", got)
		}
		fresh := paid(t, h, methods()[2], 3000)

		h.stop()
		delete(h.env, "PAYMENT_HISTORY_ENCRYPTION_PREVIOUS")
		delete(h.env, "PAYMENT_PASSWORD_PREVIOUS")
		h.boot()
		if _, err := h.api.History(ctx, fresh.ID, testPassword); err != nil {
			t.Errorf("read a record sealed under the current keys: %v", err)
		}
		if _, err := h.api.History(ctx, old.ID, testPassword); statusOf(err) != 403 && statusOf(err) != 500 {
			t.Errorf("old record without its keys: %v, want a refusal", err)
		}
	})
}
