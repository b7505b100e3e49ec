package store

import (
	"context"
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// TestHistoryPgxMatchesSQL reads the same histories through pgx's own
// interface (the Store, on PostgreSQL) and through database/sql (a Tx)
// and requires the same History: with and without cancels, NULL and set
// optional columns.
func TestHistoryPgxMatchesSQL(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, clock *testClock) {
		bare := createHistory(t, s, 10000)

		full := newHistory(20000)
		paid := clock.Now().Add(-time.Minute)
		full.PaidAt = &paid
		if err := s.CreateHistory(ctx, full); err != nil {
			t.Fatalf("CreateHistory: %v", err)
		}
		seq := func(i int) *int { return &i }
		t0 := stamp(clock.Now())
		cancels := []Cancel{
			{Amount: 2000, Reason: "customer", Data: "v1.k1.a", CreatedAt: t0.Add(2 * time.Minute), Sequence: seq(1)},
			{Amount: 3000, Reason: "고객 요청", Data: "v1.k1.b", CreatedAt: t0.Add(time.Minute)},
			{Amount: 0, Reason: "zero", Data: "v1.k1.c", CreatedAt: t0.Add(3 * time.Minute), Sequence: seq(0)},
		}
		if _, err := s.AddCancels(ctx, full.ID, cancels); err != nil {
			t.Fatalf("AddCancels: %v", err)
		}

		for _, id := range []string{bare.ID, full.ID} {
			got, err := s.History(ctx, id)
			if err != nil {
				t.Fatalf("History(%s): %v", id, err)
			}
			var want *History
			err = s.InTx(ctx, func(tx *Tx) error {
				var err error
				want, err = tx.History(ctx, id)
				return err
			})
			if err != nil {
				t.Fatalf("Tx.History(%s): %v", id, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("History(%s) on the Store differs from the Tx's (-tx +store):\n%s", id, diff)
			}
			byVendor, err := s.HistoryByVendor(ctx, got.Vendor.Code, got.Vendor.UID)
			if err != nil {
				t.Fatalf("HistoryByVendor: %v", err)
			}
			if diff := cmp.Diff(want, byVendor); diff != "" {
				t.Errorf("HistoryByVendor differs from the Tx's History (-tx +store):\n%s", diff)
			}
		}
	})
}

// TestDecodeRaw checks the wire decoders on the values they take and
// that they leave everything else to pgx.
func TestDecodeRaw(t *testing.T) {
	be8 := func(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }
	be4 := func(v int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }
	field := func(oid uint32, format int16) pgconn.FieldDescription {
		return pgconn.FieldDescription{DataTypeOID: oid, Format: format}
	}
	const bin, txt = pgtype.BinaryFormatCode, pgtype.TextFormatCode
	uuidBytes := []byte{0x0b, 0x6c, 0x7d, 0x9e, 0x8f, 0x10, 0x4a, 0x2b, 0x9c, 0x3d, 0x4e, 0x5f, 0x60, 0x71, 0x82, 0x93}
	when := time.Date(2026, 12, 5, 1, 2, 3, 456789000, time.UTC)
	sinceY2K := when.Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).Microseconds()
	before := time.Date(1999, 12, 31, 23, 59, 58, 500000000, time.UTC)
	beforeY2K := before.Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).Microseconds()

	tests := []struct {
		name   string
		field  pgconn.FieldDescription
		value  []byte
		newDst func() any
		want   any // nil: decodeRaw must refuse
	}{
		{"text", field(pgtype.TextOID, txt), []byte("héllo"), func() any { return new(string) }, "héllo"},
		{"varchar binary", field(pgtype.VarcharOID, bin), []byte("x"), func() any { return new(string) }, "x"},
		{"empty text", field(pgtype.TextOID, txt), []byte{}, func() any { return new(string) }, ""},
		{"uuid binary", field(pgtype.UUIDOID, bin), uuidBytes, func() any { return new(string) }, "0b6c7d9e-8f10-4a2b-9c3d-4e5f60718293"},
		{"uuid text", field(pgtype.UUIDOID, txt), []byte("0b6c7d9e-8f10-4a2b-9c3d-4e5f60718293"), func() any { return new(string) }, "0b6c7d9e-8f10-4a2b-9c3d-4e5f60718293"},
		{"uuid short", field(pgtype.UUIDOID, bin), uuidBytes[:15], func() any { return new(string) }, nil},
		{"NULL into string", field(pgtype.TextOID, txt), nil, func() any { return new(string) }, nil},
		{"NULL text", field(pgtype.UUIDOID, bin), nil, func() any { return new(pgtype.Text) }, pgtype.Text{}},
		{"set text", field(pgtype.UUIDOID, bin), uuidBytes, func() any { return new(pgtype.Text) }, pgtype.Text{String: "0b6c7d9e-8f10-4a2b-9c3d-4e5f60718293", Valid: true}},
		{"int8", field(pgtype.Int8OID, bin), be8(-20000), func() any { return new(int64) }, int64(-20000)},
		{"int8 text", field(pgtype.Int8OID, txt), []byte("5"), func() any { return new(int64) }, nil},
		{"int4", field(pgtype.Int4OID, bin), be4(-3), func() any { return new(pgtype.Int8) }, pgtype.Int8{Int64: -3, Valid: true}},
		{"NULL int", field(pgtype.Int4OID, bin), nil, func() any { return new(pgtype.Int8) }, pgtype.Int8{}},
		{"numeric", field(pgtype.NumericOID, bin), be8(1), func() any { return new(int64) }, nil},
		{"timestamptz", field(pgtype.TimestamptzOID, bin), be8(sinceY2K), func() any { return new(time.Time) }, when},
		{"before 2000", field(pgtype.TimestamptzOID, bin), be8(beforeY2K), func() any { return new(pgtype.Timestamptz) }, pgtype.Timestamptz{Time: before, Valid: true}},
		{"NULL timestamptz", field(pgtype.TimestamptzOID, bin), nil, func() any { return new(pgtype.Timestamptz) }, pgtype.Timestamptz{}},
		{"infinity", field(pgtype.TimestamptzOID, bin), be8(math.MaxInt64), func() any { return new(time.Time) }, nil},
		{"timestamp", field(pgtype.TimestampOID, bin), be8(sinceY2K), func() any { return new(time.Time) }, nil},
		{"other destination", field(pgtype.TextOID, txt), []byte("x"), func() any { return new([]byte) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := tt.newDst()
			ok := decodeRaw([]pgconn.FieldDescription{tt.field}, [][]byte{tt.value}, []any{dst})
			if tt.want == nil {
				if ok {
					t.Errorf("decodeRaw(%v) = true, want false (left to pgx)", tt.value)
				}
				return
			}
			if !ok {
				t.Fatalf("decodeRaw(%v) = false, want true", tt.value)
			}
			got := reflectElem(dst)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decodeRaw(%v) decoded (-want +got):\n%s", tt.value, diff)
			}
		})
	}
	if decodeRaw([]pgconn.FieldDescription{field(pgtype.TextOID, txt)}, [][]byte{[]byte("x")}, []any{new(string), new(string)}) {
		t.Errorf("decodeRaw with more destinations than columns = true, want false")
	}
}

// reflectElem returns what dst, a pointer made by a test case, points to.
func reflectElem(dst any) any {
	switch d := dst.(type) {
	case *string:
		return *d
	case *int64:
		return *d
	case *time.Time:
		return *d
	case *pgtype.Text:
		return *d
	case *pgtype.Int8:
		return *d
	case *pgtype.Timestamptz:
		return *d
	}
	return nil
}
