package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/fakepg"
	"github.com/paymentctl/paymentctl/fakepg/fault"
	fakeiamport "github.com/paymentctl/paymentctl/fakepg/iamport"
	fakeportone "github.com/paymentctl/paymentctl/fakepg/portone"
	faketoss "github.com/paymentctl/paymentctl/fakepg/toss"
)

// Names of the fakes, as --only and --pg take them.
const (
	pgIamport = "iamport"
	pgToss    = "toss"
	pgPortOne = "portone"
)

// webhooksPath is the prefix of paymentctl's own webhook routes; a
// --webhook-url ending in it gets /iamport, /toss and /portone appended.
const webhooksPath = "/payments/webhooks"

// fakeShutdownTimeout bounds the graceful stop after Ctrl-C.
const fakeShutdownTimeout = 10 * time.Second

// fakeOptions are the inputs of `paymentctl fake`.
type fakeOptions struct {
	IO     *iostreams
	Config *config.Config
	// Only is "", pgIamport, pgToss or pgPortOne.
	Only string
	// WebhookURL is --webhook-url as given; IamportWebhookURL,
	// TossWebhookURL and PortOneWebhookURL are each fake's target after
	// the flags are combined ("" means the fake's own /internal/webhook
	// sink).
	WebhookURL        string
	IamportWebhookURL string
	TossWebhookURL    string
	PortOneWebhookURL string
	Faults            fault.Faults
	// ReadyFile, when set, is written once the fakes listen and removed
	// when they stop.
	ReadyFile string
}

// newFakeCmd returns `paymentctl fake` and its subcommands. runF replaces
// runFake in tests.
func newFakeCmd(f *factory, runF func(context.Context, *fakeOptions) error) *cobra.Command {
	opts := &fakeOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "fake",
		Short: "Run the fake payment gateways for local simulation",
		Long: `Run fake Iamport (PortOne v1), Toss Payments and PortOne V2 servers that speak
the real APIs, so a service can make, deposit into and cancel payments on a
laptop. They listen on 127.0.0.1 (ports fake.iamport_port, fake.toss_port and
fake.portone_port, 10851, 30771 and 10861 by default) and accept their public
test credentials, which are printed at start. The fake PortOne V2 is driven
unchanged by the official @portone/server-sdk and signs its webhooks with the
printed whsec_ secret (Standard Webhooks). Every API call and every webhook
delivery attempt is logged to stderr; --log-level debug adds the fakes' own
diagnostics.

Webhooks go to each fake's own /internal/webhook sink unless told otherwise.
--webhook-url sends every fake's webhooks to one URL; when it ends in
/payments/webhooks (paymentctl's routes), /iamport, /toss and /portone are
appended, so --webhook-url http://127.0.0.1:37821/payments/webhooks feeds a
local 'paymentctl serve'. --iamport-webhook-url, --toss-webhook-url and
--portone-webhook-url set one fake's target and win over --webhook-url. Failed
deliveries are retried on the real PGs' schedules (Iamport every minute, 5
times; Toss after 1, 4, 16, ... minutes, 7 times; PortOne after 1, 4, 16, 64
and 256 minutes).

Fault flags make the fakes misbehave on purpose. A ROUTE is "[METHOD ]PATH",
PATH a pattern where * matches one path segment: "POST /v1/payments/*/cancel"
(Toss cancel), "POST /payments/cancel" (Iamport cancel), "POST
/payments/*/cancel" (PortOne V2 cancel). --latency DURATION waits before every
call is handled; --latency 'ROUTE=DURATION' handles the calls of ROUTE at once
and answers that much later, so a client whose timeout is shorter gives up on
a call that took effect. --drop-response ROUTE handles the call, then closes
the connection without an answer. Both repeat, and the fakes apply a route
only where it exists.

The subcommands drive a running fake from another terminal: pay, deposit,
cancel, billing-key.`,
		Example: `  # every fake, webhooks to their own sinks (see them in the log)
  paymentctl fake

  # feed a local payment server
  paymentctl fake --webhook-url http://127.0.0.1:37821/payments/webhooks

  # only Toss, on another port, declining half the cards, webhooks sent twice
  paymentctl fake --only toss --fake-toss-port 30772 --decline-rate 0.5 --webhook-duplicate

  # refunds that happen but answer after 15s (past a 10s client timeout) or
  # never, and half the webhooks lost
  paymentctl fake --latency 'POST /v1/payments/*/cancel=15s' \
    --drop-response 'POST /payments/cancel' --webhook-drop-rate 0.5`,
		Args:        noArgs,
		Annotations: loadsConfig(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.check(); err != nil {
				return err
			}
			cfg, err := f.loadConfig(cmd)
			if err != nil {
				return err
			}
			opts.Config = cfg
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runFake(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Only, "only", "", "run one fake: iamport, toss or portone")
	fl.Int(config.FlagName("fake.iamport_port"), 0, "port of the fake Iamport (PAYMENT_FAKE_IAMPORT_PORT, default 10851)")
	fl.Int(config.FlagName("fake.toss_port"), 0, "port of the fake Toss Payments (PAYMENT_FAKE_TOSS_PORT, default 30771)")
	fl.Int(config.FlagName("fake.portone_port"), 0, "port of the fake PortOne V2 (PAYMENT_FAKE_PORTONE_PORT, default 10861)")
	fl.StringVar(&opts.WebhookURL, "webhook-url", "", "where every fake sends webhooks; .../payments/webhooks gets /iamport, /toss and /portone appended")
	fl.StringVar(&opts.IamportWebhookURL, "iamport-webhook-url", "", "where the fake Iamport sends webhooks (wins over --webhook-url)")
	fl.StringVar(&opts.TossWebhookURL, "toss-webhook-url", "", "where the fake Toss sends webhooks (wins over --webhook-url)")
	fl.StringVar(&opts.PortOneWebhookURL, "portone-webhook-url", "", "where the fake PortOne V2 sends webhooks (wins over --webhook-url)")
	fl.Float64Var(&opts.Faults.DeclineRate, "decline-rate", 0, "share (0 to 1) of card and billing payments to decline")
	fl.Var(latencyFlag{&opts.Faults}, "latency", "delay every call before handling it (300ms), or answer ROUTE's calls late after handling them ('POST /v1/payments/*/cancel=15s'); repeatable")
	fl.Var(routesFlag{&opts.Faults.DropResponse}, "drop-response", "handle ROUTE's calls, then close the connection without answering; repeatable")
	fl.Float64Var(&opts.Faults.ErrorRate, "error-rate", 0, "share (0 to 1) of API calls answered with HTTP 500")
	fl.DurationVar(&opts.Faults.WebhookDelay, "webhook-delay", 0, "delay before each webhook delivery, e.g. 2s")
	fl.BoolVar(&opts.Faults.WebhookDuplicate, "webhook-duplicate", false, "deliver every webhook twice")
	fl.BoolVar(&opts.Faults.WebhookReorder, "webhook-reorder", false, "hold webhooks briefly and deliver each batch in reverse order")
	fl.Float64Var(&opts.Faults.WebhookDropRate, "webhook-drop-rate", 0, "share (0 to 1) of webhooks never sent, not even retried")
	fl.StringVar(&opts.ReadyFile, "ready-file", "", "write the fakes' URLs to this file (KEY=value lines) once they listen; removed on exit")

	cmd.AddCommand(
		newFakePayCmd(f, nil),
		newFakeDepositCmd(f, nil),
		newFakeCancelCmd(f, nil),
		newFakeBillingKeyCmd(f, nil),
	)
	return cmd
}

// check validates the flags and combines the webhook targets.
func (o *fakeOptions) check() error {
	switch o.Only {
	case "", pgIamport, pgToss, pgPortOne:
	default:
		return &usageError{fmt.Errorf("--only %q: use iamport, toss or portone", o.Only)}
	}
	rates := []struct {
		flag string
		v    float64
	}{{"--decline-rate", o.Faults.DeclineRate}, {"--error-rate", o.Faults.ErrorRate}, {"--webhook-drop-rate", o.Faults.WebhookDropRate}}
	for _, r := range rates {
		if r.v < 0 || r.v > 1 {
			return &usageError{fmt.Errorf("%s %v: use a share between 0 and 1", r.flag, r.v)}
		}
	}
	delays := []struct {
		flag string
		v    time.Duration
	}{{"--latency", o.Faults.Latency}, {"--webhook-delay", o.Faults.WebhookDelay}}
	for _, d := range delays {
		if d.v < 0 {
			return &usageError{fmt.Errorf("%s %v: must not be negative", d.flag, d.v)}
		}
	}
	urls := []struct{ flag, v string }{
		{"--webhook-url", o.WebhookURL}, {"--iamport-webhook-url", o.IamportWebhookURL}, {"--toss-webhook-url", o.TossWebhookURL},
		{"--portone-webhook-url", o.PortOneWebhookURL},
	}
	for _, u := range urls {
		if u.v != "" && !httpURL(u.v) {
			return &usageError{fmt.Errorf("%s %q: use an http(s) URL such as http://127.0.0.1:37821/payments/webhooks", u.flag, u.v)}
		}
	}
	for _, t := range []struct {
		pg     string
		target *string
	}{{pgIamport, &o.IamportWebhookURL}, {pgToss, &o.TossWebhookURL}, {pgPortOne, &o.PortOneWebhookURL}} {
		if *t.target == "" {
			*t.target = webhookTarget(o.WebhookURL, t.pg)
		}
	}
	return nil
}

// webhookTarget is the fake pg's share of --webhook-url: a URL ending in
// /payments/webhooks (paymentctl's routes) gets /iamport, /toss or
// /portone appended, any other URL is used by every fake as it is.
func webhookTarget(u, pg string) string {
	if u == "" {
		return ""
	}
	if parsed, err := url.Parse(u); err == nil && strings.TrimRight(parsed.Path, "/") == webhooksPath {
		if parsed.RawQuery == "" && parsed.Fragment == "" {
			return strings.TrimRight(u, "/") + "/" + pg
		}
	}
	return u
}

// httpURL reports whether s is an absolute http(s) URL.
func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// runFake runs the fakes until ctx ends (Ctrl-C), then stops them.
func runFake(ctx context.Context, opts *fakeOptions) error {
	log := newLogger(opts.IO.ErrOut, opts.Config.Log.Format, opts.Config.Log.Level)
	so := fakeSetOptions{
		Only:              opts.Only,
		IamportAddr:       loopback(opts.Config.Fake.IamportPort),
		TossAddr:          loopback(opts.Config.Fake.TossPort),
		PortOneAddr:       loopback(opts.Config.Fake.PortOnePort),
		IamportWebhookURL: opts.IamportWebhookURL,
		TossWebhookURL:    opts.TossWebhookURL,
		PortOneWebhookURL: opts.PortOneWebhookURL,
		Faults:            opts.Faults,
		Capacity:          opts.Config.Fake.Capacity,
		Log:               log,
	}
	set, err := startFakes(ctx, so)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%w (is another 'paymentctl fake' running? pick other ports with --fake-iamport-port, --fake-toss-port and --fake-portone-port)", err)
		}
		return err
	}
	stop := func() error {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fakeShutdownTimeout)
		defer cancel()
		return set.Close(cctx)
	}
	if err := printFakes(opts.IO.Out, set, opts.Faults); err != nil {
		return errors.Join(err, stop())
	}
	if opts.ReadyFile != "" {
		if err := writeReadyFile(opts.ReadyFile, set); err != nil {
			return errors.Join(err, stop())
		}
		defer os.Remove(opts.ReadyFile)
	}

	<-ctx.Done()
	log.Info("shutting down")
	err = stop()
	log.Info("stopped")
	return err
}

// loopback is the listen address of a fake on port.
func loopback(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// printFakes writes the banner: each fake's URL, credentials and webhook
// target, and the faults in force.
func printFakes(w io.Writer, set *fakepg.Fakes, faults fault.Faults) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if set.Iamport != nil {
		fmt.Fprintf(tw, "Fake Iamport (PortOne v1)\t%s\n", set.IamportURL)
		fmt.Fprintf(tw, "  imp_key / imp_secret\t%s / %s\n", fakeiamport.DefaultKey, fakeiamport.DefaultSecret)
		fmt.Fprintf(tw, "  webhooks to\t%s\n", set.IamportWebhookURL)
	}
	if set.Toss != nil {
		fmt.Fprintf(tw, "Fake Toss Payments\t%s\n", set.TossURL)
		fmt.Fprintf(tw, "  secret key\t%s\n", faketoss.DefaultSecretKey)
		fmt.Fprintf(tw, "  webhooks to\t%s\n", set.TossWebhookURL)
	}
	if set.PortOne != nil {
		fmt.Fprintf(tw, "Fake PortOne V2\t%s\n", set.PortOneURL)
		fmt.Fprintf(tw, "  store id\t%s\n", fakeportone.DefaultStoreID)
		fmt.Fprintf(tw, "  API secret\t%s\n", fakeportone.DefaultSecret)
		fmt.Fprintf(tw, "  webhook secret\t%s\n", fakeportone.DefaultWebhookSecret)
		fmt.Fprintf(tw, "  webhooks to\t%s\n", set.PortOneWebhookURL)
	}
	fmt.Fprintf(tw, "Faults\t%s\n", describeFaults(faults))
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "Calls and webhooks are logged to stderr. Press Ctrl-C to stop.")
	return err
}
