package reset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/fakepg/hook"
	fakeiamport "github.com/paymentctl/paymentctl/fakepg/iamport"
	fakeportone "github.com/paymentctl/paymentctl/fakepg/portone"
	faketoss "github.com/paymentctl/paymentctl/fakepg/toss"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server"
)

// SamplePassword is the password of every sample record Seed makes: read
// them with it (GET /payments/histories/{id} and friends).
const SamplePassword = "sample-password"

// The source every sample record belongs to (its source.id is a fresh
// UUID each time).
const (
	SampleSourceSchema = "paymentctl-sample"
	SampleSourceTable  = "orders"
)

// Store ids the sample records are registered under.
const (
	sampleIamportStore = "sample-iamport-store"
	sampleTossStore    = "sample-toss-store"
)

// Defaults of SeedOptions.
const (
	// DefaultSeedWait bounds each wait of Seed for the webhooks a flow
	// causes, and the final wait for the job queue to drain.
	DefaultSeedWait = 30 * time.Second
	// seedPollInterval is how often the seeding instance's webhook workers
	// look for jobs.
	seedPollInterval = 50 * time.Millisecond
	// seedCloseTimeout bounds stopping the seeding instance.
	seedCloseTimeout = 15 * time.Second
)

// Record kinds of a SampleRecord.
const (
	KindHistory     = "history"
	KindReservation = "reservation"
)

// SampleRecord is one record Seed made.
type SampleRecord struct {
	// Kind is KindHistory (a payment) or KindReservation (a saved card).
	Kind string
	// ID is paymentctl's id of the record.
	ID string
	// Vendor is the PG's code and the record's id there.
	Vendor sdk.Vendor
	// SourceID is the record's source.id (schema SampleSourceSchema,
	// table SampleSourceTable).
	SourceID string
	// Flow names the payment flow, e.g. "card, partial cancel".
	Flow string
	// State is the record's state after the flow, e.g. "paid 20000 KRW".
	State string
}

// Sample is what Seed made.
type Sample struct {
	// Password is the password of every record (SamplePassword).
	Password string
	// WebhookURL is the records' webhook_url: the seeding instance's own
	// test receiver, gone once Seed returns.
	WebhookURL string
	// Records are the records in the order they were made.
	Records []SampleRecord
}

// Count returns how many records of kind Seed made.
func (s *Sample) Count(kind string) int {
	n := 0
	for _, r := range s.Records {
		if r.Kind == kind {
			n++
		}
	}
	return n
}

// Lines describes the records for the operator, one line each, and the
// password last.
func (s *Sample) Lines() []string {
	var out []string
	for _, r := range s.Records {
		out = append(out, fmt.Sprintf("%-11s %s  %s %s: %s (source.id %s)",
			r.Kind, r.ID, r.Vendor.Code, r.Flow, r.State, r.SourceID))
	}
	return append(out, fmt.Sprintf("password    %q for every sample record (source %s.%s)", s.Password, SampleSourceSchema, SampleSourceTable))
}

// SeedOptions configures Seed.
type SeedOptions struct {
	// Logger receives the seeding instance's logs; nil discards them.
	Logger *slog.Logger
	// Wait bounds each wait for webhooks; zero means DefaultSeedWait.
	Wait time.Duration
}

// Seed fills the database of cfg with sample data by running the payment
// flows, as a service would, against an instance of paymentctl started in
// this process on cfg's database with its own fake PGs (all on loopback
// ports chosen by the system): an Iamport card payment; an Iamport virtual
// account and its deposit; a Toss card payment with a partial cancel; a
// Toss virtual account waiting for its deposit; a PortOne V2 card
// payment; and a saved card at each PG. It waits for the webhooks the flows cause and for the job queue to
// drain, then stops the instance.
//
// The database must be migrated (RecreateSchema). In dev mode the instance
// still uses fakes: the sample records name payments of fakes that are
// gone afterwards, so they can be read but not cancelled.
func Seed(ctx context.Context, cfg *config.Config, opts SeedOptions) (sample *Sample, err error) {
	if opts.Wait <= 0 {
		opts.Wait = DefaultSeedWait
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	srv, err := server.Start(ctx, server.Options{
		Config:          seedConfig(cfg),
		Logger:          opts.Logger,
		FakeIamportAddr: "127.0.0.1:0",
		FakeTossAddr:    "127.0.0.1:0",
		FakePortOneAddr: "127.0.0.1:0",
		Inbox:           true,
		PollInterval:    seedPollInterval,
	}, "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the seeding instance: %w", err)
	}
	// The seeder's clients share a transport of their own.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	client := &http.Client{Transport: transport}
	defer func() {
		// A connection a client dialed but never sent a request on holds
		// http.Server.Shutdown of the fakes for 5 s: close the idle ones,
		// the seeder's and those of the instance's PG clients (which use
		// http.DefaultTransport), first.
		transport.CloseIdleConnections()
		if t, ok := http.DefaultTransport.(interface{ CloseIdleConnections() }); ok {
			t.CloseIdleConnections()
		}
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), seedCloseTimeout)
		defer cancel()
		if cerr := srv.Close(closeCtx); cerr != nil {
			err = errors.Join(err, fmt.Errorf("stop the seeding instance: %w", cerr))
		}
		log.Debug("seeding instance stopped")
	}()
	api, err := sdk.New(sdk.Options{
		BaseURL:    srv.URL,
		Key:        cfg.Connection.Encryption.Key.Reveal(),
		IV:         cfg.Connection.Encryption.IV.Reveal(),
		HTTPClient: client,
	})
	if err != nil {
		return nil, err
	}
	s := &seeder{
		srv: srv, api: api, wait: opts.Wait,
		iamport: iamport.New(iamport.Options{BaseURL: srv.Fakes.IamportURL, Key: fakeiamport.DefaultKey, Secret: fakeiamport.DefaultSecret, HTTPClient: client}),
		toss:    toss.New(toss.Options{BaseURL: srv.Fakes.TossURL, SecretKey: faketoss.DefaultSecretKey, HTTPClient: client}),
		browser: fakeportone.NewBrowser(srv.Fakes.PortOneURL, fakeportone.DefaultSecret, opts.Wait),
		sample:  &Sample{Password: SamplePassword, WebhookURL: srv.URL + "/payments/internal/webhook"},
	}
	flows := []struct {
		name string
		run  func(context.Context) error
	}{
		{"Iamport card payment", s.iamportCard},
		{"Iamport virtual account and deposit", s.iamportVBank},
		{"Toss card payment with a partial cancel", s.tossCardPartialCancel},
		{"Toss virtual account", s.tossVBank},
		{"PortOne V2 card payment", s.portoneCard},
		{"Iamport saved card", s.iamportSavedCard},
		{"Toss saved card", s.tossSavedCard},
		{"PortOne V2 saved card", s.portoneSavedCard},
	}
	for _, f := range flows {
		if err := f.run(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		log.Debug("seeded", "flow", f.name)
	}
	if err := s.settle(ctx); err != nil {
		return nil, err
	}
	log.Debug("seeding settled: webhooks delivered, job queue empty")
	return s.sample, nil
}

// seedConfig is cfg for the seeding instance: local mode on cfg's
// database, so that the fake PGs run in process whatever cfg's mode, and
// no metrics listener.
func seedConfig(cfg *config.Config) *config.Config {
	c := *cfg
	c.Database.URL = config.Secret(cfg.DatabaseURL())
	c.Mode = config.ModeLocal
	c.Iamport.URL, c.TossPayments.URL, c.PortOne.URL = "", "", ""
	c.Metrics.Addr = ""
	return &c
}

// seeder runs the flows against one seeding instance.
type seeder struct {
	srv     *server.Running
	api     *sdk.Client
	iamport *iamport.Client
	toss    *toss.Client
	// browser does at the fake PortOne V2 what its checkout window does.
	browser *fakeportone.Browser
	wait    time.Duration
	sample  *Sample
}

// newSource returns a fresh source for a sample record.
func newSource() sdk.Source {
	return sdk.Source{Schema: SampleSourceSchema, Table: SampleSourceTable, ID: uuid.NewString()}
}

// register registers a payment made at a fake PG.
func (s *seeder) register(ctx context.Context, v sdk.Vendor, src sdk.Source, price int64) (*sdk.History, error) {
	h, err := s.api.CreateHistory(ctx, sdk.HistoryCreate{
		Vendor: v, Source: src, Price: price, Password: SamplePassword, WebhookURL: s.sample.WebhookURL,
	})
	if err != nil {
		return nil, fmt.Errorf("register the payment: %w", err)
	}
	return h, nil
}

// registerPaidCard registers a card payment made at a fake PG, which
// must be paid already, as the sample record of flow "card".
func (s *seeder) registerPaidCard(ctx context.Context, v sdk.Vendor, src sdk.Source, price int64) error {
	h, err := s.register(ctx, v, src, price)
	if err != nil {
		return err
	}
	if h.PaidAt == nil {
		return errors.New("the card payment was registered unpaid")
	}
	s.addHistory(h, "card")
	return nil
}

// addHistory records a sample payment.
func (s *seeder) addHistory(h *sdk.History, flow string) {
	state := "waiting for deposit"
	switch {
	case h.CancelledAt != nil && h.Refund != nil:
		state = fmt.Sprintf("paid %d %s, refunded %d", h.Price, h.Currency, *h.Refund)
	case h.PaidAt != nil:
		state = fmt.Sprintf("paid %d %s", h.Price, h.Currency)
	}
	s.sample.Records = append(s.sample.Records, SampleRecord{
		Kind: KindHistory, ID: h.ID, Vendor: h.Vendor, SourceID: h.Source.ID, Flow: flow, State: state,
	})
}

// addReservation records a sample saved card.
func (s *seeder) addReservation(r *sdk.Reservation, flow string) {
	s.sample.Records = append(s.sample.Records, SampleRecord{
		Kind: KindReservation, ID: r.ID, Vendor: r.Vendor, SourceID: r.Source.ID, Flow: flow, State: r.Title,
	})
}

func (s *seeder) iamportCard(ctx context.Context) error {
	src := newSource()
	const price = 20000
	p, err := s.iamport.PayOnetime(ctx, iamport.OnetimeRequest{
		CardFields:  iamport.CardFields{CardNumber: "1234-1234-1234-1234", Expiry: "2028-12", Birth: "880311"},
		OrderFields: iamport.OrderFields{MerchantUID: src.ID, Amount: price, Name: "sample order"},
	})
	if err != nil {
		return fmt.Errorf("pay at the fake Iamport: %w", err)
	}
	return s.registerPaidCard(ctx, sdk.Vendor{Code: sdk.VendorIamport, StoreID: sampleIamportStore, UID: p.ImpUID}, src, price)
}

func (s *seeder) iamportVBank(ctx context.Context) error {
	src := newSource()
	const price = 19900
	p, err := s.iamport.CreateVBank(ctx, iamport.VBankRequest{
		MerchantUID: src.ID, Amount: price, VBankCode: "SHINHAN",
		VBankDue: iamport.TimestampOf(time.Now().Add(7 * 24 * time.Hour)), VBankHolder: "Samchon",
		Name: "sample order",
	})
	if err != nil {
		return fmt.Errorf("issue a virtual account at the fake Iamport: %w", err)
	}
	h, err := s.register(ctx, sdk.Vendor{Code: sdk.VendorIamport, StoreID: sampleIamportStore, UID: p.ImpUID}, src, price)
	if err != nil {
		return err
	}
	if _, err := s.iamport.Deposit(ctx, p.ImpUID); err != nil {
		return fmt.Errorf("deposit at the fake Iamport: %w", err)
	}
	ev, err := s.waitEvent(ctx, "the deposit", func(ev sdk.WebhookHistory) bool {
		return ev.Current.ID == h.ID && ev.Current.PaidAt != nil
	})
	if err != nil {
		return err
	}
	s.addHistory(&ev.Current, "virtual account, deposit")
	return nil
}

func (s *seeder) tossCardPartialCancel(ctx context.Context) error {
	src := newSource()
	const price, refund = 20000, 5000
	approved := false
	p, err := s.toss.KeyIn(ctx, toss.KeyInRequest{
		Method: "card", CardNumber: "1111222233334444", CardExpirationYear: "28", CardExpirationMonth: "03",
		OrderID: src.ID, OrderName: "sample order", Amount: price, Approved: &approved,
	})
	if err != nil {
		return fmt.Errorf("pay at the fake Toss: %w", err)
	}
	h, err := s.register(ctx, sdk.Vendor{Code: sdk.VendorToss, StoreID: sampleTossStore, UID: p.PaymentKey}, src, price)
	if err != nil {
		return err
	}
	if h.PaidAt == nil {
		return errors.New("the card payment was registered unpaid")
	}
	if _, err := s.api.CancelHistory(ctx, sdk.CancelCreate{
		Source: src, Password: SamplePassword, Price: refund, Reason: "sample partial cancel",
	}); err != nil {
		return fmt.Errorf("cancel %d of it: %w", refund, err)
	}
	ev, err := s.waitEvent(ctx, "the partial cancel", func(ev sdk.WebhookHistory) bool {
		return ev.Current.ID == h.ID && len(ev.Current.Cancels) == 1
	})
	if err != nil {
		return err
	}
	s.addHistory(&ev.Current, "card, partial cancel")
	return nil
}

func (s *seeder) tossVBank(ctx context.Context) error {
	src := newSource()
	const price = 19900
	approved := false
	p, err := s.toss.CreateVirtualAccount(ctx, toss.VirtualAccountRequest{
		Method: "virtual-account", OrderID: src.ID, OrderName: "sample order", Bank: "신한",
		CustomerName: "Samchon", Amount: price, Approved: &approved,
	})
	if err != nil {
		return fmt.Errorf("issue a virtual account at the fake Toss: %w", err)
	}
	h, err := s.register(ctx, sdk.Vendor{Code: sdk.VendorToss, StoreID: sampleTossStore, UID: p.PaymentKey}, src, price)
	if err != nil {
		return err
	}
	if h.PaidAt != nil {
		return errors.New("the virtual account was registered paid before any deposit")
	}
	s.addHistory(h, "virtual account")
	return nil
}

func (s *seeder) iamportSavedCard(ctx context.Context) error {
	src := newSource()
	if _, err := s.iamport.CreateBillingKey(ctx, src.ID, iamport.BillingKeyRequest{
		CustomerUID: src.ID,
		CardFields:  iamport.CardFields{CardNumber: "1234-5678-1234-5678", Expiry: "2028-12", Birth: "880311"},
	}); err != nil {
		return fmt.Errorf("save a card at the fake Iamport: %w", err)
	}
	r, err := s.api.CreateReservation(ctx, sdk.ReservationCreate{
		Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: sampleIamportStore, UID: src.ID},
		Source: src, Title: "sample saved card", Password: SamplePassword,
	})
	if err != nil {
		return fmt.Errorf("register the saved card: %w", err)
	}
	s.addReservation(r, "saved card")
	return nil
}

func (s *seeder) tossSavedCard(ctx context.Context) error {
	src := newSource()
	b, err := s.toss.IssueBillingKey(ctx, toss.BillingCardRequest{
		CustomerKey: src.ID, CardNumber: "1111222233334444", CardExpirationYear: "28", CardExpirationMonth: "03",
		CardPassword: "99", CustomerBirthday: "880311", ConsumerName: "Samchon",
	})
	if err != nil {
		return fmt.Errorf("save a card at the fake Toss: %w", err)
	}
	r, err := s.api.CreateReservation(ctx, sdk.ReservationCreate{
		Vendor: sdk.Vendor{Code: sdk.VendorToss, StoreID: sampleTossStore, UID: b.BillingKey},
		Source: src, Title: "sample saved card", Password: SamplePassword,
	})
	if err != nil {
		return fmt.Errorf("register the saved card: %w", err)
	}
	s.addReservation(r, "saved card")
	return nil
}

// portoneCard pays by card at the fake PortOne V2's checkout; its
// paymentId is the order (source.id), as PortOne V2 registrations require.
func (s *seeder) portoneCard(ctx context.Context) error {
	src := newSource()
	const price = 30000
	out, err := s.browser.Checkout(ctx, fakeportone.CheckoutRequest{
		PaymentID: src.ID, OrderName: "sample order", TotalAmount: price, Currency: "KRW",
		PayMethod: fakeportone.PayMethodCard, Customer: &portone.Customer{Name: "Samchon"},
	})
	if err != nil {
		return fmt.Errorf("pay at the fake PortOne V2: %w", err)
	}
	if out.Code != "" {
		return fmt.Errorf("the fake PortOne V2 declined the payment: %s", out.Code)
	}
	return s.registerPaidCard(ctx, sdk.Vendor{Code: sdk.VendorPortOne, StoreID: fakeportone.DefaultStoreID, UID: out.PaymentID}, src, price)
}

// portoneSavedCard issues a billing key for the customer source.id at the
// fake PortOne V2 and registers it as a saved card.
func (s *seeder) portoneSavedCard(ctx context.Context) error {
	src := newSource()
	out, err := s.browser.IssueBillingKey(ctx, fakeportone.BillingKeyCheckoutRequest{
		Customer: &portone.Customer{ID: src.ID, Name: "Samchon"},
	})
	if err != nil {
		return fmt.Errorf("save a card at the fake PortOne V2: %w", err)
	}
	r, err := s.api.CreateReservation(ctx, sdk.ReservationCreate{
		Vendor: sdk.Vendor{Code: sdk.VendorPortOne, StoreID: fakeportone.DefaultStoreID, UID: out.BillingKey},
		Source: src, Title: "sample saved card", Password: SamplePassword,
	})
	if err != nil {
		return fmt.Errorf("register the saved card: %w", err)
	}
	s.addReservation(r, "saved card")
	return nil
}

// waitEvent waits until the seeding instance's test receiver has got an
// event matching match, and returns it.
func (s *seeder) waitEvent(ctx context.Context, what string, match func(sdk.WebhookHistory) bool) (sdk.WebhookHistory, error) {
	ctx, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	for n := 1; ; n++ {
		evs, err := s.srv.Inbox.Wait(ctx, n)
		if err != nil {
			return sdk.WebhookHistory{}, fmt.Errorf("no webhook event for %s within %s: %w", what, s.wait, err)
		}
		if len(evs) >= n {
			for _, ev := range evs[n-1:] {
				if match(ev) {
					return ev, nil
				}
			}
			n = len(evs)
		}
	}
}

// settle waits until the fakes have made the first attempt of every
// webhook (their retries, minutes apart, are not waited for) and the job
// queue has worked every job, so that nothing is left half done when the
// instance stops.
func (s *seeder) settle(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	tick := time.NewTicker(seedPollInterval)
	defer tick.Stop()
	for {
		waiting := unattempted(s.srv.Fakes.Iamport.Webhooks()) + unattempted(s.srv.Fakes.Toss.Webhooks())
		what := "webhooks of the fake PGs not yet sent"
		if waiting == 0 {
			err := s.srv.Store.SQLDB().QueryRowContext(ctx,
				"SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'discarded', 'cancelled')").Scan(&waiting)
			if err != nil {
				return fmt.Errorf("count the unfinished webhook jobs: %w", err)
			}
			if waiting == 0 {
				return nil
			}
			what = "webhook jobs unfinished"
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d %s after %s", waiting, what, s.wait)
		case <-tick.C:
		}
	}
}

// unattempted counts the deliveries of h not yet sent once.
func unattempted(h *hook.Sender) int {
	n := 0
	for _, d := range h.Deliveries() {
		if !d.Finished() && len(d.Attempts) == 0 {
			n++
		}
	}
	return n
}
