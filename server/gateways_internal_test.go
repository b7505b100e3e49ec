package server

import (
	"errors"
	"testing"

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
