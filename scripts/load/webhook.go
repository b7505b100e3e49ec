package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/sdk"
)

// receiver is a service's webhook endpoint that notes when each history's
// first event arrives.
type receiver struct {
	k *kit

	mu      sync.Mutex
	waiting map[string]chan time.Time
}

// expect registers interest in the next event of a history.
func (r *receiver) expect(historyID string) <-chan time.Time {
	ch := make(chan time.Time, 1)
	r.mu.Lock()
	r.waiting[historyID] = ch
	r.mu.Unlock()
	return ch
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	raw, err := io.ReadAll(req.Body)
	w.WriteHeader(http.StatusOK)
	if err != nil {
		return
	}
	plain, err := r.k.wire.Decrypt(raw)
	if err != nil {
		return
	}
	var ev sdk.WebhookHistory
	if json.Unmarshal(plain, &ev) != nil {
		return
	}
	r.mu.Lock()
	ch, ok := r.waiting[ev.Current.ID]
	delete(r.waiting, ev.Current.ID)
	r.mu.Unlock()
	if ok {
		ch <- at
	}
}

// webhookLatency measures, one deposit at a time, from the deposit call at
// the fake Iamport to the forwarded event's arrival at a receiver of this
// process: the fake's webhook to paymentctl, the stored inbound job, the
// re-fetch from the PG, the update, the delivery job and its POST.
func webhookLatency(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("webhook", flag.ContinueOnError)
	api := fs.String("api", "", "paymentctl base URL")
	iamportURL := fs.String("iamport", "", "fake Iamport base URL")
	n := fs.Int("n", 200, "deposits to time")
	dsn := fs.String("dsn", "", "the server's PostgreSQL DSN, to wait for its webhook queue before timing")
	metricsURL := fs.String("metrics", "", "the server's /metrics URL, to wait for the PG webhooks still arriving before timing (with -dsn)")
	settleFor := fs.Duration("settle", 3*time.Minute, "wait at most this long for the server to have no webhook work left (with -dsn)")
	gap := fs.Duration("gap", 5*time.Millisecond, "pause between deposits")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *api == "" || *iamportURL == "" {
		return errors.New("webhook: -api and -iamport are required")
	}
	k, err := newKit(*iamportURL, "")
	if err != nil {
		return err
	}
	rcv := &receiver{k: k, waiting: map[string]chan time.Time{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: rcv, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/webhook"

	accounts, err := registerVBanks(ctx, k, *api, url, *n)
	if err != nil {
		return err
	}
	// Timed one deposit at a time: nothing else of the server's webhook
	// work (late PG webhooks of earlier phases, their jobs) may run
	// beside them. The wait is bounded and reported; a run that timed
	// out still measures, and says so.
	settled := "unchecked"
	if *dsn != "" {
		r, err := settle(ctx, *dsn, *metricsURL, *settleFor)
		if err != nil {
			return err
		}
		settled = fmt.Sprintf("%t", r.settled)
		fmt.Printf("webhook wait settled=%t settle_s=%.1f jobs_added=%d pg_webhooks=%d pending=%d\n",
			r.settled, r.waited.Seconds(), r.jobs, r.hooks, r.pending)
	}

	samples := make([]time.Duration, 0, *n)
	for _, a := range accounts {
		arrived := rcv.expect(a.historyID)
		start := time.Now()
		if _, err := k.iamport.Deposit(ctx, a.uid); err != nil {
			return fmt.Errorf("deposit %s: %w", a.uid, err)
		}
		select {
		case at := <-arrived:
			samples = append(samples, at.Sub(start))
		case <-time.After(30 * time.Second):
			return fmt.Errorf("no event for history %s within 30s of its deposit", a.historyID)
		case <-ctx.Done():
			return ctx.Err()
		}
		time.Sleep(*gap)
	}
	slices.Sort(samples)
	pct := func(q float64) float64 {
		return float64(samples[int(q*float64(len(samples)-1))].Microseconds()) / 1000
	}
	fmt.Printf("webhook n=%d p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f settled=%s\n",
		len(samples), pct(0.5), pct(0.9), pct(0.99), pct(1), settled)
	return nil
}

// account is a virtual account at the fake Iamport and the history that
// registered it.
type account struct {
	uid, historyID string
	history        sdk.History
}

// registerVBanks issues n virtual accounts at the fake Iamport and
// registers each with paymentctl, events to receiverURL.
func registerVBanks(ctx context.Context, k *kit, api, receiverURL string, n int) ([]account, error) {
	accounts := make([]account, n)
	err := parallel(n, 8, func(i int) error {
		src := newSource()
		p, err := k.iamport.CreateVBank(ctx, iamport.VBankRequest{
			MerchantUID: src.ID, Amount: amount, VBankCode: "SHINHAN",
			VBankDue: iamport.TimestampOf(time.Now().Add(24 * time.Hour)), VBankHolder: "load",
		})
		if err != nil {
			return fmt.Errorf("issue a virtual account: %w", err)
		}
		body, err := k.encrypt(registration(sdk.VendorIamport, iamportStoreID, p.ImpUID, receiverURL, src))
		if err != nil {
			return err
		}
		var h sdk.History
		if err := k.post(ctx, http.MethodPost, api+"/payments/histories", body, &h); err != nil {
			return fmt.Errorf("register: %w", err)
		}
		accounts[i] = account{uid: p.ImpUID, historyID: h.ID, history: h}
		return nil
	})
	return accounts, err
}
