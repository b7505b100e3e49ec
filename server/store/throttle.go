package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// ThrottleCounter is the failure count of one client address against one
// scope (payment_throttle_counters). The store keeps it; what the fields
// mean, and how a failure changes them, is the caller's (server/throttle).
type ThrottleCounter struct {
	Address string
	Scope   string
	// Failures counted in the window that started at WindowStart.
	Failures    int
	WindowStart time.Time
	// Lockouts so far, and the end of the latest; zero when never locked out.
	Lockouts     int
	BlockedUntil time.Time
	// ExpiresAt is when the counter may be forgotten.
	ExpiresAt time.Time
}

type throttleRow struct {
	Address      string     `gorm:"column:address;primaryKey"`
	Scope        string     `gorm:"column:scope;primaryKey"`
	Failures     int        `gorm:"column:failures"`
	WindowStart  time.Time  `gorm:"column:window_start"`
	Lockouts     int        `gorm:"column:lockouts"`
	BlockedUntil *time.Time `gorm:"column:blocked_until"`
	ExpiresAt    time.Time  `gorm:"column:expires_at"`
}

// TableName tells gorm the table.
func (throttleRow) TableName() string { return "payment_throttle_counters" }

func (r *throttleRow) domain() ThrottleCounter {
	c := ThrottleCounter{
		Address: r.Address, Scope: r.Scope,
		Failures: r.Failures, WindowStart: r.WindowStart.UTC(),
		Lockouts: r.Lockouts, ExpiresAt: r.ExpiresAt.UTC(),
	}
	if r.BlockedUntil != nil {
		c.BlockedUntil = r.BlockedUntil.UTC()
	}
	return c
}

// ThrottleBlocks returns the scopes of address that are locked out after
// now, each with the end of its lockout; usually none. One indexed query,
// whatever the number of scopes.
func (q *queries) ThrottleBlocks(ctx context.Context, address string, now time.Time) (map[string]time.Time, error) {
	var rows []throttleRow
	err := q.conn(ctx).Where("address = ? AND blocked_until > ?", address, stamp(now)).Find(&rows).Error
	if err != nil {
		return nil, translate(err, "read throttle counters")
	}
	out := make(map[string]time.Time, len(rows))
	for _, r := range rows {
		out[r.Scope] = r.BlockedUntil.UTC()
	}
	return out, nil
}

// UpdateThrottleCounter applies update to the counter of (address, scope),
// a zero counter when there is none, stores the result and returns it.
// Concurrent updates of one counter, from this process or another
// instance, run one after the other: the row is locked (SELECT ... FOR
// UPDATE on PostgreSQL; on SQLite the transaction holds the write lock).
func (s *Store) UpdateThrottleCounter(ctx context.Context, address, scope string, update func(*ThrottleCounter)) (ThrottleCounter, error) {
	op := "update throttle counter"
	var out ThrottleCounter
	err := s.InTx(ctx, func(tx *Tx) error {
		db := tx.conn(ctx)
		// Insert a zero row first so there is always a row to lock: two
		// instances counting a first failure at once then queue on it
		// instead of both inserting a count of one.
		seed := throttleRow{Address: address, Scope: scope, WindowStart: stamp(time.Time{}), ExpiresAt: stamp(time.Time{})}
		if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&seed).Error; err != nil {
			return translate(err, op)
		}
		var row throttleRow
		err := db.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
			Where("address = ? AND scope = ?", address, scope).Take(&row).Error
		if err != nil {
			return translate(err, op)
		}
		out = row.domain()
		update(&out)
		var blocked *time.Time
		if !out.BlockedUntil.IsZero() {
			b := stamp(out.BlockedUntil)
			blocked = &b
		}
		err = db.Model(&throttleRow{}).Where("address = ? AND scope = ?", address, scope).Updates(map[string]any{
			"failures":      out.Failures,
			"window_start":  stamp(out.WindowStart),
			"lockouts":      out.Lockouts,
			"blocked_until": blocked,
			"expires_at":    stamp(out.ExpiresAt),
		}).Error
		return translate(err, op)
	})
	return out, err
}

// ExpireThrottleCounters deletes the counters whose ExpiresAt is not after
// now and returns how many it deleted.
func (q *queries) ExpireThrottleCounters(ctx context.Context, now time.Time) (int64, error) {
	res := q.conn(ctx).Where("expires_at <= ?", stamp(now)).Delete(&throttleRow{})
	if res.Error != nil {
		return 0, translate(res.Error, "expire throttle counters")
	}
	return res.RowsAffected, nil
}
