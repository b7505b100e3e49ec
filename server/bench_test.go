package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/internal/pgschema"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// The benchmarks measure the server as `paymentctl serve` runs it in local
// mode: production webhook policies and poll interval, the fake PGs in
// process. Requests go straight to the App's handler (no client or socket
// in the profile) unless a benchmark says otherwise. Run them with
//
//	go test -bench . -run '^$' ./server
//
// and set PAYMENTCTL_TEST_POSTGRES_DSN to add the PostgreSQL variants.
// The read and registration benchmarks also report cpu-µs/op (see timed),
// the figure to compare across a code change on a shared machine.
// scripts/load measures the same paths against a running server.

// timed runs the timed part of a benchmark and reports, beside ns/op
// (wall time, which on a shared machine measures the neighbours too), the
// CPU time the process spent per operation: the handler, and the fakes
// and webhook workers in process, not the database server. It is what a
// change of the code moves, whatever else runs on the machine.
func timed(b *testing.B, run func()) {
	b.ResetTimer()
	start := cpuTime(b)
	run()
	b.StopTimer()
	b.ReportMetric(float64((cpuTime(b)-start).Nanoseconds())/1000/float64(b.N), "cpu-µs/op")
}

// benchParallelism multiplies GOMAXPROCS into the number of concurrent
// requests: registrations and reads wait on the database and the PG, so
// a couple of requests per core would leave the CPU idle.
const benchParallelism = 8

// benchEnv is a running paymentctl for a benchmark.
type benchEnv struct {
	srv     *server.Running
	wire    *wirecrypt.Cipher
	iamport *iamport.Client
	toss    *toss.Client
}

// benchEachBackend runs fn as one sub-benchmark per database: SQLite
// always, PostgreSQL when PAYMENTCTL_TEST_POSTGRES_DSN is set.
func benchEachBackend(b *testing.B, fn func(b *testing.B, env *benchEnv)) {
	b.Run("sqlite", func(b *testing.B) {
		fn(b, startBench(b, "sqlite:"+filepath.Join(b.TempDir(), "payments.db")))
	})
	if base := pgschema.TestDSN(); base != "" {
		b.Run("postgres", func(b *testing.B) {
			fn(b, startBench(b, postgresSchema(b, base)))
		})
	}
}

// startBench starts paymentctl in local mode on dsn with the production
// webhook settings and stops it when the benchmark ends.
func startBench(b *testing.B, dsn string) *benchEnv {
	b.Helper()
	ctx := context.Background()
	cfg, err := config.Load(config.LoadOptions{LookupEnv: func(k string) (string, bool) {
		switch k {
		case "PAYMENT_DATABASE_URL":
			return dsn, true
		case "PAYMENT_METRICS_ADDR":
			return "127.0.0.1:0", true
		}
		return "", false
	}})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := server.Start(ctx, server.Options{Config: cfg, FakeIamportAddr: "127.0.0.1:0", FakeTossAddr: "127.0.0.1:0", FakePortOneAddr: "127.0.0.1:0"}, "")
	if err != nil {
		b.Fatalf("start server: %v", err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			b.Errorf("close server: %v", err)
		}
	})
	wire, err := wirecrypt.New(connectionKey, connectionIV)
	if err != nil {
		b.Fatal(err)
	}
	return &benchEnv{
		srv:     srv,
		wire:    wire,
		iamport: iamport.New(iamport.Options{BaseURL: srv.Fakes.IamportURL, Key: "test_imp_key", Secret: "test_imp_secret"}),
		toss:    toss.New(toss.Options{BaseURL: srv.Fakes.TossURL, SecretKey: "test_ak_ZORzdMaqN3wQd5k6ygr5AkYXQGwy"}),
	}
}

// encrypt returns v as the wire's AES text/plain body.
func (e *benchEnv) encrypt(v any) ([]byte, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return e.wire.Encrypt(plain), nil
}

// serve runs one encrypted request through the App's handler and returns
// the status and the decrypted body of a success (the raw body otherwise).
func (e *benchEnv) serve(method, path string, body []byte) (int, []byte, error) {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", wirecrypt.ContentType)
	rec := httptest.NewRecorder()
	e.srv.Handler.ServeHTTP(rec, req)
	if rec.Code/100 != 2 {
		return rec.Code, rec.Body.Bytes(), nil
	}
	plain, err := e.wire.Decrypt(rec.Body.Bytes())
	return rec.Code, plain, err
}

// drain waits until the webhook queue is idle, so that the jobs set-up
// caused (the fakes' "paid" webhooks) do not run inside the timed loop.
func (e *benchEnv) drain(b *testing.B) {
	b.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var n int
		err := e.srv.Store.SQLDB().QueryRow(
			"SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'discarded', 'cancelled')").Scan(&n)
		if err != nil {
			b.Fatalf("count jobs: %v", err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d webhook jobs still pending", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fakeCapacity is how many payments a fake PG keeps (its default
// capacity, 10,000, less a margin); a benchmark that makes more would see
// its first ones forgotten.
const fakeCapacity = 9000

// needPayments stops a benchmark that would make more payments at a fake
// than it keeps.
func needPayments(b *testing.B) {
	b.Helper()
	if b.N > fakeCapacity {
		b.Fatalf("b.N = %d payments, but a fake PG keeps only %d: use -benchtime=Nx with a smaller N", b.N, fakeCapacity)
	}
}

// parallel calls fn(i) for i in [0, n) on a few goroutines and returns the
// first error.
func parallel(n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// BenchmarkReadHistory measures the encrypted read PATCH
// /payments/histories/:id of an Iamport card payment: body decryption, the
// one query (history and cancels), the at-rest open, the password check
// and the encrypted reply.
func BenchmarkReadHistory(b *testing.B) {
	benchEachBackend(b, func(b *testing.B, env *benchEnv) {
		ctx := context.Background()
		src := newSource()
		p, err := env.iamport.PayOnetime(ctx, iamport.OnetimeRequest{
			CardFields:  iamport.CardFields{CardNumber: "1234-1234-1234-1234", Expiry: "2028-12", Birth: "880311"},
			OrderFields: iamport.OrderFields{MerchantUID: src.ID, Amount: 20000, Name: "bench"},
		})
		if err != nil {
			b.Fatal(err)
		}
		reg, err := env.encrypt(sdk.HistoryCreate{
			Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: p.ImpUID},
			Source: src, Price: 20000, Password: testPassword, WebhookURL: "http://127.0.0.1:9/unused",
		})
		if err != nil {
			b.Fatal(err)
		}
		status, out, err := env.serve(http.MethodPost, "/payments/histories", reg)
		if err != nil || status != http.StatusCreated {
			b.Fatalf("register: %d %s %v", status, out, err)
		}
		var hist sdk.History
		if err := json.Unmarshal(out, &hist); err != nil {
			b.Fatal(err)
		}
		env.drain(b)
		path := "/payments/histories/" + hist.ID
		body, err := env.encrypt(sdk.Password{Password: testPassword})
		if err != nil {
			b.Fatal(err)
		}
		// One checked read before the loop: the benchmark measures a
		// working read, not a fast error.
		status, out, err = env.serve(http.MethodPatch, path, body)
		var got sdk.History
		if err == nil && status == http.StatusOK {
			err = json.Unmarshal(out, &got)
		}
		if err != nil || status != http.StatusOK || got.ID != hist.ID || got.Price != 20000 {
			b.Fatalf("read: %d %s %v", status, out, err)
		}

		b.ReportAllocs()
		b.SetParallelism(benchParallelism)
		timed(b, func() {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if status, out, err := env.serve(http.MethodPatch, path, body); err != nil || status != http.StatusOK {
						b.Errorf("read: %d %s %v", status, out, err)
						return
					}
				}
			})
		})
	})
}

// BenchmarkRegisterIamport measures POST /payments/histories of Iamport
// card payments, made at the fake beforehand: the look-up at the fake PG,
// the insert with the replay of the fake's "paid" webhook (kept pending
// until the registration), and the encrypted reply. The replayed jobs run
// alongside, as they do in production.
func BenchmarkRegisterIamport(b *testing.B) {
	benchEachBackend(b, func(b *testing.B, env *benchEnv) {
		needPayments(b)
		ctx := context.Background()
		bodies := make([][]byte, b.N)
		err := parallel(b.N, 8, func(i int) error {
			src := newSource()
			p, err := env.iamport.PayOnetime(ctx, iamport.OnetimeRequest{
				CardFields:  iamport.CardFields{CardNumber: "1234-1234-1234-1234", Expiry: "2028-12", Birth: "880311"},
				OrderFields: iamport.OrderFields{MerchantUID: src.ID, Amount: 20000, Name: "bench"},
			})
			if err != nil {
				return err
			}
			bodies[i], err = env.encrypt(sdk.HistoryCreate{
				Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: p.ImpUID},
				Source: src, Price: 20000, Password: testPassword, WebhookURL: "http://127.0.0.1:9/unused",
			})
			return err
		})
		if err != nil {
			b.Fatalf("pay at the fake: %v", err)
		}
		env.drain(b)
		benchRegister(b, env, bodies)
	})
}

// BenchmarkRegisterToss measures POST /payments/histories of Toss key-in
// card payments left unconfirmed at the fake: the look-up and the confirm
// at the fake PG, the insert and the encrypted reply.
func BenchmarkRegisterToss(b *testing.B) {
	benchEachBackend(b, func(b *testing.B, env *benchEnv) {
		needPayments(b)
		ctx := context.Background()
		bodies := make([][]byte, b.N)
		approved := false
		err := parallel(b.N, 8, func(i int) error {
			src := newSource()
			p, err := env.toss.KeyIn(ctx, toss.KeyInRequest{
				Method: "card", CardNumber: "1111222233334444", CardExpirationYear: "28", CardExpirationMonth: "03",
				OrderID: src.ID, OrderName: "bench", Amount: 20000, Approved: &approved,
			})
			if err != nil {
				return err
			}
			bodies[i], err = env.encrypt(sdk.HistoryCreate{
				Vendor: sdk.Vendor{Code: sdk.VendorToss, StoreID: tossStoreID, UID: p.PaymentKey},
				Source: src, Price: 20000, Password: testPassword, WebhookURL: "http://127.0.0.1:9/unused",
			})
			return err
		})
		if err != nil {
			b.Fatalf("key-in at the fake: %v", err)
		}
		env.drain(b)
		benchRegister(b, env, bodies)
	})
}

// benchRegister posts each body once, concurrently, and fails on anything
// but 201.
func benchRegister(b *testing.B, env *benchEnv, bodies [][]byte) {
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(benchParallelism)
	timed(b, func() {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				body := bodies[next.Add(1)-1]
				if status, out, err := env.serve(http.MethodPost, "/payments/histories", body); err != nil || status != http.StatusCreated {
					b.Errorf("register: %d %s %v", status, out, err)
					return
				}
			}
		})
	})
}

// BenchmarkDepositWebhook measures one event end to end over real HTTP:
// from the deposit call at the fake Iamport to the forwarded event's
// arrival at the service's receiver (the fake's webhook, the stored
// inbound job, the re-fetch, the update and the delivery job). Deposits
// are one at a time; it reports the median and 99th percentile.
func BenchmarkDepositWebhook(b *testing.B) {
	benchEachBackend(b, func(b *testing.B, env *benchEnv) {
		needPayments(b)
		ctx := context.Background()
		arrived := make(chan string, 16)
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, _ := io.ReadAll(r.Body)
			w.WriteHeader(http.StatusOK)
			plain, err := env.wire.Decrypt(raw)
			var ev sdk.WebhookHistory
			if err == nil && json.Unmarshal(plain, &ev) == nil {
				select {
				case arrived <- ev.Current.ID:
				default: // a duplicate nobody waits for
				}
			}
		}))
		b.Cleanup(receiver.Close)

		type vbank struct{ uid, historyID string }
		accounts := make([]vbank, b.N)
		err := parallel(b.N, 8, func(i int) error {
			src := newSource()
			p, err := env.iamport.CreateVBank(ctx, iamport.VBankRequest{
				MerchantUID: src.ID, Amount: 20000, VBankCode: "SHINHAN",
				VBankDue: iamport.TimestampOf(time.Now().Add(24 * time.Hour)), VBankHolder: "bench",
			})
			if err != nil {
				return err
			}
			reg, err := env.encrypt(sdk.HistoryCreate{
				Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: p.ImpUID},
				Source: src, Price: 20000, Password: testPassword, WebhookURL: receiver.URL,
			})
			if err != nil {
				return err
			}
			status, out, err := env.serve(http.MethodPost, "/payments/histories", reg)
			if err != nil || status != http.StatusCreated {
				return fmt.Errorf("register: %d %s %v", status, out, err)
			}
			var h sdk.History
			if err := json.Unmarshal(out, &h); err != nil {
				return err
			}
			accounts[i] = vbank{uid: p.ImpUID, historyID: h.ID}
			return nil
		})
		if err != nil {
			b.Fatalf("issue virtual accounts: %v", err)
		}
		env.drain(b)

		samples := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for _, a := range accounts {
			start := time.Now()
			if _, err := env.iamport.Deposit(ctx, a.uid); err != nil {
				b.Fatalf("deposit: %v", err)
			}
			timeout := time.After(30 * time.Second)
		wait:
			for {
				select {
				case id := <-arrived:
					if id == a.historyID {
						samples = append(samples, time.Since(start))
						break wait
					}
				case <-timeout:
					b.Fatalf("no event for history %s within 30s", a.historyID)
				}
			}
		}
		b.StopTimer()
		slices.Sort(samples)
		pct := func(q float64) float64 {
			return float64(samples[int(q*float64(len(samples)-1))]) / float64(time.Millisecond)
		}
		b.ReportMetric(pct(0.5), "p50-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
	})
}
