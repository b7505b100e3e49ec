package toss

import (
	"crypto/rand"
	"fmt"
	mathrand "math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf8"

	tossapi "github.com/paymentctl/paymentctl/gateway/toss"
)

// problems collects validation failures of one body, answered together as
// one 400 INVALID_REQUEST.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// require adds "name: required" when v is empty.
func (p *problems) require(name, v string) {
	if v == "" {
		p.add("%s: required", name)
	}
}

// positive adds a problem when an amount is not above zero.
func (p *problems) positive(name string, v int64) {
	if v <= 0 {
		p.add("%s: must be a positive whole number of won, got %d", name, v)
	}
}

// nonNegative adds a problem when an optional amount is below zero.
func (p *problems) nonNegative(name string, v int64) {
	if v < 0 {
		p.add("%s: must not be negative, got %d", name, v)
	}
}

// discriminator checks the SDK's method field: absent (the real API has
// none) or exactly want.
func (p *problems) discriminator(got, want string) {
	if got != "" && got != want {
		p.add("method: must be %q, got %q", want, got)
	}
}

// orderID checks an orderId: required, at most 64 characters.
func (p *problems) orderID(v string) {
	p.require("orderId", v)
	if utf8.RuneCountInString(v) > 64 {
		p.add("orderId: at most 64 characters")
	}
}

// card checks the typed-in card fields shared by key-in and billing keys.
func (p *problems) card(number, year, month string) {
	if !isDigits(number, 15, 16) {
		p.add("cardNumber: must be 15 or 16 digits")
	}
	if !isDigits(year, 2, 2) {
		p.add("cardExpirationYear: must be 2 digits (YY)")
	}
	if !validMonth(month) {
		p.add("cardExpirationMonth: must be 01 to 12")
	}
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return invalid("%s", strings.Join(p, "; "))
}

// isDigits reports whether s is between min and max ASCII digits long.
func isDigits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func validMonth(s string) bool {
	return isDigits(s, 2, 2) && s >= "01" && s <= "12"
}

// validBirthday checks YYMMDD.
func validBirthday(s string) bool {
	if !isDigits(s, 6, 6) || !validMonth(s[2:4]) {
		return false
	}
	day := s[4:6]
	return day >= "01" && day <= "31"
}

// refundAccount checks a refund account the way the SDK does
// (accountNumber digits only, at most 20) plus the fields Toss requires.
func (p *problems) refundAccount(a *tossapi.RefundAccount) {
	if a.Bank == "" && a.BankCode == "" {
		p.add("refundReceiveAccount.bank: required")
	}
	if !isDigits(a.AccountNumber, 1, 20) {
		p.add("refundReceiveAccount.accountNumber: must be 1 to 20 digits")
	}
	p.require("refundReceiveAccount.holderName", a.HolderName)
}

// newKey returns a random key for payments, transactions, billing keys and
// receipts.
func newKey() string { return rand.Text() }

// randomDigits returns n random decimal digits (account and approval
// numbers; not secret).
func randomDigits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + mathrand.IntN(10))
	}
	return string(b)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
