package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// The history look-ups on PostgreSQL, outside a transaction, run on pgx's
// own interface instead of database/sql's: the statement goes to the
// *pgx.Conn under one of the pool's connections ((*sql.Conn).Raw), so
// gorm, River and these look-ups keep sharing one pool, and the row is
// scanned straight into Go values instead of through the stdlib adapter's
// driver.Value conversion and database/sql's convertAssign. pgx runs the
// statement exactly as the adapter does (the connection's statement cache:
// one Bind/Execute round trip); only the result formats differ (binary
// for uuid as well), which changes no value read. docs/performance.md
// ("What bounds the read") has the measured effect.

// errNotPgx means the pool's driver is not pgx's database/sql adapter.
var errNotPgx = errors.New("the connection is not pgx's database/sql driver")

// badConnRetries is how many times a statement that never reached the
// server is retried on another connection, as database/sql retries one
// whose driver reports driver.ErrBadConn (twice on a pooled connection,
// then once on a new one).
const badConnRetries = 3

// withPgxConn runs fn on the *pgx.Conn under one of db's connections. A
// failure pgx reports as safe to retry (the statement was never sent) on
// a closed connection discards that connection and runs fn again on
// another, as database/sql does for its own statements.
func withPgxConn(ctx context.Context, db *sql.DB, fn func(*pgx.Conn) error) error {
	var err error
	for range badConnRetries {
		if err = runOnPgxConn(ctx, db, fn); !errors.Is(err, driver.ErrBadConn) {
			return err
		}
	}
	return err
}

// runOnPgxConn is one attempt of withPgxConn: fn's error, or
// driver.ErrBadConn (which makes Raw discard the connection) when the
// connection was found closed or fn failed before sending anything.
func runOnPgxConn(ctx context.Context, db *sql.DB, fn func(*pgx.Conn) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		// pgx's *stdlib.Conn, or the store's lockingConn around it.
		sc, ok := dc.(interface{ Conn() *pgx.Conn })
		if !ok {
			return errNotPgx
		}
		pc := sc.Conn()
		if pc.IsClosed() {
			return driver.ErrBadConn
		}
		err := fn(pc)
		if err != nil && pgconn.SafeToRetry(err) && pc.IsClosed() {
			return driver.ErrBadConn
		}
		return err
	})
}

// queryHistoryPgx is queryHistory's statement and scan on pgx: the
// history, or nil when there is no row.
func queryHistoryPgx(ctx context.Context, db *sql.DB, query string, args ...any) (*History, error) {
	var h *History
	err := withPgxConn(ctx, db, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		h, err = scanHistoryPgx(rows)
		return err
	})
	return h, err
}

// scanHistoryPgx is scanHistoryRows on pgx's rows: the same columns, the
// same History.
func scanHistoryPgx(rows pgx.Rows) (*History, error) {
	defer rows.Close()
	s := new(historyScan)
	dest := s.dest()
	var h *History
	for rows.Next() {
		if h != nil {
			// Further rows repeat the history: only the cancel is read.
			clear(dest[:historyOnlyColumns])
		}
		if !decodeRaw(rows.FieldDescriptions(), rows.RawValues(), dest) {
			if err := rows.Scan(dest...); err != nil {
				return nil, err
			}
		}
		h = s.add(h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return finishHistory(h), nil
}

// historyScan holds the values of a row of historyColumns: one
// allocation for all of them.
type historyScan struct {
	history             History
	reservation         pgtype.Text
	refund              pgtype.Int8
	paid, canc          pgtype.Timestamptz
	cID, cReason, cData pgtype.Text
	cAmount, cSequence  pgtype.Int8
	cCreated            pgtype.Timestamptz
}

// add takes the row just read into s: the history from the first row
// (h nil), then the cancel of every row that has one. It returns the
// history.
func (s *historyScan) add(h *History) *History {
	if h == nil {
		r := &s.history
		r.ReservationID, r.Refund = s.reservation.String, s.refund.Int64
		r.CreatedAt = r.CreatedAt.UTC()
		r.PaidAt, r.CancelledAt = pgTime(s.paid), pgTime(s.canc)
		h = r
	}
	if !s.cID.Valid {
		return h
	}
	c := Cancel{ID: s.cID.String, HistoryID: h.ID, Amount: s.cAmount.Int64, Reason: s.cReason.String, Data: s.cData.String}
	if s.cCreated.Valid {
		c.CreatedAt = s.cCreated.Time.UTC()
	}
	if s.cSequence.Valid {
		seq := int(s.cSequence.Int64)
		c.Sequence = &seq
	}
	h.Cancels = append(h.Cancels, c)
	return h
}

// finishHistory gives a history read without cancels an empty list of
// them; nil stays nil.
func finishHistory(h *History) *History {
	if h != nil && h.Cancels == nil {
		h.Cancels = []Cancel{}
	}
	return h
}

// historyOnlyColumns is how many of historyColumns are the history's; the
// cancel's follow.
const historyOnlyColumns = 18

// dest returns the destinations of historyColumns, in order.
func (s *historyScan) dest() []any {
	r := &s.history
	return []any{&r.ID, &r.Source.Service, &r.Source.Schema, &r.Source.Table, &r.Source.ID, &r.Vendor.Code, &r.Vendor.UID, &r.Vendor.StoreID,
		&s.reservation, &r.Currency, &r.Price, &s.refund, &r.WebhookURL, &r.Data, &r.Password,
		&r.CreatedAt, &s.paid, &s.canc,
		&s.cID, &s.cAmount, &s.cReason, &s.cData, &s.cCreated, &s.cSequence}
}

// decodeRaw decodes a row's values into dest (skipping nil entries) from
// their wire form, without building pgx's scan plans: text and varchar in
// either format, uuid, int8, int4 and timestamptz in binary, into the
// destination types of historyScan. It returns false, having possibly
// written some of dest, for anything else (another type, format or
// destination, NULL into a non-null destination, an infinite time); the
// caller then scans the row with pgx, which decodes or reports it.
func decodeRaw(fields []pgconn.FieldDescription, values [][]byte, dest []any) bool {
	if len(fields) != len(dest) || len(values) != len(dest) {
		return false
	}
	for i, d := range dest {
		f, b := fields[i], values[i]
		ok := true
		switch d := d.(type) {
		case nil:
		case *string:
			*d, ok = rawString(f, b)
		case *pgtype.Text:
			*d = pgtype.Text{}
			if b != nil {
				d.String, ok = rawString(f, b)
				d.Valid = true
			}
		case *int64:
			*d, ok = rawInt(f, b)
		case *pgtype.Int8:
			*d = pgtype.Int8{}
			if b != nil {
				d.Int64, ok = rawInt(f, b)
				d.Valid = true
			}
		case *time.Time:
			*d, ok = rawTime(f, b)
		case *pgtype.Timestamptz:
			*d = pgtype.Timestamptz{}
			if b != nil {
				d.Time, ok = rawTime(f, b)
				d.Valid = true
			}
		default:
			ok = false
		}
		if !ok {
			return false
		}
	}
	return true
}

// rawString decodes a text or varchar value (its bytes in either format)
// or a uuid (its 16 bytes in binary, its text otherwise).
func rawString(f pgconn.FieldDescription, b []byte) (string, bool) {
	if b == nil {
		return "", false
	}
	switch f.DataTypeOID {
	case pgtype.TextOID, pgtype.VarcharOID:
		return string(b), true
	case pgtype.UUIDOID:
		if f.Format == pgtype.TextFormatCode {
			return string(b), true
		}
		if len(b) == 16 {
			return uuidString(b), true
		}
	}
	return "", false
}

// uuidString formats a binary uuid as PostgreSQL prints it.
func uuidString(b []byte) string {
	var buf [36]byte
	hex.Encode(buf[0:8], b[:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], b[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], b[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], b[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], b[10:])
	return string(buf[:])
}

// rawInt decodes a binary int8 or int4.
func rawInt(f pgconn.FieldDescription, b []byte) (int64, bool) {
	if f.Format != pgtype.BinaryFormatCode {
		return 0, false
	}
	switch {
	case f.DataTypeOID == pgtype.Int8OID && len(b) == 8:
		return int64(binary.BigEndian.Uint64(b)), true
	case f.DataTypeOID == pgtype.Int4OID && len(b) == 4:
		return int64(int32(binary.BigEndian.Uint32(b))), true
	}
	return 0, false
}

// y2kUnix is 2000-01-01 00:00:00 UTC, where PostgreSQL's binary times
// count from, in Unix seconds.
const y2kUnix = 946_684_800

// rawTime decodes a binary timestamptz (microseconds since 2000-01-01
// UTC) in UTC; the infinities are left to pgx.
func rawTime(f pgconn.FieldDescription, b []byte) (time.Time, bool) {
	if f.DataTypeOID != pgtype.TimestamptzOID || f.Format != pgtype.BinaryFormatCode || len(b) != 8 {
		return time.Time{}, false
	}
	us := int64(binary.BigEndian.Uint64(b))
	if us == math.MaxInt64 || us == math.MinInt64 {
		return time.Time{}, false
	}
	return time.Unix(y2kUnix+us/1_000_000, us%1_000_000*1_000).UTC(), true
}

// pgTime returns t as a UTC pointer, nil when NULL.
func pgTime(t pgtype.Timestamptz) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}
