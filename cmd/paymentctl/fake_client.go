package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	fakeiamport "github.com/paymentctl/paymentctl/fakepg/iamport"
	faketoss "github.com/paymentctl/paymentctl/fakepg/toss"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/sdk"
)

// This file holds what the subcommands of `paymentctl fake` share: the
// flags that pick and reach a fake, the PG clients, and the result they
// print.

// fakeCallTimeout bounds each call a subcommand makes to a fake.
const fakeCallTimeout = 10 * time.Second

// Test data the subcommands send. Any value the fakes accept would do; these
// are recognisably fake.
const (
	fakeCardNumber       = "4111111111111111" // Visa's test number
	fakeBirth            = "880311"           // YYMMDD
	fakeCardPwd          = "12"               // first two digits of the PIN
	fakeHolder           = "paymentctl"       // account holder and customer name
	fakeIamportVBankCode = "004"              // KB국민은행
	fakeTossBank         = "신한"
	fakeRefundAccount    = "12345678901234"
	fakeOrderName        = "paymentctl fake order"
)

// kst is Korea Standard Time, the zone both PGs work in; due dates are
// printed in it.
func kst() *time.Location { return time.FixedZone("KST", 9*60*60) }

// Values of fakeResult.Kind.
const (
	kindPayment    = "payment"
	kindBillingKey = "billing_key"
)

// fakeClientOptions are the inputs every subcommand of `paymentctl fake`
// shares.
type fakeClientOptions struct {
	IO *iostreams
	// PG is pgIamport, pgToss or pgPortOne.
	PG string
	// IamportURL, TossURL and PortOneURL are the fakes' base URLs; the
	// defaults are 127.0.0.1 on the configured fake ports.
	IamportURL, TossURL, PortOneURL string
	JSON                            bool
	Now                             func() time.Time
}

// addFakeClientFlags defines the shared flags on cmd, which reads the
// configuration (resolve).
func addFakeClientFlags(cmd *cobra.Command, o *fakeClientOptions) {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[configFlagsAnnotation] = "true"
	fl := cmd.Flags()
	fl.StringVar(&o.PG, "pg", "", "which fake: iamport, toss or portone (required)")
	fl.StringVar(&o.IamportURL, "iamport-url", "", "base URL of the fake Iamport (default http://127.0.0.1:<fake.iamport_port>)")
	fl.StringVar(&o.TossURL, "toss-url", "", "base URL of the fake Toss Payments (default http://127.0.0.1:<fake.toss_port>)")
	fl.StringVar(&o.PortOneURL, "portone-url", "", "base URL of the fake PortOne V2 (default http://127.0.0.1:<fake.portone_port>)")
	fl.BoolVar(&o.JSON, "json", false, "print JSON")
}

// resolve checks --pg and fills the defaults from the factory and the
// configuration.
func (o *fakeClientOptions) resolve(f *factory, cmd *cobra.Command) error {
	switch o.PG {
	case pgIamport, pgToss, pgPortOne:
	case "toss.payments":
		o.PG = pgToss
	case "":
		return &usageError{errors.New("--pg is required: iamport, toss or portone")}
	default:
		return &usageError{fmt.Errorf("--pg %q: use iamport, toss or portone", o.PG)}
	}
	for _, u := range []struct{ flag, v string }{{"--iamport-url", o.IamportURL}, {"--toss-url", o.TossURL}, {"--portone-url", o.PortOneURL}} {
		if u.v != "" && !httpURL(u.v) {
			return &usageError{fmt.Errorf("%s %q: use an http(s) URL such as http://127.0.0.1:10851", u.flag, u.v)}
		}
	}
	cfg, err := f.loadConfig(cmd)
	if err != nil {
		return err
	}
	if o.IamportURL == "" {
		o.IamportURL = "http://" + loopback(cfg.Fake.IamportPort)
	}
	if o.TossURL == "" {
		o.TossURL = "http://" + loopback(cfg.Fake.TossPort)
	}
	if o.PortOneURL == "" {
		o.PortOneURL = "http://" + loopback(cfg.Fake.PortOnePort)
	}
	o.Now = f.Now
	return nil
}

// iamportClient returns a client of the fake Iamport with its default
// credentials.
func (o *fakeClientOptions) iamportClient() *iamport.Client {
	return iamport.New(iamport.Options{
		BaseURL: o.IamportURL, Key: fakeiamport.DefaultKey, Secret: fakeiamport.DefaultSecret,
		Timeout: fakeCallTimeout, Now: o.Now,
	})
}

// tossClient returns a client of the fake Toss with its default secret key.
func (o *fakeClientOptions) tossClient() *toss.Client {
	return toss.New(toss.Options{BaseURL: o.TossURL, SecretKey: faketoss.DefaultSecretKey, Timeout: fakeCallTimeout})
}

// fakeErr prefixes err with what was being done and, when nothing listens
// at the fake's URL, says how to start it.
func (o *fakeClientOptions) fakeErr(what string, err error) error {
	if errors.Is(err, syscall.ECONNREFUSED) {
		base := o.IamportURL
		switch o.PG {
		case pgToss:
			base = o.TossURL
		case pgPortOne:
			base = o.PortOneURL
		}
		return fmt.Errorf("%s: no fake %s at %s; start one with 'paymentctl fake' or pass --%s-url: %w", what, o.PG, base, o.PG, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// newOrderID returns a fresh order or customer id: a UUID, because
// paymentctl's API requires source.id to be one.
func newOrderID() string { return uuid.NewString() }

// fakeResult is what every subcommand prints: the ids a registration call
// to paymentctl needs, and the state the PG reports.
//
// As JSON it is one stable object:
//
//	kind             "payment" (register with POST /payments/histories) or
//	                 "billing_key" (POST /payments/reservations)
//	vendor           {code: "iamport" | "toss.payments" | "portone",
//	                 store_id, uid}: the registration's vendor as is; uid
//	                 is the imp_uid, paymentKey or paymentId of a payment,
//	                 the customer_uid or billingKey of a billing key;
//	                 store_id is the PG's merchant id (PortOne V2: the
//	                 payment's or key's storeId)
//	source_id        the registration's source.id: the order id
//	                 (merchant_uid / orderId / paymentId) or the customer
//	                 id (customer_uid / customerKey / customer.id)
//	status           the PG's own status, as it spells it ("paid", "ready",
//	                 "cancelled"; "DONE", "IN_PROGRESS",
//	                 "WAITING_FOR_DEPOSIT", "PARTIAL_CANCELED"; "PAID",
//	                 "VIRTUAL_ACCOUNT_ISSUED", "PARTIAL_CANCELLED", ...);
//	                 "issued" for a billing key
//	price            payments only: the amount paid or to pay, in won
//	cancelled        payments only: the amount refunded so far; absent when 0
//	method           payments only: "card" or "vbank"
//	virtual_account  vbank only: {bank, number, holder, due (RFC 3339, +09:00)}
//	history          with `fake pay --register` only: the record paymentctl
//	                 made (its IPaymentHistory)
type fakeResult struct {
	Kind           string       `json:"kind"`
	Vendor         sdk.Vendor   `json:"vendor"`
	SourceID       string       `json:"source_id"`
	Status         string       `json:"status"`
	Price          int64        `json:"price,omitempty"`
	Cancelled      int64        `json:"cancelled,omitempty"`
	Method         string       `json:"method,omitempty"`
	VirtualAccount *fakeAccount `json:"virtual_account,omitempty"`
	// History is the record paymentctl made of the payment, with
	// `fake pay --register` only.
	History *sdk.History `json:"history,omitempty"`
	// Reservation is the saved card paymentctl made of a billing key,
	// with `fake billing-key --register` only.
	Reservation *sdk.Reservation `json:"reservation,omitempty"`
	// Notes are printed after the fields in text mode only: what to do
	// next.
	Notes []string `json:"-"`
}

// fakeAccount is the virtual account of a vbank payment.
type fakeAccount struct {
	Bank   string `json:"bank"`
	Number string `json:"number"`
	Holder string `json:"holder"`
	Due    string `json:"due,omitempty"`
}

// iamportResult describes an Iamport payment.
func iamportResult(p *iamport.Payment) fakeResult {
	r := fakeResult{
		Kind:      kindPayment,
		Vendor:    sdk.Vendor{Code: sdk.VendorIamport, StoreID: p.PGID, UID: p.ImpUID},
		SourceID:  p.MerchantUID,
		Status:    string(p.Status),
		Price:     int64(p.Amount),
		Cancelled: int64(p.CancelAmount),
		Method:    string(p.PayMethod),
	}
	if p.PayMethod == iamport.PayMethodVBank {
		r.VirtualAccount = &fakeAccount{Bank: p.VBankName, Number: p.VBankNum, Holder: p.VBankHolder}
		if p.VBankDate != 0 {
			r.VirtualAccount.Due = p.VBankDate.Time().In(kst()).Format(time.RFC3339)
		}
	}
	return r
}

// tossResult describes a Toss payment.
func tossResult(p *toss.Payment) fakeResult {
	r := fakeResult{
		Kind:      kindPayment,
		Vendor:    sdk.Vendor{Code: sdk.VendorToss, StoreID: p.MID, UID: p.PaymentKey},
		SourceID:  p.OrderID,
		Status:    string(p.Status),
		Price:     p.TotalAmount,
		Cancelled: p.CanceledAmount(),
		Method:    string(p.Method),
	}
	switch p.Method {
	case toss.MethodCard:
		r.Method = "card"
	case toss.MethodVirtualAccount:
		r.Method = "vbank"
	}
	if va := p.VirtualAccount; va != nil {
		r.VirtualAccount = &fakeAccount{Bank: va.Bank, Number: va.AccountNumber, Holder: va.CustomerName}
		if t, err := toss.ParseTime(va.DueDate); err == nil {
			r.VirtualAccount.Due = t.In(kst()).Format(time.RFC3339)
		}
	}
	return r
}

// registerNote says how to register a result with paymentctl.
func registerNote(r fakeResult) string {
	if r.Kind == kindBillingKey {
		return "Register it: POST /payments/reservations with this vendor, source.id and a title."
	}
	return "Register it: POST /payments/histories with this vendor, source.id and price."
}

// printResult writes r as aligned text or, with asJSON, as one JSON object.
func printResult(w io.Writer, asJSON bool, r fakeResult) error {
	if asJSON {
		return writeJSON(w, r)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("vendor.code", string(r.Vendor.Code))
	row("vendor.store_id", r.Vendor.StoreID)
	row("vendor.uid", r.Vendor.UID)
	row("source.id", r.SourceID)
	if r.Kind == kindPayment {
		row("price", strconv.FormatInt(r.Price, 10))
	}
	row("status", r.Status)
	if r.Cancelled > 0 {
		row("cancelled", strconv.FormatInt(r.Cancelled, 10))
	}
	if va := r.VirtualAccount; va != nil {
		row("account", fmt.Sprintf("%s %s (holder %s)", va.Bank, va.Number, va.Holder))
		if va.Due != "" {
			row("due", va.Due)
		}
	}
	if h := r.History; h != nil {
		row("history.id", h.ID)
		paid := "not yet"
		if h.PaidAt != nil {
			paid = h.PaidAt.Format(time.RFC3339)
		}
		row("history.paid_at", paid)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w)
	}
	for _, n := range r.Notes {
		if _, err := fmt.Fprintln(w, n); err != nil {
			return err
		}
	}
	return nil
}
