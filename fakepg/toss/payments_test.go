package toss_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	fake "github.com/paymentctl/paymentctl/fakepg/toss"
	tossapi "github.com/paymentctl/paymentctl/gateway/toss"
)

func TestKeyInFields(t *testing.T) {
	e := newEnv(t, fake.Options{})
	p := e.keyIn(t, "fields-order", 15000, true)
	checks := []struct {
		field     string
		got, want any
	}{
		{"mId", p.MID, "tosspayments"},
		{"method", p.Method, tossapi.MethodCard},
		{"type", p.Type, tossapi.TypeNormal},
		{"status", p.Status, tossapi.StatusDone},
		{"orderName", p.OrderName, "Fake 주문"},
		{"currency", p.Currency, "KRW"},
		{"totalAmount", p.TotalAmount, int64(15000)},
		{"balanceAmount", p.BalanceAmount, int64(15000)},
		{"vat", p.VAT, int64(1364)},
		{"suppliedAmount", p.SuppliedAmount, int64(13636)},
		{"card.number", p.Card.Number, "1111222233334444"},
		{"lastTransactionKey", p.LastTransactionKey, p.TransactionKey},
		{"approvedAt set", p.ApprovedAt != nil, true},
		{"cancels", p.Cancels == nil, true},
	}
	for _, c := range checks {
		if !cmp.Equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
		}
	}
	if _, err := tossapi.ParseTime(p.RequestedAt); err != nil {
		t.Errorf("requestedAt %q: %v", p.RequestedAt, err)
	}
}

func TestApproveStatusPreconditions(t *testing.T) {
	e := newEnv(t, fake.Options{})
	ctx := context.Background()

	done := e.keyIn(t, "pre-done", 1000, true)
	_, err := e.client.Approve(ctx, done.PaymentKey, tossapi.Approval{OrderID: "pre-done", Amount: 1000})
	wantAPIError(t, err, http.StatusBadRequest, tossapi.CodeAlreadyProcessedPayment)

	canceled := e.keyIn(t, "pre-canceled", 1000, true)
	if _, err := e.client.Cancel(ctx, canceled.PaymentKey, tossapi.CancelRequest{CancelReason: "r"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.Confirm(ctx, tossapi.ConfirmRequest{PaymentKey: canceled.PaymentKey, OrderID: "pre-canceled", Amount: 1000})
	wantAPIError(t, err, http.StatusBadRequest, tossapi.CodeAlreadyCanceledPayment)
	got, err := e.client.GetPayment(ctx, canceled.PaymentKey)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != tossapi.StatusCanceled {
		t.Errorf("canceled payment after a refused approval: %s, want CANCELED", got.Status)
	}

	waiting, err := e.client.CreateVirtualAccount(ctx, tossapi.VirtualAccountRequest{
		OrderID: "pre-va", OrderName: "n", Bank: "신한", CustomerName: "c", Amount: 1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	if waiting.Status != tossapi.StatusWaitingForDeposit {
		t.Fatalf("virtual account without __approved: %s, want WAITING_FOR_DEPOSIT", waiting.Status)
	}
	_, err = e.client.Approve(ctx, waiting.PaymentKey, tossapi.Approval{OrderID: "pre-va", Amount: 1000})
	wantAPIError(t, err, http.StatusBadRequest, tossapi.CodeAlreadyProcessedPayment)
}

func TestVirtualAccountLifecycle(t *testing.T) {
	e := newEnv(t, fake.Options{})
	ctx := context.Background()
	p, err := e.client.CreateVirtualAccount(ctx, tossapi.VirtualAccountRequest{
		OrderID: "va-life", OrderName: "something", Bank: "신한", CustomerName: "Samchon", Amount: 19900, Approved: ptr(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != tossapi.StatusInProgress || p.Secret == "" || p.VirtualAccount == nil || p.ApprovedAt != nil {
		t.Fatalf("created: status %s secret %q account %v approvedAt %v; want IN_PROGRESS with secret and account",
			p.Status, p.Secret, p.VirtualAccount, p.ApprovedAt)
	}
	_, err = e.client.SimulateDeposit(ctx, p.PaymentKey)
	wantAPIError(t, err, http.StatusBadRequest, tossapi.CodeInvalidRequest)

	if p, err = e.client.Approve(ctx, p.PaymentKey, tossapi.Approval{OrderID: "va-life", Amount: 19900}); err != nil {
		t.Fatal(err)
	}
	if p.Status != tossapi.StatusWaitingForDeposit || p.ApprovedAt != nil {
		t.Fatalf("approved: %s approvedAt %v, want WAITING_FOR_DEPOSIT, null", p.Status, p.ApprovedAt)
	}
	if p, err = e.client.SimulateDeposit(ctx, p.PaymentKey); err != nil {
		t.Fatal(err)
	}
	if p.Status != tossapi.StatusDone || p.ApprovedAt == nil || p.VirtualAccount.SettlementStatus != tossapi.SettlementCompleted {
		t.Fatalf("deposited: %s approvedAt %v settlement %s", p.Status, p.ApprovedAt, p.VirtualAccount.SettlementStatus)
	}
	_, err = e.client.SimulateDeposit(ctx, p.PaymentKey)
	wantAPIError(t, err, http.StatusBadRequest, tossapi.CodeAlreadyProcessedPayment)

	if p, err = e.client.SimulateDepositCancel(ctx, p.PaymentKey); err != nil {
		t.Fatal(err)
	}
	if p.Status != tossapi.StatusWaitingForDeposit || p.ApprovedAt != nil {
		t.Fatalf("deposit reversed: %s approvedAt %v", p.Status, p.ApprovedAt)
	}
	_, err = e.client.SimulateDepositCancel(ctx, p.PaymentKey)
	wantAPIError(t, err, http.StatusBadRequest, tossapi.CodeInvalidRequest)

	card := e.keyIn(t, "va-life-card", 1000, true)
	_, err = e.client.SimulateDeposit(ctx, card.PaymentKey)
	wantAPIError(t, err, http.StatusBadRequest, tossapi.CodeInvalidRequest)

	evs := summaries(e.events(t))
	k, o := p.PaymentKey, "va-life"
	want := []string{
		"PSC:" + k + ":IN_PROGRESS",
		"PSC:" + k + ":WAITING_FOR_DEPOSIT", "DEP:" + o + ":WAITING_FOR_DEPOSIT",
		"PSC:" + k + ":DONE", "DEP:" + o + ":DONE",
		"PSC:" + k + ":WAITING_FOR_DEPOSIT", "DEP:" + o + ":WAITING_FOR_DEPOSIT",
		"PSC:" + card.PaymentKey + ":DONE",
	}
	if diff := cmp.Diff(want, evs); diff != "" {
		t.Errorf("webhooks (-want +got):\n%s", diff)
	}
}

func TestCancelEveryMethod(t *testing.T) {
	makers := []struct {
		name    string
		make    func(t *testing.T, e *env, orderID string) *tossapi.Payment
		account *tossapi.RefundAccount
	}{
		{"card", func(t *testing.T, e *env, id string) *tossapi.Payment { return e.keyIn(t, id, 20000, true) }, nil},
		{"billing", func(t *testing.T, e *env, id string) *tossapi.Payment {
			return e.billingPayment(t, "cust-"+id, id, 20000)
		}, nil},
		{"virtual account", func(t *testing.T, e *env, id string) *tossapi.Payment { return e.paidVirtualAccount(t, id, 20000) }, refundAccount()},
	}
	for _, m := range makers {
		t.Run(m.name+"/full", func(t *testing.T) {
			e := newEnv(t, fake.Options{})
			ctx := context.Background()
			p := m.make(t, e, "full")
			got, err := e.client.Cancel(ctx, p.PaymentKey, tossapi.CancelRequest{
				CancelReason: "some-reason", CancelAmount: p.TotalAmount, RefundReceiveAccount: m.account,
			})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tossapi.StatusCanceled || got.BalanceAmount != 0 || len(got.Cancels) != 1 ||
				got.Cancels[0].CancelAmount != p.TotalAmount || got.Cancels[0].RefundableAmount != 0 {
				t.Errorf("after full cancel: %s balance %d cancels %+v", got.Status, got.BalanceAmount, got.Cancels)
			}
			_, err = e.client.Cancel(ctx, p.PaymentKey, tossapi.CancelRequest{CancelReason: "again", RefundReceiveAccount: m.account})
			wantAPIError(t, err, http.StatusBadRequest, tossapi.CodeAlreadyCanceledPayment)
			evs := e.events(t)
			if last := summary(evs[len(evs)-1]); last != "PSC:"+p.PaymentKey+":CANCELED" {
				t.Errorf("last webhook %s, want CANCELED", last)
			}
		})
		t.Run(m.name+"/five partial then the rest", func(t *testing.T) {
			e := newEnv(t, fake.Options{})
			ctx := context.Background()
			p := m.make(t, e, "partial")
			var sum int64
			for i := 1; i <= 5; i++ {
				got, err := e.client.Cancel(ctx, p.PaymentKey, tossapi.CancelRequest{
					CancelReason: "part", CancelAmount: 2000, RefundReceiveAccount: m.account,
				})
				if err != nil {
					t.Fatalf("cancel %d: %v", i, err)
				}
				sum += 2000
				if got.Status != tossapi.StatusPartialCanceled || got.BalanceAmount != p.TotalAmount-sum ||
					len(got.Cancels) != i || got.CanceledAmount() != sum {
					t.Fatalf("after cancel %d: %s balance %d, %d cancels summing %d", i, got.Status,
						got.BalanceAmount, len(got.Cancels), got.CanceledAmount())
				}
			}
			got, err := e.client.Cancel(ctx, p.PaymentKey, tossapi.CancelRequest{CancelReason: "rest", RefundReceiveAccount: m.account})
			if err != nil {
				t.Fatalf("cancel of the rest: %v", err)
			}
			if got.Status != tossapi.StatusCanceled || got.BalanceAmount != 0 || len(got.Cancels) != 6 ||
				got.Cancels[5].CancelAmount != 10000 || got.CanceledAmount() != p.TotalAmount {
				t.Errorf("after the rest: %s balance %d cancels %+v", got.Status, got.BalanceAmount, got.Cancels)
			}
			var statuses []string
			for _, ev := range e.events(t) {
				if ev.StatusChanged != nil && ev.StatusChanged.Data.PaymentKey == p.PaymentKey {
					statuses = append(statuses, string(ev.StatusChanged.Data.Status))
				}
			}
			// One webhook per cancel, each with the status after it.
			want := []string{"PARTIAL_CANCELED", "PARTIAL_CANCELED", "PARTIAL_CANCELED", "PARTIAL_CANCELED",
				"PARTIAL_CANCELED", "CANCELED"}
			if len(statuses) < len(want) {
				t.Fatalf("status webhooks %v, want them to end with %v", statuses, want)
			}
			if diff := cmp.Diff(want, statuses[len(statuses)-len(want):]); diff != "" {
				t.Errorf("cancel webhooks (-want +got):\n%s", diff)
			}
		})
		t.Run(m.name+"/over", func(t *testing.T) {
			e := newEnv(t, fake.Options{})
			ctx := context.Background()
			p := m.make(t, e, "over")
			_, err := e.client.Cancel(ctx, p.PaymentKey, tossapi.CancelRequest{
				CancelReason: "too much", CancelAmount: p.TotalAmount + 100, RefundReceiveAccount: m.account,
			})
			wantAPIError(t, err, http.StatusForbidden, tossapi.CodeNotCancelableAmount)
			if _, err := e.client.Cancel(ctx, p.PaymentKey, tossapi.CancelRequest{
				CancelReason: "part", CancelAmount: 15000, RefundReceiveAccount: m.account,
			}); err != nil {
				t.Fatal(err)
			}
			_, err = e.client.Cancel(ctx, p.PaymentKey, tossapi.CancelRequest{
				CancelReason: "over the balance", CancelAmount: 5001, RefundReceiveAccount: m.account,
			})
			wantAPIError(t, err, http.StatusForbidden, tossapi.CodeNotCancelableAmount)
			got, err := e.client.GetPayment(ctx, p.PaymentKey)
			if err != nil {
				t.Fatal(err)
			}
			if got.BalanceAmount != 5000 || len(got.Cancels) != 1 || got.Status != tossapi.StatusPartialCanceled {
				t.Errorf("after refused cancels: balance %d, %d cancels, %s; want 5000, 1, PARTIAL_CANCELED",
					got.BalanceAmount, len(got.Cancels), got.Status)
			}
		})
	}
}

func TestVirtualAccountCancelRules(t *testing.T) {
	e := newEnv(t, fake.Options{})
	ctx := context.Background()

	paid := e.paidVirtualAccount(t, "va-refund", 10000)
	_, err := e.client.Cancel(ctx, paid.PaymentKey, tossapi.CancelRequest{CancelReason: "no account"})
	wantAPIError(t, err, http.StatusBadRequest, tossapi.CodeInvalidRequest)
	got, err := e.client.Cancel(ctx, paid.PaymentKey, tossapi.CancelRequest{CancelReason: "ok", RefundReceiveAccount: refundAccount()})
	if err != nil {
		t.Fatal(err)
	}
	va := got.VirtualAccount
	if va.RefundStatus != tossapi.RefundStatusCompleted || va.RefundReceiveAccount == nil || va.RefundReceiveAccount.HolderName != "홍길동" {
		t.Errorf("refunded account: %+v", va)
	}

	unpaid, err := e.client.CreateVirtualAccount(ctx, tossapi.VirtualAccountRequest{
		OrderID: "va-unpaid", OrderName: "n", Bank: "신한", CustomerName: "c", Amount: 10000,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.client.Cancel(ctx, unpaid.PaymentKey, tossapi.CancelRequest{CancelReason: "part", CancelAmount: 100})
	wantAPIError(t, err, http.StatusForbidden, tossapi.CodeNotCancelableAmount)
	got, err = e.client.Cancel(ctx, unpaid.PaymentKey, tossapi.CancelRequest{CancelReason: "whole"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != tossapi.StatusCanceled || got.Cancels != nil || got.BalanceAmount != 0 {
		t.Errorf("unpaid cancel: %s cancels %v balance %d; want CANCELED, none, 0", got.Status, got.Cancels, got.BalanceAmount)
	}

	inProgress := e.keyIn(t, "in-progress", 1000, false)
	_, err = e.client.Cancel(ctx, inProgress.PaymentKey, tossapi.CancelRequest{CancelReason: "r"})
	wantAPIError(t, err, http.StatusForbidden, tossapi.CodeNotCancelablePayment)
}

func TestBillingKeys(t *testing.T) {
	e := newEnv(t, fake.Options{})
	ctx := context.Background()
	b, err := e.client.IssueBillingKey(ctx, tossapi.BillingCardRequest{
		CustomerKey: "cust-1", CardNumber: "1111222233334444", CardExpirationYear: "28",
		CardExpirationMonth: "03", CardPassword: "99", CustomerBirthday: "880311", ConsumerName: "남정호",
	})
	if err != nil {
		t.Fatal(err)
	}
	if b.MID != "tosspayments" || b.Method != tossapi.MethodCard || b.CardNumber != "1111222233334444" || b.CustomerKey != "cust-1" {
		t.Errorf("billing = %+v", b)
	}
	got, err := e.client.GetBilling(ctx, b.BillingKey, "cust-1")
	if err != nil || !cmp.Equal(got, b) {
		t.Errorf("GetBilling = %+v, %v; want %+v", got, err, b)
	}
	if got, err := e.client.IssueBillingKeyByAuthKey(ctx, tossapi.BillingIssueRequest{AuthKey: b.BillingKey, CustomerKey: "cust-1"}); err != nil || got.BillingKey != b.BillingKey {
		t.Errorf("IssueBillingKeyByAuthKey = %+v, %v", got, err)
	}
	_, err = e.client.GetBilling(ctx, b.BillingKey, "cust-2")
	wantAPIError(t, err, http.StatusForbidden, tossapi.CodeNotMatchesCustomerKey)
	_, err = e.client.PayWithBillingKey(ctx, b.BillingKey, tossapi.BillingPaymentRequest{CustomerKey: "cust-2", OrderID: "b-1", Amount: 100})
	wantAPIError(t, err, http.StatusForbidden, tossapi.CodeNotMatchesCustomerKey)
	if _, err := e.client.GetPaymentByOrderID(ctx, "b-1"); !tossapi.IsCode(err, tossapi.CodeNotFoundPayment) {
		t.Errorf("refused billing payment left a payment behind: %v", err)
	}
}

func TestCashReceipts(t *testing.T) {
	e := newEnv(t, fake.Options{})
	ctx := context.Background()
	p := e.paidVirtualAccount(t, "receipt-order", 10000)
	req := tossapi.CashReceiptRequest{Type: tossapi.CashReceiptIncomeDeduction, PaymentKey: p.PaymentKey,
		OrderID: "receipt-order", OrderName: "something", RegistrationNumber: "01012345678", Amount: 10000}

	tooMuch := req
	tooMuch.Amount = 10001
	_, err := e.client.IssueCashReceipt(ctx, tooMuch)
	wantAPIError(t, err, http.StatusBadRequest, tossapi.CodeInvalidRequest)
	wrongOrder := req
	wrongOrder.OrderID = "other"
	_, err = e.client.IssueCashReceipt(ctx, wrongOrder)
	wantAPIError(t, err, http.StatusBadRequest, tossapi.CodeInvalidRequest)

	rc, err := e.client.IssueCashReceipt(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if rc.CanceledAt != nil || rc.Amount != 10000 || rc.ReceiptURL == "" {
		t.Errorf("receipt = %+v", rc)
	}
	got, err := e.client.GetPayment(ctx, p.PaymentKey)
	if err != nil {
		t.Fatal(err)
	}
	want := &tossapi.CashReceiptSummary{Type: rc.Type, Amount: 10000, IssueNumber: rc.ApprovalNumber,
		ReceiptURL: rc.ReceiptURL, ReceiptKey: rc.ReceiptKey}
	if diff := cmp.Diff(want, got.CashReceipt); diff != "" {
		t.Errorf("payment.cashReceipt (-want +got):\n%s", diff)
	}
	_, err = e.client.IssueCashReceipt(ctx, req)
	wantAPIError(t, err, http.StatusBadRequest, tossapi.CodeInvalidRequest)

	canceled, err := e.client.CancelCashReceipt(ctx, rc.ReceiptKey, tossapi.CashReceiptCancelRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if canceled.CanceledAt == nil {
		t.Error("canceled receipt has no canceledAt")
	}
	if got, _ := e.client.GetPayment(ctx, p.PaymentKey); got.CashReceipt != nil {
		t.Errorf("payment.cashReceipt after cancel = %+v, want null", got.CashReceipt)
	}
	_, err = e.client.CancelCashReceipt(ctx, rc.ReceiptKey, tossapi.CashReceiptCancelRequest{})
	wantAPIError(t, err, http.StatusBadRequest, tossapi.CodeInvalidRequest)

	unpaid := e.keyIn(t, "receipt-unpaid", 1000, false)
	_, err = e.client.IssueCashReceipt(ctx, tossapi.CashReceiptRequest{Type: tossapi.CashReceiptExpenseProof,
		PaymentKey: unpaid.PaymentKey, OrderID: "receipt-unpaid", OrderName: "n", RegistrationNumber: "1", Amount: 1000})
	wantAPIError(t, err, http.StatusBadRequest, tossapi.CodeInvalidRequest)
}
