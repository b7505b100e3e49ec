package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server"
)

// The shape of the stored data the growth run fills in (scripts/load
// growth.sh), per history: every one a paid card payment; one in ten with
// a cancel (half of them partial); three in ten with a webhook event (a
// virtual account's deposit, a cancel) and its one delivery attempt.
const (
	fillCancelEvery  = 10
	fillWebhookEvery = 10 // events at i%10 < fillWebhookShare
	fillWebhookShare = 3
	fillBatch        = 5000
)

// fill runs `fill -api URL -iamport URL -dsn DSN -to N -dir DIR`: it brings
// the histories table up to N rows with COPY, not through the API, each
// history sealed as the server seals it (its own id as associated data,
// the PG object of a real registration) and readable with the load
// password, plus cancels and webhook logs in the proportions above; then
// it writes DIR/read.ids, a random sample of history ids for the read
// phase (read_many.lua). Growing 1,000 -> 100,000 -> 1,000,000 calls it
// three times.
func fill(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("fill", flag.ContinueOnError)
	api := fs.String("api", "", "paymentctl base URL")
	iamportURL := fs.String("iamport", "", "fake Iamport base URL")
	dsn := fs.String("dsn", "", "the server's PostgreSQL DSN")
	to := fs.Int("to", 1000, "histories the table should hold")
	dir := fs.String("dir", "", "where read.ids goes")
	sample := fs.Int("sample", 5000, "history ids to sample for reads")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *api == "" || *iamportURL == "" || *dsn == "" || *dir == "" {
		return errors.New("fill: -api, -iamport, -dsn and -dir are required")
	}
	k, err := newKit(*iamportURL, "")
	if err != nil {
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
	// A real registration gives the PG object the filled histories carry.
	src := newSource()
	uid, err := k.iamportCard(ctx, src)
	if err != nil {
		return err
	}
	body, err := k.encrypt(registration(sdk.VendorIamport, iamportStoreID, uid, noReceiver, src))
	if err != nil {
		return err
	}
	var real sdk.History
	if err := k.post(ctx, http.MethodPost, *api+"/payments/histories", body, &real); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	conn, err := pgx.Connect(ctx, *dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var have int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM payment_histories").Scan(&have); err != nil {
		return err
	}
	start := time.Now()
	hash := keys.Passwords.Hash(password)
	blob := func(n int) string {
		b := make([]byte, n*3/4)
		rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	cancelData, eventData, replyBody := blob(600), blob(2400), blob(200)
	epoch := time.Now().Add(-365 * 24 * time.Hour)
	for have < *to {
		n := min(fillBatch, *to-have)
		var hs, cs, ws, rs [][]any
		for i := range n {
			seq := have + i
			id := uuid.NewString()
			data, err := keys.History.Seal(real.Data, []byte(id))
			if err != nil {
				return err
			}
			at := epoch.Add(time.Duration(seq) * time.Second / 4)
			var refund any
			var cancelled any
			if seq%fillCancelEvery == 0 {
				amt := int64(amount)
				if seq%(2*fillCancelEvery) == 0 {
					amt = amount / 2
				}
				refund, cancelled = amt, at.Add(time.Hour)
				cs = append(cs, []any{uuid.NewString(), id, amt, "load cancel", cancelData, at.Add(time.Hour), 0})
			}
			hs = append(hs, []any{id, "load", "fill", fmt.Sprintf("fill-%d", seq), "iamport", fmt.Sprintf("imp_fill%d", seq),
				iamportStoreID, "KRW", int64(amount), refund, noReceiver, data, hash, at, at, cancelled})
			if seq%fillWebhookEvery < fillWebhookShare {
				wid := uuid.NewString()
				ws = append(ws, []any{wid, id, eventData, eventData, cancelData, at.Add(time.Minute)})
				rs = append(rs, []any{uuid.NewString(), wid, 200, replyBody, at.Add(time.Minute)})
			}
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			for _, t := range []struct {
				table string
				cols  []string
				rows  [][]any
			}{
				{"payment_histories", []string{"id", "source_schema", "source_table", "source_id", "vendor_code", "vendor_uid",
					"vendor_store_id", "currency", "price", "refund", "webhook_url", "data", "password", "created_at", "paid_at", "cancelled_at"}, hs},
				{"payment_history_cancels", []string{"id", "payment_history_id", "amount", "reason", "data", "created_at", "sequence"}, cs},
				{"payment_history_webhooks", []string{"id", "payment_history_id", "previous", "current", "data", "created_at"}, ws},
				{"payment_history_webhook_responses", []string{"id", "payment_history_webhook_id", "status", "body", "created_at"}, rs},
			} {
				if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.table}, t.cols, pgx.CopyFromRows(t.rows)); err != nil {
					return fmt.Errorf("copy into %s: %w", t.table, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		have += n
	}
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		return err
	}
	rows, err := conn.Query(ctx, "SELECT id::text FROM payment_histories TABLESAMPLE BERNOULLI ($1) LIMIT $2",
		min(100, 100*float64(*sample)*2/float64(max(have, 1))), *sample)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*dir, "read.ids"), []byte(strings.Join(ids, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Printf("fill histories=%d sampled=%d took_s=%.1f\n", have, len(ids), time.Since(start).Seconds())
	return nil
}
