package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/config"
	fakeiamport "github.com/paymentctl/paymentctl/fakepg/iamport"
	faketoss "github.com/paymentctl/paymentctl/fakepg/toss"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// The record every load payment is registered with.
const (
	password       = "load-password"
	iamportStoreID = "load-iamport-store"
	tossStoreID    = "load-toss-store"
	amount         = 20000
	// noReceiver is the webhook_url of the registration bodies: the
	// registrations cause no event, and the discard port would refuse one.
	noReceiver = "http://127.0.0.1:9/"
)

// kit holds the clients every subcommand uses.
type kit struct {
	wire    *wirecrypt.Cipher
	http    *http.Client
	iamport *iamport.Client
	toss    *toss.Client
}

// newKit builds the wire cipher from the same configuration the server
// reads, and clients of the fake PGs.
func newKit(iamportURL, tossURL string) (*kit, error) {
	cfg, err := config.Load(config.LoadOptions{LookupEnv: os.LookupEnv})
	if err != nil {
		return nil, err
	}
	wire, err := wirecrypt.New(cfg.Connection.Encryption.Key.Reveal(), cfg.Connection.Encryption.IV.Reveal())
	if err != nil {
		return nil, err
	}
	hc := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute},
		Timeout:   30 * time.Second,
	}
	k := &kit{wire: wire, http: hc}
	if iamportURL != "" {
		k.iamport = iamport.New(iamport.Options{BaseURL: iamportURL, Key: fakeiamport.DefaultKey, Secret: fakeiamport.DefaultSecret, HTTPClient: hc})
	}
	if tossURL != "" {
		k.toss = toss.New(toss.Options{BaseURL: tossURL, SecretKey: faketoss.DefaultSecretKey, HTTPClient: hc})
	}
	return k, nil
}

// encrypt returns v as an encrypted request body.
func (k *kit) encrypt(v any) ([]byte, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return k.wire.Encrypt(plain), nil
}

// post sends an encrypted body to the API and decodes a 2xx reply into out.
func (k *kit) post(ctx context.Context, method, url string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", wirecrypt.ContentType)
	resp, err := k.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, buf.Bytes())
	}
	plain, err := k.wire.Decrypt(buf.Bytes())
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, out)
}

// iamportCard pays by card at the fake Iamport and returns the imp_uid.
func (k *kit) iamportCard(ctx context.Context, src sdk.Source) (string, error) {
	p, err := k.iamport.PayOnetime(ctx, iamport.OnetimeRequest{
		CardFields:  iamport.CardFields{CardNumber: "1234-1234-1234-1234", Expiry: "2028-12", Birth: "880311"},
		OrderFields: iamport.OrderFields{MerchantUID: src.ID, Amount: amount, Name: "load"},
	})
	if err != nil {
		return "", err
	}
	return p.ImpUID, nil
}

// tossCard makes a key-in card payment at the fake Toss, left for the
// registration to confirm, and returns its paymentKey.
func (k *kit) tossCard(ctx context.Context, src sdk.Source) (string, error) {
	approved := false
	p, err := k.toss.KeyIn(ctx, toss.KeyInRequest{
		Method: "card", CardNumber: "1111222233334444", CardExpirationYear: "28", CardExpirationMonth: "03",
		OrderID: src.ID, OrderName: "load", Amount: amount, Approved: &approved,
	})
	if err != nil {
		return "", err
	}
	return p.PaymentKey, nil
}

// registration is the body of POST /payments/histories.
func registration(code sdk.VendorCode, store, uid, webhookURL string, src sdk.Source) sdk.HistoryCreate {
	return sdk.HistoryCreate{
		Vendor: sdk.Vendor{Code: code, StoreID: store, UID: uid}, Source: src,
		Price: amount, Password: password, WebhookURL: webhookURL,
	}
}

// newSource returns a fresh record of the load's imaginary shop.
func newSource() sdk.Source {
	return sdk.Source{Schema: "load", Table: "orders", ID: uuid.NewString()}
}

// prepare writes what the wrk scripts replay into dir:
//
//   - read.path, read.body: one registered Iamport card payment and the
//     encrypted {"password"} of PATCH /payments/histories/:id;
//   - iamport.bodies, toss.bodies: n encrypted registrations each, one a
//     line, of card payments made at the fakes (Toss ones unconfirmed);
//     only those of the PGs -pgs names.
//
// Then it waits until the server has worked every webhook the fakes sent
// meanwhile, so the measured phases start on an idle queue.
func prepare(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("prepare", flag.ContinueOnError)
	api := fs.String("api", "", "paymentctl base URL")
	iamportURL := fs.String("iamport", "", "fake Iamport base URL")
	tossURL := fs.String("toss", "", "fake Toss base URL")
	dir := fs.String("dir", "", "output directory")
	n := fs.Int("n", 10000, "registration bodies per PG")
	dsn := fs.String("dsn", "", "the server's PostgreSQL DSN, to wait for its webhook queue")
	workers := fs.Int("c", 16, "concurrent calls to the fakes")
	only := fs.String("pgs", "iamport,toss", "the PGs to prepare registrations of")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *api == "" || *iamportURL == "" || *tossURL == "" || *dir == "" {
		return errors.New("prepare: -api, -iamport, -toss and -dir are required")
	}
	wanted := map[string]bool{}
	for _, pg := range strings.Split(*only, ",") {
		wanted[pg] = true
	}
	k, err := newKit(*iamportURL, *tossURL)
	if err != nil {
		return err
	}
	start := time.Now()

	// The payment the read phase looks up.
	src := newSource()
	uid, err := k.iamportCard(ctx, src)
	if err != nil {
		return fmt.Errorf("pay at the fake iamport: %w", err)
	}
	body, err := k.encrypt(registration(sdk.VendorIamport, iamportStoreID, uid, noReceiver, src))
	if err != nil {
		return err
	}
	var hist sdk.History
	if err := k.post(ctx, http.MethodPost, *api+"/payments/histories", body, &hist); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	readBody, err := k.encrypt(sdk.Password{Password: password})
	if err != nil {
		return err
	}
	// Check the read once, so the load phase measures a working read.
	var got sdk.History
	if err := k.post(ctx, http.MethodPatch, *api+"/payments/histories/"+hist.ID, readBody, &got); err != nil || got.ID != hist.ID {
		return fmt.Errorf("read back %s: %v", hist.ID, err)
	}
	if err := os.WriteFile(filepath.Join(*dir, "read.path"), []byte("/payments/histories/"+hist.ID), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*dir, "read.body"), readBody, 0o644); err != nil {
		return err
	}

	pgs := []struct {
		name  string
		file  string
		code  sdk.VendorCode
		store string
		pay   func(context.Context, sdk.Source) (string, error)
	}{
		{"iamport", "iamport.bodies", sdk.VendorIamport, iamportStoreID, k.iamportCard},
		{"toss", "toss.bodies", sdk.VendorToss, tossStoreID, k.tossCard},
	}
	for _, pg := range pgs {
		if !wanted[pg.name] {
			continue
		}
		lines := make([][]byte, *n)
		err := parallel(*n, *workers, func(i int) error {
			src := newSource()
			uid, err := pg.pay(ctx, src)
			if err != nil {
				return fmt.Errorf("pay at the fake %s: %w", pg.code, err)
			}
			lines[i], err = k.encrypt(registration(pg.code, pg.store, uid, noReceiver, src))
			return err
		})
		if err != nil {
			return err
		}
		out := bytes.Join(lines, []byte("\n"))
		if err := os.WriteFile(filepath.Join(*dir, pg.file), append(out, '\n'), 0o644); err != nil {
			return err
		}
	}
	made := time.Since(start)
	if *dsn != "" {
		// Two minutes, and as long again per 10,000 payments of each PG:
		// on a busy machine the fakes and the server work through their
		// webhooks slowly (24,000 took more than 2 minutes at load
		// average 30).
		if err := drain(ctx, *dsn, 2*time.Minute+time.Duration(*n)*12*time.Millisecond); err != nil {
			return err
		}
	}
	fmt.Printf("prepared 1 read and %d registrations for each of %s in %.1fs, queue drained after %.1fs\n",
		*n, *only, made.Seconds(), time.Since(start).Seconds())
	return nil
}

// parallel calls fn(i) for every i in [0, n) on workers goroutines and
// returns the first error; after an error no new call starts.
func parallel(n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var failed atomic.Bool
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}
