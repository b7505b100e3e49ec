package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/fakepg"
	"github.com/paymentctl/paymentctl/fakepg/fault"
	fakeportone "github.com/paymentctl/paymentctl/fakepg/portone"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/sdk"
)

// testFakeFactory returns a factory whose environment is env, whose output
// goes to the returned buffer and whose clock is fixed.
func testFakeFactory(env map[string]string) (*factory, *bytes.Buffer) {
	out := &bytes.Buffer{}
	return &factory{
		IO: &iostreams{In: strings.NewReader(""), Out: out, ErrOut: io.Discard},
		LookupEnv: func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		},
		Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) },
	}, out
}

// execCmd runs cmd with args the way the root command would.
func execCmd(cmd *cobra.Command, args ...string) error {
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	cmd.SetArgs(args)
	return cmd.ExecuteContext(context.Background())
}

func TestFakeCmdOptions(t *testing.T) {
	// fakeView is the part of fakeOptions the flags decide.
	type fakeView struct {
		Only                                                 string
		IamportWebhookURL, TossWebhookURL, PortOneWebhookURL string
		Faults                                               fault.Faults
		ReadyFile                                            string
		IamportPort, TossPort                                int
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want fakeView
	}{
		{
			name: "defaults",
			want: fakeView{IamportPort: 10851, TossPort: 30771},
		},
		{
			name: "one fake on another port",
			args: []string{"--only", "toss", "--fake-toss-port", "30772"},
			want: fakeView{Only: "toss", IamportPort: 10851, TossPort: 30772},
		},
		{
			name: "ports from the environment",
			env:  map[string]string{"PAYMENT_FAKE_IAMPORT_PORT": "41000", "PAYMENT_FAKE_TOSS_PORT": "41001"},
			want: fakeView{IamportPort: 41000, TossPort: 41001},
		},
		{
			name: "paymentctl's webhook routes get the PG appended",
			args: []string{"--webhook-url", "http://127.0.0.1:37821/payments/webhooks"},
			want: fakeView{
				IamportWebhookURL: "http://127.0.0.1:37821/payments/webhooks/iamport",
				TossWebhookURL:    "http://127.0.0.1:37821/payments/webhooks/toss",
				PortOneWebhookURL: "http://127.0.0.1:37821/payments/webhooks/portone",
				IamportPort:       10851, TossPort: 30771,
			},
		},
		{
			name: "trailing slash",
			args: []string{"--webhook-url", "https://pay.example.com/payments/webhooks/"},
			want: fakeView{
				IamportWebhookURL: "https://pay.example.com/payments/webhooks/iamport",
				TossWebhookURL:    "https://pay.example.com/payments/webhooks/toss",
				PortOneWebhookURL: "https://pay.example.com/payments/webhooks/portone",
				IamportPort:       10851, TossPort: 30771,
			},
		},
		{
			name: "any other URL is shared",
			args: []string{"--webhook-url", "http://127.0.0.1:9000/hook"},
			want: fakeView{
				IamportWebhookURL: "http://127.0.0.1:9000/hook", TossWebhookURL: "http://127.0.0.1:9000/hook",
				PortOneWebhookURL: "http://127.0.0.1:9000/hook",
				IamportPort:       10851, TossPort: 30771,
			},
		},
		{
			name: "a per-fake URL wins",
			args: []string{"--webhook-url", "http://127.0.0.1:37821/payments/webhooks", "--toss-webhook-url", "http://127.0.0.1:9000/toss-only"},
			want: fakeView{
				IamportWebhookURL: "http://127.0.0.1:37821/payments/webhooks/iamport",
				TossWebhookURL:    "http://127.0.0.1:9000/toss-only",
				PortOneWebhookURL: "http://127.0.0.1:37821/payments/webhooks/portone",
				IamportPort:       10851, TossPort: 30771,
			},
		},
		{
			name: "only a per-fake URL",
			args: []string{"--iamport-webhook-url", "http://127.0.0.1:9000/i"},
			want: fakeView{IamportWebhookURL: "http://127.0.0.1:9000/i", IamportPort: 10851, TossPort: 30771},
		},
		{
			name: "every fault",
			args: []string{
				"--decline-rate", "0.25", "--latency", "300ms", "--error-rate", "1",
				"--webhook-delay", "2s", "--webhook-duplicate", "--webhook-reorder",
			},
			want: fakeView{
				Faults: fault.Faults{
					DeclineRate: 0.25, Latency: 300 * time.Millisecond, ErrorRate: 1,
					WebhookDelay: 2 * time.Second, WebhookDuplicate: true, WebhookReorder: true,
				},
				IamportPort: 10851, TossPort: 30771,
			},
		},
		{
			name: "route faults",
			args: []string{
				"--latency", "POST /v1/payments/*/cancel=15s", "--latency", "/payments/cancel=2s",
				"--drop-response", "post /payments/cancel", "--drop-response", "POST /v1/payments/confirm",
				"--webhook-drop-rate", "0.5",
			},
			want: fakeView{
				Faults: fault.Faults{
					RouteLatency: []fault.RouteLatency{
						{Route: fault.Route{Method: "POST", Path: "/v1/payments/*/cancel"}, Latency: 15 * time.Second},
						{Route: fault.Route{Path: "/payments/cancel"}, Latency: 2 * time.Second},
					},
					DropResponse: []fault.Route{
						{Method: "POST", Path: "/payments/cancel"},
						{Method: "POST", Path: "/v1/payments/confirm"},
					},
					WebhookDropRate: 0.5,
				},
				IamportPort: 10851, TossPort: 30771,
			},
		},
		{
			name: "latency for every call and for a route",
			args: []string{"--latency", "POST /v1/payments/*/cancel=15s", "--latency", "300ms"},
			want: fakeView{
				Faults: fault.Faults{
					Latency:      300 * time.Millisecond,
					RouteLatency: []fault.RouteLatency{{Route: fault.Route{Method: "POST", Path: "/v1/payments/*/cancel"}, Latency: 15 * time.Second}},
				},
				IamportPort: 10851, TossPort: 30771,
			},
		},
		{
			name: "ready file",
			args: []string{"--ready-file", "fake.env"},
			want: fakeView{ReadyFile: "fake.env", IamportPort: 10851, TossPort: 30771},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := testFakeFactory(tt.env)
			var got *fakeOptions
			cmd := newFakeCmd(f, func(_ context.Context, o *fakeOptions) error {
				got = o
				return nil
			})
			if err := execCmd(cmd, tt.args...); err != nil {
				t.Fatalf("fake %v: %v", tt.args, err)
			}
			view := fakeView{
				Only: got.Only, IamportWebhookURL: got.IamportWebhookURL, TossWebhookURL: got.TossWebhookURL, PortOneWebhookURL: got.PortOneWebhookURL,
				Faults: got.Faults, ReadyFile: got.ReadyFile,
				IamportPort: got.Config.Fake.IamportPort, TossPort: got.Config.Fake.TossPort,
			}
			if diff := cmp.Diff(tt.want, view); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFakeCmdUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown fake", []string{"--only", "paypal"}, `--only "paypal": use iamport, toss or portone`},
		{"rate above one", []string{"--decline-rate", "1.5"}, "--decline-rate 1.5: use a share between 0 and 1"},
		{"negative rate", []string{"--error-rate", "-0.1"}, "--error-rate -0.1: use a share between 0 and 1"},
		{"negative latency", []string{"--latency", "-1s"}, "--latency -1s: must not be negative"},
		{"negative webhook delay", []string{"--webhook-delay", "-1s"}, "--webhook-delay -1s: must not be negative"},
		{"not a URL", []string{"--webhook-url", "127.0.0.1:37821"}, `--webhook-url "127.0.0.1:37821": use an http(s) URL`},
		{"not http", []string{"--toss-webhook-url", "ftp://x/y"}, `--toss-webhook-url "ftp://x/y": use an http(s) URL`},
		{"argument", []string{"now"}, `unknown command "now" for "fake"`},
		{"bad duration", []string{"--latency", "soon"}, `invalid argument "soon"`},
		{"bad route latency", []string{"--latency", "POST /x=soon"}, `invalid duration "soon"`},
		{"negative route latency", []string{"--latency", "POST /x=-1s"}, "latency must not be negative"},
		{"route without a path", []string{"--latency", "POST=1s"}, "PATH starting with /"},
		{"drop-response without a path", []string{"--drop-response", "payments/cancel"}, "PATH starting with /"},
		{"bad pattern", []string{"--drop-response", "POST /v1/["}, "syntax error in pattern"},
		{"webhook drop rate above one", []string{"--webhook-drop-rate", "2"}, "--webhook-drop-rate 2: use a share between 0 and 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := testFakeFactory(nil)
			cmd := newFakeCmd(f, func(context.Context, *fakeOptions) error {
				t.Fatal("runF called despite a usage error")
				return nil
			})
			err := execCmd(cmd, tt.args...)
			var uerr *usageError
			if !errors.As(err, &uerr) {
				t.Fatalf("fake %v: err = %v, want a usage error", tt.args, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("fake %v: err = %q, want it to contain %q", tt.args, err, tt.want)
			}
		})
	}
}

func TestDescribeFaults(t *testing.T) {
	cancel := fault.Route{Method: "POST", Path: "/v1/payments/*/cancel"}
	tests := []struct {
		in   fault.Faults
		want string
	}{
		{fault.Faults{}, "none"},
		{fault.Faults{DeclineRate: 0.5, Latency: time.Second}, "--decline-rate 0.5 --latency 1s"},
		{
			fault.Faults{
				RouteLatency:    []fault.RouteLatency{{Route: cancel, Latency: 15 * time.Second}},
				DropResponse:    []fault.Route{{Path: "/payments/cancel"}},
				WebhookDropRate: 0.25,
			},
			"--latency 'POST /v1/payments/*/cancel=15s' --drop-response '/payments/cancel' --webhook-drop-rate 0.25",
		},
	}
	for _, tt := range tests {
		if got := describeFaults(tt.in); got != tt.want {
			t.Errorf("describeFaults(%+v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWebhookTargets(t *testing.T) {
	tests := []struct {
		in, iamport, toss, portone string
	}{
		{"", "", "", ""},
		{"http://127.0.0.1:37821/payments/webhooks", "http://127.0.0.1:37821/payments/webhooks/iamport", "http://127.0.0.1:37821/payments/webhooks/toss", "http://127.0.0.1:37821/payments/webhooks/portone"},
		{"http://h/payments/webhooks/", "http://h/payments/webhooks/iamport", "http://h/payments/webhooks/toss", "http://h/payments/webhooks/portone"},
		{"http://h/prefix/payments/webhooks", "http://h/prefix/payments/webhooks", "http://h/prefix/payments/webhooks", "http://h/prefix/payments/webhooks"},
		{"http://h/payments/webhooks/iamport", "http://h/payments/webhooks/iamport", "http://h/payments/webhooks/iamport", "http://h/payments/webhooks/iamport"},
		{"http://h/payments/webhooks?x=1", "http://h/payments/webhooks?x=1", "http://h/payments/webhooks?x=1", "http://h/payments/webhooks?x=1"},
		{"http://h/other", "http://h/other", "http://h/other", "http://h/other"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := [3]string{webhookTarget(tt.in, pgIamport), webhookTarget(tt.in, pgToss), webhookTarget(tt.in, pgPortOne)}
			if want := [3]string{tt.iamport, tt.toss, tt.portone}; got != want {
				t.Errorf("webhookTarget(%q, iamport|toss|portone) = %q, want %q", tt.in, got, want)
			}
		})
	}
}

// clientView is the part of fakeClientOptions the flags decide.
type clientView struct {
	PG, IamportURL, TossURL, PortOneURL string
	JSON                                bool
}

func viewOf(o fakeClientOptions) clientView {
	return clientView{PG: o.PG, IamportURL: o.IamportURL, TossURL: o.TossURL, PortOneURL: o.PortOneURL, JSON: o.JSON}
}

// defaultURLs are the client defaults with the default configuration.
var defaultURLs = clientView{IamportURL: "http://127.0.0.1:10851", TossURL: "http://127.0.0.1:30771", PortOneURL: "http://127.0.0.1:10861"}

func withPG(v clientView, pg string, asJSON bool) clientView {
	v.PG, v.JSON = pg, asJSON
	return v
}

func TestFakePayOptions(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    clientView
		method  string
		amount  int64
		orderID string // "" means a fresh UUID
		approve bool
	}{
		{
			name: "iamport card", args: []string{"card", "--pg", "iamport", "--amount", "20000"},
			want: withPG(defaultURLs, "iamport", false), method: "card", amount: 20000,
		},
		{
			name: "toss card approved at once, JSON",
			args: []string{"card", "--pg", "toss", "--amount", "1000", "--approve", "--json", "--order-id", "o-1"},
			want: withPG(defaultURLs, "toss", true), method: "card", amount: 1000, orderID: "o-1", approve: true,
		},
		{
			name: "vbank with the SDK's vendor code and explicit URLs",
			args: []string{"vbank", "--pg", "toss.payments", "--amount", "19900", "--toss-url", "http://127.0.0.1:1", "--iamport-url", "http://127.0.0.1:2"},
			want: clientView{PG: "toss", IamportURL: "http://127.0.0.1:2", TossURL: "http://127.0.0.1:1", PortOneURL: "http://127.0.0.1:10861"}, method: "vbank", amount: 19900,
		},
		{
			name: "URLs from the configured ports",
			env:  map[string]string{"PAYMENT_FAKE_IAMPORT_PORT": "41000", "PAYMENT_FAKE_TOSS_PORT": "41001", "PAYMENT_FAKE_PORTONE_PORT": "41002"},
			args: []string{"vbank", "--pg", "iamport", "--amount", "5"},
			want: clientView{PG: "iamport", IamportURL: "http://127.0.0.1:41000", TossURL: "http://127.0.0.1:41001", PortOneURL: "http://127.0.0.1:41002"}, method: "vbank", amount: 5,
		},
		{
			name: "portone card at a given URL",
			args: []string{"card", "--pg", "portone", "--amount", "700", "--portone-url", "http://127.0.0.1:3"},
			want: clientView{PG: "portone", IamportURL: "http://127.0.0.1:10851", TossURL: "http://127.0.0.1:30771", PortOneURL: "http://127.0.0.1:3"}, method: "card", amount: 700,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := testFakeFactory(tt.env)
			var got *fakePayOptions
			cmd := newFakePayCmd(f, func(_ context.Context, o *fakePayOptions) error {
				got = o
				return nil
			})
			if err := execCmd(cmd, tt.args...); err != nil {
				t.Fatalf("pay %v: %v", tt.args, err)
			}
			if diff := cmp.Diff(tt.want, viewOf(got.fakeClientOptions)); diff != "" {
				t.Errorf("client options (-want +got):\n%s", diff)
			}
			if got.Method != tt.method || got.Amount != tt.amount || got.Approve != tt.approve {
				t.Errorf("method, amount, approve = %q, %d, %v, want %q, %d, %v", got.Method, got.Amount, got.Approve, tt.method, tt.amount, tt.approve)
			}
			checkID(t, "order id", got.OrderID, tt.orderID)
			if got.Now == nil {
				t.Error("Now is not set")
			}
		})
	}
}

// checkID checks an id that is either given or a fresh UUID.
func checkID(t *testing.T, what, got, want string) {
	t.Helper()
	if want != "" {
		if got != want {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
		return
	}
	if uuid.Validate(got) != nil {
		t.Errorf("%s = %q, want a fresh UUID", what, got)
	}
}

func TestFakeDepositCancelBillingOptions(t *testing.T) {
	t.Run("deposit", func(t *testing.T) {
		f, _ := testFakeFactory(nil)
		var got *fakeDepositOptions
		cmd := newFakeDepositCmd(f, func(_ context.Context, o *fakeDepositOptions) error { got = o; return nil })
		if err := execCmd(cmd, "--pg", "iamport", "imp_123"); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(withPG(defaultURLs, "iamport", false), viewOf(got.fakeClientOptions)); diff != "" {
			t.Errorf("client options (-want +got):\n%s", diff)
		}
		if got.UID != "imp_123" {
			t.Errorf("UID = %q, want imp_123", got.UID)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		tests := []struct {
			args   []string
			amount int64
			reason string
		}{
			{[]string{"--pg", "toss", "key-1"}, 0, "cancelled with paymentctl fake"},
			{[]string{"--pg", "toss", "--amount", "500", "--reason", "out of stock", "key-1"}, 500, "out of stock"},
		}
		for _, tt := range tests {
			f, _ := testFakeFactory(nil)
			var got *fakeCancelOptions
			cmd := newFakeCancelCmd(f, func(_ context.Context, o *fakeCancelOptions) error { got = o; return nil })
			if err := execCmd(cmd, tt.args...); err != nil {
				t.Fatal(err)
			}
			if got.PG != "toss" || got.UID != "key-1" || got.Amount != tt.amount || got.Reason != tt.reason {
				t.Errorf("cancel %v: PG, UID, Amount, Reason = %q, %q, %d, %q", tt.args, got.PG, got.UID, got.Amount, got.Reason)
			}
		}
	})
	t.Run("billing-key", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"--pg", "toss"}, ""},
			{[]string{"--pg", "iamport", "--customer-id", "c-1"}, "c-1"},
		} {
			f, _ := testFakeFactory(nil)
			var got *fakeBillingKeyOptions
			cmd := newFakeBillingKeyCmd(f, func(_ context.Context, o *fakeBillingKeyOptions) error { got = o; return nil })
			if err := execCmd(cmd, tt.args...); err != nil {
				t.Fatal(err)
			}
			checkID(t, "customer id", got.CustomerID, tt.want)
		}
	})
}

func TestFakeSubcommandUsageErrors(t *testing.T) {
	none := func(context.Context, *fakePayOptions) error { return errors.New("runF called") }
	tests := []struct {
		name string
		cmd  func(f *factory) *cobra.Command
		args []string
		want string
	}{
		{"no --pg", func(f *factory) *cobra.Command { return newFakePayCmd(f, none) }, []string{"card", "--amount", "1"}, "--pg is required"},
		{"unknown --pg", func(f *factory) *cobra.Command { return newFakePayCmd(f, none) }, []string{"card", "--pg", "paypal", "--amount", "1"}, `--pg "paypal": use iamport, toss or portone`},
		{"no amount", func(f *factory) *cobra.Command { return newFakePayCmd(f, none) }, []string{"vbank", "--pg", "toss"}, "--amount is required"},
		{"bad URL", func(f *factory) *cobra.Command { return newFakePayCmd(f, none) }, []string{"card", "--pg", "toss", "--amount", "1", "--toss-url", "localhost"}, `--toss-url "localhost"`},
		{"approve on vbank", func(f *factory) *cobra.Command { return newFakePayCmd(f, none) }, []string{"vbank", "--pg", "toss", "--amount", "1", "--approve"}, "unknown flag: --approve"},
		{"deposit without id", func(f *factory) *cobra.Command { return newFakeDepositCmd(f, nil) }, []string{"--pg", "toss"}, "takes one payment id"},
		{"cancel with two ids", func(f *factory) *cobra.Command { return newFakeCancelCmd(f, nil) }, []string{"--pg", "toss", "a", "b"}, "takes one payment id"},
		{"negative cancel", func(f *factory) *cobra.Command { return newFakeCancelCmd(f, nil) }, []string{"--pg", "toss", "--amount", "-5", "a"}, "--amount -5: must be positive"},
		{"billing-key argument", func(f *factory) *cobra.Command { return newFakeBillingKeyCmd(f, nil) }, []string{"--pg", "toss", "x"}, "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := testFakeFactory(nil)
			err := execCmd(tt.cmd(f), tt.args...)
			var uerr *usageError
			if !errors.As(err, &uerr) {
				t.Fatalf("%v: err = %v, want a usage error", tt.args, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v: err = %q, want it to contain %q", tt.args, err, tt.want)
			}
		})
	}
}

// startTestFakes runs the fakes on free loopback ports, logging to the
// returned buffer, which may be read once the returned stop has run.
func startTestFakes(t *testing.T, opts fakeSetOptions) (*fakepg.Fakes, *bytes.Buffer, func()) {
	t.Helper()
	var logs bytes.Buffer
	opts.IamportAddr, opts.TossAddr, opts.PortOneAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	opts.Log = newLogger(&logs, "text", "debug")
	set, err := startFakes(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := set.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	t.Cleanup(stop)
	return set, &logs, stop
}

// clientOpts returns subcommand options for pg against set.
func clientOpts(set *fakepg.Fakes, pg string, out io.Writer) fakeClientOptions {
	return fakeClientOptions{
		IO: &iostreams{Out: out, ErrOut: io.Discard}, PG: pg, JSON: true,
		IamportURL: set.IamportURL, TossURL: set.TossURL, PortOneURL: set.PortOneURL,
		Now: time.Now,
	}
}

// decodeResult reads the JSON a subcommand printed and resets the buffer.
func decodeResult(t *testing.T, out *bytes.Buffer) fakeResult {
	t.Helper()
	var r fakeResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	out.Reset()
	return r
}

func TestFakeFlows(t *testing.T) {
	set, logs, stop := startTestFakes(t, fakeSetOptions{})
	ctx := context.Background()
	var out bytes.Buffer

	for _, pg := range []string{pgIamport, pgToss, pgPortOne} {
		t.Run(pg, func(t *testing.T) {
			co := clientOpts(set, pg, &out)
			code, storeID := sdk.VendorIamport, "fakepg_mid"
			paid, ready, cancelled, partial := "paid", "ready", "cancelled", "paid"
			switch pg {
			case pgToss:
				code, storeID = sdk.VendorToss, "tosspayments"
				paid, ready, cancelled, partial = "DONE", "WAITING_FOR_DEPOSIT", "CANCELED", "PARTIAL_CANCELED"
			case pgPortOne:
				code, storeID = sdk.VendorPortOne, fakeportone.DefaultStoreID
				paid, ready, cancelled, partial = "PAID", "VIRTUAL_ACCOUNT_ISSUED", "CANCELLED", "PARTIAL_CANCELLED"
			}
			order := uuid.NewString()

			// A virtual account, paid in, refunded in two parts.
			if err := runFakePay(ctx, &fakePayOptions{fakeClientOptions: co, Method: payVBank, Amount: 19900, OrderID: order}); err != nil {
				t.Fatal(err)
			}
			r := decodeResult(t, &out)
			uid := r.Vendor.UID
			if r.VirtualAccount == nil || r.VirtualAccount.Number == "" || !strings.HasSuffix(r.VirtualAccount.Due, "+09:00") {
				t.Errorf("virtual account = %+v, want a number and a due date in KST", r.VirtualAccount)
			}
			r.VirtualAccount = nil
			want := fakeResult{Kind: kindPayment, Vendor: sdk.Vendor{Code: code, StoreID: storeID, UID: uid}, SourceID: order, Status: ready, Price: 19900, Method: "vbank"}
			if diff := cmp.Diff(want, r); diff != "" {
				t.Errorf("pay vbank (-want +got):\n%s", diff)
			}
			if pg == pgPortOne && uid != order {
				t.Errorf("portone payment uid = %q, want the paymentId %q", uid, order)
			}

			steps := []struct {
				name string
				run  func() error
				want fakeResult
			}{
				{"deposit", func() error {
					return runFakeDeposit(ctx, &fakeDepositOptions{fakeClientOptions: co, UID: uid})
				}, fakeResult{Status: paid}},
				{"partial cancel", func() error {
					return runFakeCancel(ctx, &fakeCancelOptions{fakeClientOptions: co, UID: uid, Amount: 900, Reason: "r"})
				}, fakeResult{Status: partial, Cancelled: 900}},
				{"cancel the rest", func() error {
					return runFakeCancel(ctx, &fakeCancelOptions{fakeClientOptions: co, UID: uid, Reason: "r"})
				}, fakeResult{Status: cancelled, Cancelled: 19900}},
			}
			for _, s := range steps {
				if err := s.run(); err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				r := decodeResult(t, &out)
				got := fakeResult{Status: r.Status, Cancelled: r.Cancelled}
				if diff := cmp.Diff(s.want, got); diff != "" || r.Vendor.UID != uid || r.SourceID != order || r.Price != 19900 {
					t.Errorf("%s: %+v (-want +got):\n%s", s.name, r, diff)
				}
			}

			// A card payment.
			if err := runFakePay(ctx, &fakePayOptions{fakeClientOptions: co, Method: payCard, Amount: 20000, OrderID: uuid.NewString()}); err != nil {
				t.Fatal(err)
			}
			card := decodeResult(t, &out)
			wantStatus := paid // PortOne V2 as Iamport: paid at once
			if pg == pgToss {
				wantStatus = "IN_PROGRESS" // left for paymentctl to confirm
			}
			if card.Status != wantStatus || card.Method != "card" || card.Price != 20000 || card.VirtualAccount != nil {
				t.Errorf("pay card = %+v, want status %s", card, wantStatus)
			}

			// A billing key.
			customer := uuid.NewString()
			if err := runFakeBillingKey(ctx, &fakeBillingKeyOptions{fakeClientOptions: co, CustomerID: customer}); err != nil {
				t.Fatal(err)
			}
			bk := decodeResult(t, &out)
			if bk.Kind != kindBillingKey || bk.SourceID != customer || bk.Vendor.Code != code || bk.Vendor.UID == "" || bk.Vendor.StoreID != storeID || bk.Price != 0 {
				t.Errorf("billing-key = %+v", bk)
			}
			if (pg == pgIamport) != (bk.Vendor.UID == customer) {
				t.Errorf("%s billing key uid = %q; it is the customer id %q for Iamport only", pg, bk.Vendor.UID, customer)
			}
		})
	}

	// A Toss card approved at once.
	co := clientOpts(set, pgToss, &out)
	if err := runFakePay(ctx, &fakePayOptions{fakeClientOptions: co, Method: payCard, Amount: 500, OrderID: uuid.NewString(), Approve: true}); err != nil {
		t.Fatal(err)
	}
	if r := decodeResult(t, &out); r.Status != "DONE" {
		t.Errorf("toss card with --approve: status %s, want DONE", r.Status)
	}

	// Every call and every webhook attempt is in the log, the deposit
	// secret is not. Deliveries are asynchronous: let them finish first.
	waitCtx, cancelWait := context.WithTimeout(ctx, 10*time.Second)
	defer cancelWait()
	for _, s := range []interface{ Wait(context.Context) error }{set.Iamport.Webhooks(), set.Toss.Webhooks(), set.PortOne.Webhooks()} {
		if err := s.Wait(waitCtx); err != nil {
			t.Fatalf("webhooks still pending: %v", err)
		}
	}
	var secrets []string
	for _, d := range set.Toss.Webhooks().Deliveries() {
		if ev, err := toss.ParseWebhook(d.Body); err == nil && ev.Deposit != nil {
			secrets = append(secrets, ev.Deposit.Secret)
		}
	}
	stop()
	log := logs.String()
	for _, want := range []string{
		`msg=call pg=iamport method=POST path=/vbanks status=200 duration=`,
		`msg=call pg=iamport method=PUT path=/internal/deposit/imp_`,
		`msg=call pg=toss method=PUT path=/internal/`,
		`msg=webhook pg=iamport url=` + set.IamportURL + `/internal/webhook uid=imp_`,
		`payment_status=paid status=200 duration=`,
		`msg=webhook pg=toss url=` + set.TossURL + `/internal/webhook event=DEPOSIT_CALLBACK order_id=`,
		`event=PAYMENT_STATUS_CHANGED`,
		`payment_status=PARTIAL_CANCELED status=200`,
		`msg=call pg=portone method=POST path=/internal/checkout status=200`,
		`msg=webhook pg=portone url=` + set.PortOneURL + `/internal/webhook event=Transaction.PartialCancelled uid=`,
		`event=BillingKey.Issued billing_key=`,
		`level=DEBUG`, // the fakes' own diagnostics
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if len(secrets) == 0 {
		t.Fatal("no DEPOSIT_CALLBACK was sent")
	}
	for _, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("log leaks the deposit secret %q", s)
		}
	}
	if strings.Contains(log, "test_imp_secret") || strings.Contains(log, "Basic ") {
		t.Errorf("log leaks credentials:\n%s", log)
	}
}

func TestFakeTextOutput(t *testing.T) {
	set, _, _ := startTestFakes(t, fakeSetOptions{})
	var out bytes.Buffer
	co := clientOpts(set, pgToss, &out)
	co.JSON = false
	opts := &fakePayOptions{fakeClientOptions: co, Method: payCard, Amount: 20000, OrderID: "11111111-2222-3333-4444-555555555555"}
	if err := runFakePay(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	uid := regexp.MustCompile(`(?m)^vendor\.uid +(\S+)$`).FindStringSubmatch(out.String())
	if uid == nil {
		t.Fatalf("no vendor.uid line:\n%s", out.String())
	}
	want := `vendor.code      toss.payments
vendor.store_id  tosspayments
vendor.uid       ` + uid[1] + `
source.id        11111111-2222-3333-4444-555555555555
price            20000
status           IN_PROGRESS

Toss leaves it IN_PROGRESS, as after its checkout window: registering it confirms it (--approve approves it now).
Register it: POST /payments/histories with this vendor, source.id and price.
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("text output (-want +got):\n%s", diff)
	}
}

func TestFakeErrors(t *testing.T) {
	set, _, _ := startTestFakes(t, fakeSetOptions{Faults: fault.Faults{DeclineRate: 1}})
	ctx := context.Background()
	var out bytes.Buffer

	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"iamport decline", func() error {
			return runFakePay(ctx, &fakePayOptions{fakeClientOptions: clientOpts(set, pgIamport, &out), Method: payCard, Amount: 1000, OrderID: "o-decline"})
		}, "pay card at iamport: declined, payment imp_"},
		{"toss decline", func() error {
			co := clientOpts(set, pgToss, &out)
			return runFakePay(ctx, &fakePayOptions{fakeClientOptions: co, Method: payCard, Amount: 1000, OrderID: "o-decline", Approve: true})
		}, "REJECT_CARD_PAYMENT"},
		{"unknown payment", func() error {
			return runFakeDeposit(ctx, &fakeDepositOptions{fakeClientOptions: clientOpts(set, pgIamport, &out), UID: "imp_000000000000"})
		}, "deposit into imp_000000000000: iamport: http 404"},
		{"over-cancel", func() error {
			co := clientOpts(set, pgToss, &out)
			if err := runFakePay(ctx, &fakePayOptions{fakeClientOptions: co, Method: payVBank, Amount: 100, OrderID: "o-over"}); err != nil {
				return err
			}
			uid := decodeResult(t, &out).Vendor.UID
			if err := runFakeDeposit(ctx, &fakeDepositOptions{fakeClientOptions: co, UID: uid}); err != nil {
				return err
			}
			out.Reset()
			return runFakeCancel(ctx, &fakeCancelOptions{fakeClientOptions: co, UID: uid, Amount: 101, Reason: "r"})
		}, "NOT_CANCELABLE_AMOUNT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
			if out.Len() > 0 {
				t.Errorf("printed %q on failure", out.String())
			}
		})
	}
}

func TestFakeNotRunning(t *testing.T) {
	// A port that was free a moment ago: nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	opts := &fakeDepositOptions{
		fakeClientOptions: fakeClientOptions{IO: &iostreams{Out: io.Discard}, PG: pgToss, TossURL: url, IamportURL: url, Now: time.Now},
		UID:               "k",
	}
	err = runFakeDeposit(context.Background(), opts)
	want := "no fake toss at " + url + "; start one with 'paymentctl fake' or pass --toss-url"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want it to contain %q", err, want)
	}
}

func TestLogCalls(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"written status", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) },
			`level=INFO msg=call method=GET path=/v1/payments/x status=404 duration=`},
		{"implicit 200", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "{}") },
			`level=INFO msg=call method=GET path=/v1/payments/x status=200 duration=`},
		{"nothing written", func(http.ResponseWriter, *http.Request) {},
			`status=200`},
		{"server error is a warning", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) },
			`level=WARN msg=call method=GET path=/v1/payments/x status=500`},
		{"flush reaches the real writer", func(w http.ResponseWriter, _ *http.Request) {
			if err := http.NewResponseController(w).Flush(); err != nil {
				http.Error(w, err.Error(), http.StatusTeapot)
			}
		}, `status=200`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			srv := httptest.NewServer(logCalls(newLogger(&logs, "text", "info"), tt.handler))
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/payments/x?secret=q-plain", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Basic hdr-plain")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			srv.Close() // waits for the handler, and so for the log line
			got := logs.String()
			if !strings.Contains(got, tt.want) {
				t.Errorf("log = %q, want it to contain %q", got, tt.want)
			}
			if strings.Contains(got, "plain") {
				t.Errorf("log leaks the query or a header: %q", got)
			}
		})
	}
}

func TestLogCallsDroppedAnswer(t *testing.T) {
	var logs bytes.Buffer
	drop := fault.NewInjector(fault.Faults{DropResponse: []fault.Route{{Method: "POST", Path: "/v1/payments/*/cancel"}}}, nil)
	h := drop.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "{}") }), nil)
	logged := make(chan struct{})
	logging := logCalls(newLogger(&logs, "text", "info"), h)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(logged) // srv.Close does not wait for a hijacked call
		logging.ServeHTTP(w, r)
	}))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v1/payments/pk/cancel", "application/json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got %s, want the connection closed", resp.Status)
	}
	<-logged
	want := `level=WARN msg=call method=POST path=/v1/payments/pk/cancel status="none (connection closed)" duration=`
	if got := logs.String(); !strings.Contains(got, want) {
		t.Errorf("log = %q, want it to contain %q", got, want)
	}
}

func TestWebhookLogger(t *testing.T) {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer receiver.Close()
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String() + "/hook"
	dead.Close()

	tests := []struct {
		name     string
		url      string
		describe func([]byte) []any
		body     string
		want     string
	}{
		{"iamport delivered", receiver.URL + "/ok", describeIamportWebhook,
			`{"imp_uid":"imp_1","merchant_uid":"m-1","status":"paid"}`,
			`level=INFO msg=webhook url=` + receiver.URL + `/ok uid=imp_1 order_id=m-1 payment_status=paid status=200 duration=`},
		{"toss deposit callback refused", receiver.URL + "/fail", describeTossWebhook,
			`{"createdAt":"2026-03-01T12:00:00.000000","secret":"sec-plain","status":"DONE","transactionKey":"t","orderId":"o-1"}`,
			`level=WARN msg=webhook url=` + receiver.URL + `/fail event=DEPOSIT_CALLBACK order_id=o-1 payment_status=DONE status=502 duration=`},
		{"receiver down", deadURL, describeIamportWebhook,
			`not json`,
			`level=WARN msg=webhook url=` + deadURL + ` error=`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			c := webhookClient(newLogger(&logs, "text", "info"), tt.describe)
			resp, err := c.Post(tt.url, "application/json", strings.NewReader(tt.body))
			if err == nil {
				resp.Body.Close()
			}
			got := logs.String()
			if !strings.Contains(got, tt.want) {
				t.Errorf("log = %q, want it to contain %q", got, tt.want)
			}
			if strings.Contains(got, "plain") {
				t.Errorf("log leaks the secret: %q", got)
			}
		})
	}
}

func TestWriteReadyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fake.env")
	set := &fakepg.Fakes{IamportURL: "http://127.0.0.1:1", TossURL: "http://127.0.0.1:2"}
	if err := writeReadyFile(path, set); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "FAKE_IAMPORT_URL=http://127.0.0.1:1\nFAKE_TOSS_URL=http://127.0.0.1:2\n"
	if string(got) != want {
		t.Errorf("ready file = %q, want %q", got, want)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want only the ready file", len(entries))
	}
}

func TestFakeLogf(t *testing.T) {
	tests := []struct {
		name   string
		level  slog.Level
		format string
		args   []any
		want   string
	}{
		{"diagnostic of a fake", slog.LevelDebug, "toss: webhook %s delivered", []any{"w-1"},
			`level=DEBUG msg="webhook w-1 delivered" pg=toss`},
		{"server error", slog.LevelWarn, "iamport: http: superfluous response.WriteHeader call", nil,
			`level=WARN msg="http: superfluous response.WriteHeader call" pg=iamport`},
		{"no fake named", slog.LevelDebug, "kakao: %d", []any{1},
			`level=DEBUG msg="kakao: 1"` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			fakeLogf(newLogger(&logs, "text", "debug"), tt.level)(tt.format, tt.args...)
			if !strings.Contains(logs.String(), tt.want) {
				t.Errorf("log = %q, want it to contain %q", logs.String(), tt.want)
			}
		})
	}
}

// TestFakeCapacity checks that `paymentctl fake` passes fake.capacity to
// the fakes: with room for one payment, the older of two is dropped.
func TestFakeCapacity(t *testing.T) {
	set, _, _ := startTestFakes(t, fakeSetOptions{Capacity: 1})
	ctx := context.Background()
	var out bytes.Buffer
	co := clientOpts(set, pgIamport, &out)
	var uids []string
	for range 2 {
		if err := runFakePay(ctx, &fakePayOptions{fakeClientOptions: co, Method: payCard, Amount: 1000, OrderID: uuid.NewString()}); err != nil {
			t.Fatal(err)
		}
		uids = append(uids, decodeResult(t, &out).Vendor.UID)
	}
	pg := co.iamportClient()
	if _, err := pg.Payment(ctx, uids[0]); err == nil {
		t.Errorf("the first payment is still kept with a capacity of 1")
	}
	if _, err := pg.Payment(ctx, uids[1]); err != nil {
		t.Errorf("the last payment: %v", err)
	}
}
