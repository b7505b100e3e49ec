//go:build unix

package store

import (
	"context"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/internal/pgschema"
)

// processCPU returns the CPU time (user and system) this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLockedTx compares, on PostgreSQL, a transaction that takes a
// payment's lock with a statement of its own (BEGIN, lock, COMMIT: three
// round trips) with InLockedTx (BEGIN and the lock together, COMMIT: two),
// 8 goroutines per core, each transaction on a payment of its own.
func BenchmarkLockedTx(b *testing.B) {
	ctx := context.Background()
	base := pgschema.TestDSN()
	if base == "" {
		b.Skip("PostgreSQL only (on SQLite the write transaction is the lock); set " + pgschema.EnvTestDSN)
	}
	s, err := Open(ctx, pgschema.ForTest(b, base, "b_store_"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var next atomic.Int64
	for _, bc := range []struct {
		name string
		tx   func(uid string) error
	}{
		{"statement", func(uid string) error {
			return s.InTx(ctx, func(tx *Tx) error { return tx.LockVendorPayment(ctx, "iamport", uid) })
		}},
		{"with-begin", func(uid string) error {
			return s.InLockedTx(ctx, "iamport", uid, func(*Tx) error { return nil })
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetParallelism(8)
			b.ResetTimer()
			start := processCPU(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := bc.tx("imp_" + strconv.FormatInt(next.Add(1), 10)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64((processCPU(b)-start).Nanoseconds())/1000/float64(b.N), "cpu-µs/op")
		})
	}
}
