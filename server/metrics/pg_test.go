package metrics

import (
	"net/http"
	"testing"
)

func TestPGOperation(t *testing.T) {
	tests := []struct {
		pg, method, path, want string
	}{
		{"iamport", http.MethodPost, "/users/getToken", "token"},
		{"iamport", http.MethodGet, "/payments/imp_123", "get_payment"},
		{"iamport", http.MethodGet, "/payments/findAll/order-1", "get_payment"},
		{"iamport", http.MethodPost, "/payments/cancel", "cancel"},
		{"iamport", http.MethodPost, "/subscribe/payments/onetime", "pay"},
		{"iamport", http.MethodPost, "/subscribe/payments/again", "billing"},
		{"iamport", http.MethodGet, "/subscribe/customers/c1", "billing"},
		{"iamport", http.MethodPut, "/vbanks/imp_1", "vbank"},
		{"iamport", http.MethodPost, "/receipts/imp_1", "receipt"},
		{"iamport", http.MethodPost, "/certifications/otp/request", "certification"},
		{"iamport", http.MethodPut, "/internal/deposit/imp_1", "other"},
		{"iamport", http.MethodGet, "/prefix/payments/imp_1", "get_payment"},
		{"toss", http.MethodGet, "/v1/payments/pk_1", "get_payment"},
		{"toss", http.MethodGet, "/v1/payments/orders/o1", "get_payment"},
		{"toss", http.MethodPost, "/v1/payments/confirm", "confirm"},
		{"portone", http.MethodGet, "/payments/pay-1", "get_payment"},
		{"portone", http.MethodGet, "/payments/a%2Fb", "get_payment"},
		{"portone", http.MethodPost, "/payments/pay-1/cancel", "cancel"},
		{"portone", http.MethodPost, "/payments/pay-1/billing-key", "billing"},
		{"portone", http.MethodPost, "/payments/pay-1/virtual-account/close", "vbank"},
		{"portone", http.MethodGet, "/billing-keys/bk-1", "billing"},
		{"portone", http.MethodPost, "/login/api-secret", "token"},
		{"portone", http.MethodGet, "/payments", "other"},
		{"toss", http.MethodPost, "/v1/payments/pk_1", "confirm"},
		{"toss", http.MethodPost, "/v1/payments/pk_1/cancel", "cancel"},
		{"toss", http.MethodPost, "/v1/payments/key-in", "pay"},
		{"toss", http.MethodPost, "/v1/billing/authorizations/issue", "billing"},
		{"toss", http.MethodPost, "/v1/billing/bk_1", "billing"},
		{"toss", http.MethodPost, "/v1/virtual-accounts", "vbank"},
		{"toss", http.MethodPost, "/v1/cash-receipts/rk/cancel", "receipt"},
		{"toss", http.MethodPut, "/internal/pk_1/deposit", "other"},
		{"toss", http.MethodGet, "/v2/anything", "other"},
		{"other-pg", http.MethodGet, "/payments/1", "other"},
	}
	for _, tt := range tests {
		if got := pgOperation(tt.pg, tt.method, tt.path); got != tt.want {
			t.Errorf("pgOperation(%q, %q, %q) = %q, want %q", tt.pg, tt.method, tt.path, got, tt.want)
		}
	}
}
