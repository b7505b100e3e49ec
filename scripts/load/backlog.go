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
	"os"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/server"
	"github.com/paymentctl/paymentctl/server/store"
	"github.com/paymentctl/paymentctl/server/webhook"
)

// counter is a service's receiver that only counts what arrives: the
// fast receiver of the backlog measure.
type counter struct {
	n    atomic.Int64
	want int64
	done chan time.Time
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.WriteHeader(http.StatusNoContent)
	if c.n.Add(1) == c.want {
		c.done <- time.Now()
	}
}

// backlog measures how fast the server drains a backlog of n webhook
// deliveries to a fast receiver: it registers a few virtual-account
// payments whose webhook_url is a receiver of this process, stores n
// webhook events of them (sealed as the server seals them) and enqueues
// their deliveries in one transaction, then times from its commit to the
// n-th arrival. The server's workers do the rest, as they would after a
// burst of PG webhooks or an outage of the service.
func backlog(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("backlog", flag.ContinueOnError)
	api := fs.String("api", "", "paymentctl base URL")
	iamportURL := fs.String("iamport", "", "fake Iamport base URL")
	dsn := fs.String("dsn", "", "the server's database DSN")
	n := fs.Int("n", 10000, "deliveries to queue")
	histories := fs.Int("histories", 20, "payments the events are about")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *api == "" || *iamportURL == "" || *dsn == "" || *n < 1 || *histories < 1 {
		return errors.New("backlog: -api, -iamport, -dsn and positive -n, -histories are required")
	}
	k, err := newKit(*iamportURL, "")
	if err != nil {
		return err
	}
	rcv := &counter{want: int64(*n), done: make(chan time.Time, 1)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: rcv, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	accounts, err := registerVBanks(ctx, k, *api, "http://"+ln.Addr().String()+"/webhook", *histories)
	if err != nil {
		return err
	}
	if err := drain(ctx, *dsn, time.Minute); err != nil {
		return err
	}

	cfg, err := config.Load(config.LoadOptions{LookupEnv: os.LookupEnv})
	if err != nil {
		return err
	}
	keys, err := server.Keys(cfg)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	q, err := webhook.New(webhook.Options{DB: st.SQLDB(), Dialect: st.Dialect(), Processor: idle{}, Payloads: idle{}, Secret: cfg.WebhookKey()})
	if err != nil {
		return err
	}
	err = st.InTx(ctx, func(tx *store.Tx) error {
		for i := range *n {
			id := uuid.NewString()
			a := accounts[i%len(accounts)]
			// previous and current as the server writes them: the history.
			event, err := json.Marshal(a.history)
			if err != nil {
				return err
			}
			w := &store.Webhook{ID: id, HistoryID: a.historyID}
			for _, part := range []*string{&w.Previous, &w.Current, &w.Data} {
				if *part, err = keys.Webhook.Seal(event, []byte(id)); err != nil {
					return err
				}
			}
			if err := tx.CreateWebhook(ctx, w); err != nil {
				return err
			}
			if err := q.EnqueueDeliveryTx(ctx, tx.SQLTx(), id); err != nil {
				return err
			}
		}
		return nil
	})
	start := time.Now()
	if err != nil {
		return fmt.Errorf("queue the backlog: %w", err)
	}
	select {
	case end := <-rcv.done:
		secs := end.Sub(start).Seconds()
		fmt.Printf("backlog n=%d drained_s=%.2f per_s=%.0f\n", *n, secs, float64(*n)/secs)
		return nil
	case <-time.After(*timeout):
		return fmt.Errorf("backlog: %d of %d deliveries arrived within %s", rcv.n.Load(), *n, *timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// idle is the Processor and Payloads of a Queue that only enqueues.
type idle struct{}

func (idle) Process(context.Context, webhook.Inbound) error { return errors.New("enqueue only") }
func (idle) Delivery(context.Context, string) (webhook.Message, error) {
	return webhook.Message{}, errors.New("enqueue only")
}
func (idle) GaveUp(context.Context, string, int) error { return errors.New("enqueue only") }
func (idle) RecordAttempt(context.Context, string, int, string, string, time.Time) error {
	return errors.New("enqueue only")
}
