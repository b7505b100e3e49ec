package payment

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/sdk"
)

// IamportAPI is what the service needs from Iamport; *iamport.Client
// implements it.
type IamportAPI interface {
	Payment(ctx context.Context, impUID string) (*iamport.Payment, error)
	Cancel(ctx context.Context, in iamport.CancelRequest) (*iamport.Payment, error)
	BillingKey(ctx context.Context, customerUID string) (*iamport.BillingKey, error)
}

// TossAPI is what the service needs from Toss Payments; *toss.Client
// implements it.
type TossAPI interface {
	GetPayment(ctx context.Context, paymentKey string) (*toss.Payment, error)
	GetPaymentByOrderID(ctx context.Context, orderID string) (*toss.Payment, error)
	Confirm(ctx context.Context, in toss.ConfirmRequest) (*toss.Payment, error)
	Cancel(ctx context.Context, paymentKey string, in toss.CancelRequest) (*toss.Payment, error)
	GetBilling(ctx context.Context, billingKey, customerKey string) (*toss.Billing, error)
}

// pgState is a PG payment reduced to what paymentctl stores.
type pgState struct {
	currency string
	price    int64
	refund   int64
	paidAt   *time.Time
	// firstCancel is the time of the earliest cancel, nil when none.
	firstCancel *time.Time
	cancels     []pgCancel
	// pending are refunds the PG was asked for and has not made yet
	// (PortOne V2's REQUESTED cancellations, at asynchronous PGs): not in
	// refund or cancels, and an operation they may answer stays unknown
	// (markOps).
	pending []pgCancel
	data    []byte // the PG's payment object as JSON
}

// pgCancel is one cancel event as the PG reports it.
type pgCancel struct {
	amount int64
	reason string
	at     time.Time
	data   []byte
}

// iamportState reduces an Iamport payment.
func iamportState(p *iamport.Payment) (pgState, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return pgState{}, fmt.Errorf("encode iamport payment: %w", err)
	}
	st := pgState{
		currency: string(p.Currency),
		price:    int64(p.Amount),
		refund:   int64(p.CancelAmount),
		data:     data,
	}
	if p.PaidAt > 0 {
		t := p.PaidAt.Time().UTC()
		st.paidAt = &t
	}
	for _, c := range p.CancelHistory {
		cd, err := json.Marshal(c)
		if err != nil {
			return pgState{}, fmt.Errorf("encode iamport cancel: %w", err)
		}
		st.cancels = append(st.cancels, pgCancel{amount: int64(c.Amount), reason: c.Reason, at: c.CancelledAt.Time().UTC(), data: cd})
	}
	if st.refund > 0 || p.Status == iamport.StatusCancelled {
		st.firstCancel = earliest(st.cancels, p.CancelledAt.Time())
	}
	return st, nil
}

// tossState reduces a Toss payment.
func tossState(p *toss.Payment) (pgState, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return pgState{}, fmt.Errorf("encode toss payment: %w", err)
	}
	st := pgState{currency: p.Currency, price: p.TotalAmount, data: data}
	switch p.Status {
	case toss.StatusDone, toss.StatusCanceled, toss.StatusPartialCanceled:
		if p.ApprovedAt != nil {
			if t, err := parseTossTime(*p.ApprovedAt); err == nil {
				st.paidAt = &t
			}
		}
	}
	for _, c := range p.Cancels {
		cd, err := json.Marshal(c)
		if err != nil {
			return pgState{}, fmt.Errorf("encode toss cancel: %w", err)
		}
		at, err := parseTossTime(c.CanceledAt)
		if err != nil {
			return pgState{}, fmt.Errorf("toss cancel time %q: %w", c.CanceledAt, err)
		}
		st.refund += c.CancelAmount
		st.cancels = append(st.cancels, pgCancel{amount: c.CancelAmount, reason: c.CancelReason, at: at, data: cd})
	}
	if st.refund > 0 || p.Status == toss.StatusCanceled {
		st.firstCancel = earliest(st.cancels, time.Time{})
	}
	return st, nil
}

// earliest returns the time of the first cancel, or fallback, or nil.
func earliest(cs []pgCancel, fallback time.Time) *time.Time {
	sorted := append([]pgCancel(nil), cs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].at.Before(sorted[j].at) })
	if len(sorted) > 0 {
		t := sorted[0].at
		return &t
	}
	if !fallback.IsZero() {
		t := fallback.UTC()
		return &t
	}
	return nil
}

// parseTossTime reads Toss's ISO-8601 times, with or without an offset
// (zone-less times are Korean Standard Time, as Toss sends them).
func parseTossTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999"} {
		loc := time.UTC
		if layout != time.RFC3339Nano {
			loc = time.FixedZone("KST", 9*60*60)
		}
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not an ISO-8601 time")
}

// vendorOf checks a vendor code from a request.
func vendorOf(code sdk.VendorCode) error {
	if !code.Valid() {
		return fmt.Errorf("%w: unknown vendor %q", ErrInvalid, code)
	}
	return nil
}
