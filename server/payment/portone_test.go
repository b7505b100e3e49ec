package payment

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/sdk"
)

// TestPortOneState: a PortOne V2 payment reduces to its total, what was
// cancelled, when it was paid and its SUCCEEDED cancellations; the first
// cancel's time is the earliest of them.
func TestPortOneState(t *testing.T) {
	paid := time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC)
	first, second := paid.Add(time.Hour), paid.Add(2*time.Hour)
	base := func(status portone.Status, cancelled int64) portone.PaymentBase {
		return portone.PaymentBase{Status: status, ID: "p", Currency: "KRW",
			Amount: portone.PaymentAmount{Total: 10000, Paid: 10000, Cancelled: cancelled}}
	}
	cancellation := func(status string, amount int64, at time.Time) portone.Cancellation {
		return portone.Cancellation{Status: status, ID: fmt.Sprint(amount), TotalAmount: amount, Reason: "r", RequestedAt: at, CancelledAt: at}
	}
	tests := []struct {
		name        string
		p           portone.Payment
		paidAt      *time.Time
		refund      int64
		cancels     []int64
		firstCancel *time.Time
		pending     []int64 // requested, not made
	}{
		{"issued", &portone.VirtualAccountIssuedPayment{PaymentBase: base(portone.StatusVirtualAccountIssued, 0)}, nil, 0, nil, nil, nil},
		{"paid", &portone.PaidPayment{PaymentBase: base(portone.StatusPaid, 0), PaidAt: paid}, &paid, 0, nil, nil, nil},
		{"partly cancelled, one cancel still requested", &portone.PartialCancelledPayment{PaymentBase: base(portone.StatusPartialCancelled, 3000), PaidAt: paid,
			Cancellations: []portone.Cancellation{cancellation(portone.CancellationSucceeded, 3000, first), cancellation(portone.CancellationRequested, 2000, second)}},
			&paid, 3000, []int64{3000}, &first, []int64{2000}},
		{"cancelled", &portone.CancelledPayment{PaymentBase: base(portone.StatusCancelled, 10000), PaidAt: paid, CancelledAt: second,
			Cancellations: []portone.Cancellation{cancellation(portone.CancellationSucceeded, 4000, first), cancellation(portone.CancellationSucceeded, 6000, second)}},
			&paid, 10000, []int64{4000, 6000}, &first, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := portoneState(tt.p)
			if err != nil {
				t.Fatal(err)
			}
			var cancels []int64
			for _, c := range st.cancels {
				cancels = append(cancels, c.amount)
			}
			if st.price != 10000 || st.currency != "KRW" || st.refund != tt.refund || fmt.Sprint(cancels) != fmt.Sprint(tt.cancels) {
				t.Errorf("portoneState() = price %d %s, refund %d, cancels %v; want 10000 KRW, %d, %v", st.price, st.currency, st.refund, cancels, tt.refund, tt.cancels)
			}
			var pending []int64
			for _, c := range st.pending {
				pending = append(pending, c.amount)
			}
			if fmt.Sprint(pending) != fmt.Sprint(tt.pending) {
				t.Errorf("pending %v, want %v", pending, tt.pending)
			}
			if fmt.Sprint(st.paidAt) != fmt.Sprint(tt.paidAt) || fmt.Sprint(st.firstCancel) != fmt.Sprint(tt.firstCancel) {
				t.Errorf("portoneState() paid at %v, first cancel %v; want %v, %v", st.paidAt, st.firstCancel, tt.paidAt, tt.firstCancel)
			}
			back, err := portone.DecodePayment(st.data)
			if err != nil || back.Base().Status != tt.p.Base().Status {
				t.Errorf("stored data decodes as %v, %v", back, err)
			}
		})
	}
}

// TestPortOneCancelError: PortOne's refusals are definite (the operation
// failed, nothing moved), those saying the balance is short are the
// service's refund_exceeds_balance, and a 5xx or a timeout may have acted.
func TestPortOneCancelError(t *testing.T) {
	pgErr := func(typ portone.ErrorType) error {
		return fmt.Errorf("portone POST /payments/p/cancel: %w", &portone.Error{Status: typ.Status(), Type: typ})
	}
	tests := []struct {
		name     string
		err      error
		refusal  error // nil: not the service's refusal
		mayHaveA bool
	}{
		{"exceeds", pgErr(portone.TypeCancelAmountExceedsCancellableAmount), ErrRefundExceedsBalance, false},
		{"already cancelled", pgErr(portone.TypePaymentAlreadyCancelled), ErrRefundExceedsBalance, false},
		{"consistency broken", pgErr(portone.TypeCancellableAmountConsistencyBroken), nil, false},
		{"not paid", pgErr(portone.TypePaymentNotPaid), nil, false},
		{"pg provider", pgErr(portone.TypePgProvider), nil, true},
		{"5xx", &portone.Error{Status: 503}, nil, true},
		{"timeout", fmt.Errorf("portone: %w", errTimeout{}), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := portoneCancelError(tt.err)
			if tt.refusal != nil && (!errors.Is(got, ErrRefused) || !errors.Is(got, tt.refusal)) {
				t.Errorf("portoneCancelError(%v) = %v, want a refusal for %v", tt.err, got, tt.refusal)
			}
			if tt.refusal == nil && errors.Is(got, ErrRefused) {
				t.Errorf("portoneCancelError(%v) = %v, a refusal", tt.err, got)
			}
			if mayHaveActed(got) != tt.mayHaveA {
				t.Errorf("mayHaveActed(%v) = %v, want %v", got, !tt.mayHaveA, tt.mayHaveA)
			}
		})
	}
}

// errTimeout is a net.Error that timed out.
type errTimeout struct{}

func (errTimeout) Error() string   { return "i/o timeout" }
func (errTimeout) Timeout() bool   { return true }
func (errTimeout) Temporary() bool { return true }

// TestCheckPortOneOrder: the paymentId is the order, and the store is the
// configured one when there is one; neither costs a PG call.
func TestCheckPortOneOrder(t *testing.T) {
	const order = "0b7e2f4c-8c1a-4e55-9f1e-3c2d6a7b8e90"
	in := func(uid, store string) sdk.HistoryCreate {
		return sdk.HistoryCreate{Vendor: sdk.Vendor{Code: sdk.VendorPortOne, StoreID: store, UID: uid}, Source: sdk.Source{ID: order}}
	}
	tests := []struct {
		name       string
		configured string
		in         sdk.HistoryCreate
		want       error
	}{
		{"its order", "", in(order, "store-a"), nil},
		{"its order and store", "store-a", in(order, "store-a"), nil},
		{"another order", "", in("another-order", "store-a"), ErrOrderMismatch},
		{"another store", "store-a", in(order, "store-b"), ErrOrderMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkPortOneOrder(storeOnly(tt.configured), tt.in)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("checkPortOneOrder() = %v, want %v", err, tt.want)
			}
		})
	}
}

// storeOnly is a PortOneAPI whose only answer is its store: the order
// check must not call the PG.
type storeOnly string

func (s storeOnly) StoreID() string { return string(s) }

func (storeOnly) GetPayment(ctx context.Context, id string) (portone.Payment, error) {
	panic("GetPayment called")
}

func (storeOnly) CancelPayment(ctx context.Context, id string, c int64, in portone.CancelRequest) (*portone.Cancellation, error) {
	panic("CancelPayment called")
}

func (storeOnly) GetBillingKey(ctx context.Context, key string) (*portone.BillingKeyInfo, error) {
	panic("GetBillingKey called")
}
