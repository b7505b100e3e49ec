package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"strings"

	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/sdk"

	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/toss"
)

// Payment methods of `paymentctl fake pay`.
const (
	payCard  = "card"
	payVBank = "vbank"
)

// fakeVBankLife is how long a virtual account waits for its deposit.
const fakeVBankLife = 7 * 24 * time.Hour

// fakePayOptions are the inputs of `paymentctl fake pay card|vbank`.
type fakePayOptions struct {
	fakeClientOptions
	// Method is payCard or payVBank.
	Method  string
	Amount  int64
	OrderID string
	// Approve (Toss cards only) approves the payment at once instead of
	// leaving it IN_PROGRESS for the payment server to confirm.
	Approve bool
	// Register, when set, registers the payment with the paymentctl API at
	// Register.APIURL right after paying, as the service would.
	Register *registration
}

// registration is how `fake pay --register` calls paymentctl's API.
type registration struct {
	APIURL, Key, IV string
	Password        string
	WebhookURL      string
	// Title is a saved card's title (`fake billing-key --register`).
	Title string
}

// newFakePayCmd returns `paymentctl fake pay` with its card and vbank
// subcommands. runF replaces runFakePay in tests.
func newFakePayCmd(f *factory, runF func(context.Context, *fakePayOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pay <method>",
		Short: "Make a card or virtual-account payment on a running fake",
		Example: `  paymentctl fake pay card --pg iamport --amount 20000
  paymentctl fake pay vbank --pg toss --amount 19900 --register`,
		Args: noArgs,
	}
	cmd.AddCommand(
		newFakePayMethodCmd(f, payCard, runF),
		newFakePayMethodCmd(f, payVBank, runF),
	)
	return cmd
}

// newFakePayMethodCmd returns `paymentctl fake pay card` or `... vbank`.
func newFakePayMethodCmd(f *factory, method string, runF func(context.Context, *fakePayOptions) error) *cobra.Command {
	opts := &fakePayOptions{fakeClientOptions: fakeClientOptions{IO: f.IO}, Method: method}
	cmd := &cobra.Command{Args: noArgs}
	switch method {
	case payCard:
		cmd.Use = "card"
		cmd.Short = "Pay by card, as a customer would in the PG's window"
		cmd.Long = `Make a card payment on a running fake and print the ids to register it with.

Iamport: a one-time card payment (POST /subscribe/payments/onetime), paid at once.
Toss: a key-in payment left IN_PROGRESS (__approved: false), as after Toss's
checkout window; registering it with paymentctl (POST /payments/histories)
confirms it. --approve approves it at once instead.
PortOne V2: a card checkout (POST /internal/checkout), PAID at once; the order
id is the paymentId.`
		cmd.Example = `  paymentctl fake pay card --pg iamport --amount 20000
  paymentctl fake pay card --pg toss --amount 20000 --json
  paymentctl fake pay card --pg portone --amount 20000 --register`
	case payVBank:
		cmd.Use = "vbank"
		cmd.Short = "Issue a virtual account to pay into"
		cmd.Long = `Issue a virtual account on a running fake, due in 7 days, and print the ids to
register it with. It waits for 'paymentctl fake deposit'.

Iamport: POST /vbanks (status ready). Toss: POST /v1/virtual-accounts (status
WAITING_FOR_DEPOSIT). PortOne V2: a virtual-account checkout (status
VIRTUAL_ACCOUNT_ISSUED).`
		cmd.Example = `  paymentctl fake pay vbank --pg iamport --amount 19900
  paymentctl fake pay vbank --pg portone --amount 19900 --register`
	}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if opts.Amount <= 0 {
			return &usageError{errors.New("--amount is required: a positive number of won, e.g. --amount 20000")}
		}
		if err := opts.resolve(f, cmd); err != nil {
			return err
		}
		if opts.OrderID == "" {
			opts.OrderID = newOrderID()
		}
		reg, err := newRegistration(f, cmd)
		if err != nil {
			return err
		}
		opts.Register = reg
		if runF != nil {
			return runF(cmd.Context(), opts)
		}
		return runFakePay(cmd.Context(), opts)
	}
	addFakeClientFlags(cmd, &opts.fakeClientOptions)
	fl := cmd.Flags()
	fl.Int64Var(&opts.Amount, "amount", 0, "amount in won (required)")
	fl.StringVar(&opts.OrderID, "order-id", "", "order id, the registration's source.id (default a fresh UUID)")
	addRegisterFlags(cmd, "then register the payment with paymentctl (POST /payments/histories), as a service would")
	fl.String("record-webhook-url", "", "with --register: where paymentctl forwards the payment's events (default the local test receiver)")
	if method == payCard {
		fl.BoolVar(&opts.Approve, "approve", false, "Toss: approve at once (DONE) instead of leaving the payment to paymentctl")
	}
	return cmd
}

// runFakePay makes the payment and prints it.
func runFakePay(ctx context.Context, opts *fakePayOptions) error {
	var (
		r   fakeResult
		err error
	)
	switch opts.PG {
	case pgIamport:
		r, err = payIamport(ctx, opts)
	case pgPortOne:
		r, err = payPortOne(ctx, opts)
	default:
		r, err = payToss(ctx, opts)
	}
	if err != nil {
		return opts.fakeErr(fmt.Sprintf("pay %s at %s", opts.Method, opts.PG), err)
	}
	if r.Method == payVBank {
		r.Notes = append(r.Notes, fmt.Sprintf("Deposit into it: paymentctl fake deposit --pg %s %s", opts.PG, r.Vendor.UID))
	}
	if opts.Register == nil {
		r.Notes = append(r.Notes, registerNote(r))
		return printResult(opts.IO.Out, opts.JSON, r)
	}
	h, err := opts.Register.create(ctx, r)
	if err != nil {
		return fmt.Errorf("register the payment with paymentctl at %s: %w", opts.Register.APIURL, err)
	}
	r.History = h
	r.Notes = append(r.Notes, fmt.Sprintf("Registered with paymentctl as history %s; read it with the password %q.", h.ID, opts.Register.Password))
	return printResult(opts.IO.Out, opts.JSON, r)
}

// addRegisterFlags adds --register, with usage saying what it registers,
// and the flags every registration reads: --api-url and --password.
func addRegisterFlags(cmd *cobra.Command, usage string) {
	fl := cmd.Flags()
	fl.Bool("register", false, usage)
	fl.String("api-url", "", "with --register: paymentctl's API (default the local server, http://127.0.0.1:<api.port>)")
	fl.String("password", "some-password", "with --register: the record's password")
}

// newRegistration reads the --register flags (addRegisterFlags, and the
// command's own --record-webhook-url or --title) and the API's address
// and connection key from the configuration. It returns nil when
// --register is not set.
func newRegistration(f *factory, cmd *cobra.Command) (*registration, error) {
	fl := cmd.Flags()
	if register, _ := fl.GetBool("register"); !register {
		return nil, nil
	}
	cfg, err := f.loadConfig(cmd)
	if err != nil {
		return nil, err
	}
	reg := &registration{Key: cfg.Connection.Encryption.Key.Reveal(), IV: cfg.Connection.Encryption.IV.Reveal()}
	reg.APIURL, _ = fl.GetString("api-url")
	reg.Password, _ = fl.GetString("password")
	reg.Title, _ = fl.GetString("title")
	if reg.APIURL == "" {
		reg.APIURL = "http://" + loopback(cfg.API.Port)
	}
	urls := []struct{ flag, v string }{{"--api-url", reg.APIURL}}
	if fl.Lookup("record-webhook-url") != nil {
		reg.WebhookURL, _ = fl.GetString("record-webhook-url")
		if reg.WebhookURL == "" {
			reg.WebhookURL = strings.TrimRight(reg.APIURL, "/") + "/payments/internal/webhook"
		}
		urls = append(urls, struct{ flag, v string }{"--record-webhook-url", reg.WebhookURL})
	}
	for _, u := range urls {
		if !httpURL(u.v) {
			return nil, &usageError{fmt.Errorf("%s %q: use an http(s) URL", u.flag, u.v)}
		}
	}
	return reg, nil
}

// client is the SDK client registrations go through.
func (reg *registration) client() (*sdk.Client, error) {
	return sdk.New(sdk.Options{BaseURL: reg.APIURL, Key: reg.Key, IV: reg.IV})
}

// create registers the paid result with paymentctl through the SDK.
func (reg *registration) create(ctx context.Context, r fakeResult) (*sdk.History, error) {
	client, err := reg.client()
	if err != nil {
		return nil, err
	}
	return client.CreateHistory(ctx, sdk.HistoryCreate{
		Vendor:     r.Vendor,
		Source:     sdk.Source{Schema: "paymentctl-fake", Table: "orders", ID: r.SourceID},
		Price:      r.Price,
		Password:   reg.Password,
		WebhookURL: reg.WebhookURL,
	})
}

// reserve registers the billing key of r with paymentctl as a saved card
// through the SDK.
func (reg *registration) reserve(ctx context.Context, r fakeResult) (*sdk.Reservation, error) {
	client, err := reg.client()
	if err != nil {
		return nil, err
	}
	return client.CreateReservation(ctx, sdk.ReservationCreate{
		Vendor:   r.Vendor,
		Source:   sdk.Source{Schema: "paymentctl-fake", Table: "customers", ID: r.SourceID},
		Title:    reg.Title,
		Password: reg.Password,
	})
}

func payIamport(ctx context.Context, opts *fakePayOptions) (fakeResult, error) {
	c := opts.iamportClient()
	now := opts.Now()
	var (
		p   *iamport.Payment
		err error
	)
	switch opts.Method {
	case payCard:
		p, err = c.PayOnetime(ctx, iamport.OnetimeRequest{
			CardFields: iamport.CardFields{
				CardNumber: iamportCardNumber(fakeCardNumber),
				Expiry:     now.AddDate(3, 0, 0).Format("2006-01"),
				Birth:      fakeBirth,
			},
			OrderFields: iamport.OrderFields{MerchantUID: opts.OrderID, Amount: iamport.Amount(opts.Amount), Name: fakeOrderName},
		})
	default:
		p, err = c.CreateVBank(ctx, iamport.VBankRequest{
			MerchantUID: opts.OrderID,
			Amount:      iamport.Amount(opts.Amount),
			VBankCode:   fakeIamportVBankCode,
			VBankDue:    iamport.TimestampOf(now.Add(fakeVBankLife)),
			VBankHolder: fakeHolder,
			Name:        fakeOrderName,
		})
	}
	if fp, ok := iamport.FailedPayment(err); ok {
		return fakeResult{}, fmt.Errorf("declined, payment %s failed: %w", fp.ImpUID, err)
	}
	if err != nil {
		return fakeResult{}, err
	}
	return iamportResult(p), nil
}

func payToss(ctx context.Context, opts *fakePayOptions) (fakeResult, error) {
	c := opts.tossClient()
	var (
		p   *toss.Payment
		err error
	)
	switch opts.Method {
	case payCard:
		in := toss.KeyInRequest{
			CardNumber:          fakeCardNumber,
			CardExpirationYear:  opts.Now().AddDate(3, 0, 0).Format("06"),
			CardExpirationMonth: "12",
			Amount:              opts.Amount,
			OrderID:             opts.OrderID,
			OrderName:           fakeOrderName,
			CustomerBirthday:    fakeBirth,
		}
		if !opts.Approve {
			approved := false
			in.Approved = &approved
		}
		p, err = c.KeyIn(ctx, in)
	default:
		p, err = c.CreateVirtualAccount(ctx, toss.VirtualAccountRequest{
			OrderID:      opts.OrderID,
			OrderName:    fakeOrderName,
			Bank:         fakeTossBank,
			CustomerName: fakeHolder,
			Amount:       opts.Amount,
		})
	}
	if err != nil {
		return fakeResult{}, err
	}
	r := tossResult(p)
	if p.Status == toss.StatusInProgress {
		r.Notes = append(r.Notes, "Toss leaves it IN_PROGRESS, as after its checkout window: registering it confirms it (--approve approves it now).")
	}
	return r, nil
}

// iamportCardNumber writes 16 digits the way Iamport wants them,
// dddd-dddd-dddd-dddd.
func iamportCardNumber(digits string) string {
	return digits[0:4] + "-" + digits[4:8] + "-" + digits[8:12] + "-" + digits[12:16]
}
