package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/servertest"
)

// TestFakePayRegister pays at the fakes of an embedded server and registers
// the payment with it through `fake pay --register`.
func TestFakePayRegister(t *testing.T) {
	ctx := context.Background()
	srv := servertest.Start(t, nil)

	tests := []struct {
		name string
		args []string
		paid bool
	}{
		{"iamport card", []string{"fake", "pay", "card", "--pg", "iamport", "--amount", "20000"}, true},
		{"toss card", []string{"fake", "pay", "card", "--pg", "toss", "--amount", "20000"}, true},
		{"toss vbank", []string{"fake", "pay", "vbank", "--pg", "toss", "--amount", "19900"}, false},
		{"portone card", []string{"fake", "pay", "card", "--pg", "portone", "--amount", "20000"}, true},
		{"portone vbank", []string{"fake", "pay", "vbank", "--pg", "portone", "--amount", "19900"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			f := &factory{IO: &iostreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}, LookupEnv: func(string) (string, bool) { return "", false }, Now: time.Now}
			args := append(tt.args, "--json", "--register", "--api-url", srv.URL,
				"--iamport-url", srv.Fakes.IamportURL, "--toss-url", srv.Fakes.TossURL, "--portone-url", srv.Fakes.PortOneURL)
			if code := run(ctx, f, args); code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			var r fakeResult
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				t.Fatalf("output %q: %v", out.String(), err)
			}
			if r.History == nil || r.History.Vendor != r.Vendor || r.History.Source.ID != r.SourceID {
				t.Fatalf("registered history %+v for %+v", r.History, r)
			}
			if (r.History.PaidAt != nil) != tt.paid {
				t.Errorf("paid_at = %v, want paid %v", r.History.PaidAt, tt.paid)
			}
			got, err := srv.Store.History(ctx, r.History.ID)
			if err != nil || got.Price != r.Price {
				t.Errorf("stored: %+v, %v", got, err)
			}
		})
	}
	t.Run("server down", func(t *testing.T) {
		var out, errOut bytes.Buffer
		f := &factory{IO: &iostreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}, LookupEnv: func(string) (string, bool) { return "", false }, Now: time.Now}
		code := run(ctx, f, []string{"fake", "pay", "card", "--pg", "iamport", "--amount", "1000", "--register",
			"--api-url", "http://127.0.0.1:1", "--iamport-url", srv.Fakes.IamportURL})
		if code != exitError || !bytes.Contains(errOut.Bytes(), []byte("register the payment with paymentctl")) {
			t.Errorf("exit %d: %s", code, errOut.String())
		}
	})
}

// TestFakeBillingKeyRegister issues a billing key at each fake of an
// embedded server and registers it with the server as a saved card
// through `fake billing-key --register`.
func TestFakeBillingKeyRegister(t *testing.T) {
	ctx := context.Background()
	srv := servertest.Start(t, nil)
	for _, pg := range []string{"iamport", "toss", "portone"} {
		t.Run(pg, func(t *testing.T) {
			var out, errOut bytes.Buffer
			f := &factory{IO: &iostreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}, LookupEnv: func(string) (string, bool) { return "", false }, Now: time.Now}
			args := []string{"fake", "billing-key", "--pg", pg, "--json", "--register", "--api-url", srv.URL, "--password", "card-password",
				"--iamport-url", srv.Fakes.IamportURL, "--toss-url", srv.Fakes.TossURL, "--portone-url", srv.Fakes.PortOneURL}
			if code := run(ctx, f, args); code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			var r fakeResult
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				t.Fatalf("output %q: %v", out.String(), err)
			}
			if r.Reservation == nil || r.Reservation.Vendor != r.Vendor || r.Reservation.Source.ID != r.SourceID {
				t.Fatalf("registered reservation %+v for %+v", r.Reservation, r)
			}
			client, err := sdk.New(sdk.Options{BaseURL: srv.URL, Key: srv.Config.Connection.Encryption.Key.Reveal(), IV: srv.Config.Connection.Encryption.IV.Reveal()})
			if err != nil {
				t.Fatal(err)
			}
			if got, err := client.Reservation(ctx, r.Reservation.ID, "card-password"); err != nil || got.Vendor != r.Vendor {
				t.Errorf("read back with its password: %+v, %v", got, err)
			}
		})
	}
}

// TestFakeDepositForwardsEvent follows the README's walkthrough against a
// local server for each PG: `fake pay vbank --register`, then `fake
// deposit`; the server forwards the deposit to the record's webhook_url
// (the local test receiver) as a {previous, current} event.
func TestFakeDepositForwardsEvent(t *testing.T) {
	ctx := context.Background()
	srv := servertest.Start(t, nil)
	urls := []string{"--iamport-url", srv.Fakes.IamportURL, "--toss-url", srv.Fakes.TossURL, "--portone-url", srv.Fakes.PortOneURL}
	command := func(t *testing.T, args ...string) []byte {
		t.Helper()
		var out, errOut bytes.Buffer
		f := &factory{IO: &iostreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}, LookupEnv: func(string) (string, bool) { return "", false }, Now: time.Now}
		if code := run(ctx, f, append(append(args, "--json"), urls...)); code != exitOK {
			t.Fatalf("paymentctl %v: exit %d: %s", args, code, errOut.String())
		}
		return out.Bytes()
	}
	for _, pg := range []string{"iamport", "toss", "portone"} {
		t.Run(pg, func(t *testing.T) {
			var r fakeResult
			out := command(t, "fake", "pay", "vbank", "--pg", pg, "--amount", "19900", "--register", "--api-url", srv.URL)
			if err := json.Unmarshal(out, &r); err != nil || r.History == nil {
				t.Fatalf("fake pay --register printed %q: %v", out, err)
			}
			before := len(srv.Inbox.Events())
			command(t, "fake", "deposit", "--pg", pg, r.Vendor.UID)
			wait, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			evs, err := srv.Inbox.Wait(wait, before+1)
			if err != nil {
				t.Fatalf("no event forwarded after the deposit: %v", err)
			}
			ev := evs[len(evs)-1]
			if ev.Current.ID != r.History.ID || ev.Previous.PaidAt != nil || ev.Current.PaidAt == nil || ev.Current.Vendor != r.Vendor {
				t.Errorf("forwarded event: history %s, previous.paid_at %v, current.paid_at %v, vendor %+v; want history %s paid by the deposit",
					ev.Current.ID, ev.Previous.PaidAt, ev.Current.PaidAt, ev.Current.Vendor, r.History.ID)
			}
		})
	}
}
