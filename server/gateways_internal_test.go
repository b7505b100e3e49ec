package server

import (
	"errors"
	"net/http"
	"testing"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/server/payment"
)

func TestStoreSetGet(t *testing.T) {
	stores := map[string]string{"store-a": "client a", "store-b": "client b"}
	tests := []struct {
		name    string
		strict  bool
		storeID string
		want    string
		wantErr error
	}{
		{"configured store", false, "store-a", "client a", nil},
		{"other configured store", false, "store-b", "client b", nil},
		{"unknown store falls back", false, "store-x", "top", nil},
		{"empty store falls back", false, "", "top", nil},
		{"configured store, strict", true, "store-b", "client b", nil},
		{"unknown store, strict", true, "store-x", "", payment.ErrUnknownStore},
		{"store ids are exact, strict", true, "Store-A", "", payment.ErrUnknownStore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := storeSet[string]{top: "top", stores: stores, strict: tt.strict}
			got, err := set.get(tt.storeID)
			if got != tt.want || !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Errorf("get(%q) = %q, %v; want %q, %v", tt.storeID, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestStoreClientsPortOneTopLevelStore: in real mode with PortOne stores,
// the top-level PortOne V2's own store id is served, others are refused.
func TestStoreClientsPortOneTopLevelStore(t *testing.T) {
	cfg := &config.Config{Mode: config.ModeReal, Stores: []config.Store{
		{Vendor: config.StoreVendorPortOne, StoreID: "store-listed", Secret: "s", WebhookSecret: "whsec_YQ=="},
	}}
	ep := pgEndpoints{portone: portoneSettings{url: "https://portone.invalid", secret: "top", storeID: "store-top"}}
	c, err := newStoreClients(cfg, ep, 0, func(string) *http.Client { return http.DefaultClient })
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		store     string
		wantStore string
		wantErr   error
	}{
		{"store-top", "store-top", nil},
		{"store-listed", "store-listed", nil},
		{"store-other", "", payment.ErrUnknownStore},
	} {
		pg, err := c.PortOne(tt.store)
		if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
			t.Errorf("PortOne(%q) error = %v, want %v", tt.store, err, tt.wantErr)
			continue
		}
		if err == nil && pg.StoreID() != tt.wantStore {
			t.Errorf("PortOne(%q) names store %q, want %q", tt.store, pg.StoreID(), tt.wantStore)
		}
	}
}
