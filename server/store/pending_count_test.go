package store

import (
	"context"
	"testing"
)

func TestCountPendingWebhooks(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, _ *testClock) {
		count := func() int64 {
			t.Helper()
			n, err := s.CountPendingWebhooks(ctx)
			if err != nil {
				t.Fatalf("CountPendingWebhooks: %v", err)
			}
			return n
		}
		if n := count(); n != 0 {
			t.Errorf("CountPendingWebhooks of an empty store = %d, want 0", n)
		}
		var first *PendingWebhook
		for _, uid := range []string{"imp_a", "imp_b"} {
			p := &PendingWebhook{VendorCode: "iamport", VendorUID: uid, Data: "v1.k1." + uid}
			if err := s.AddPendingWebhook(ctx, p); err != nil {
				t.Fatalf("AddPendingWebhook: %v", err)
			}
			if first == nil {
				first = p
			}
		}
		if err := s.MarkPendingWebhookApplied(ctx, first.ID); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 1 {
			t.Errorf("CountPendingWebhooks = %d, want 1 (one kept, one applied)", n)
		}
	})
}
