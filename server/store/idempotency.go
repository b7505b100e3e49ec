package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// IdempotencyStatus is the state of an idempotency record.
type IdempotencyStatus string

// The states of an idempotency record.
const (
	// IdempotencyRunning means the first request with the key is in flight.
	IdempotencyRunning IdempotencyStatus = "running"
	// IdempotencyCompleted means its response is stored for replays.
	IdempotencyCompleted IdempotencyStatus = "completed"
	// IdempotencyUnknown means the request ended without knowing whether
	// the PG acted (a timeout, a reset connection, a 5xx): the key stays
	// bound to the request, and a retry with the same body runs it again
	// under the same record, which resolves the outcome first.
	IdempotencyUnknown IdempotencyStatus = "unknown"
)

// IdempotencyRequest names a request carrying an Idempotency-Key header.
// Service, Key, Method and Path together identify the record (keys are
// per service: one service cannot replay or block another's);
// RequestHash lets the caller tell a retry from a different request
// reusing the key.
type IdempotencyRequest struct {
	// Service is the calling service's name; "" is the default service.
	Service     string
	Key         string
	Method      string
	Path        string
	RequestHash string
}

// IdempotencyRecord is the stored state of an idempotency key
// (payment_idempotency_keys).
type IdempotencyRecord struct {
	ID          string
	Key         string
	Method      string
	Path        string
	RequestHash string
	Status      IdempotencyStatus
	// ResponseStatus and ResponseBody (sealed) are set once completed.
	ResponseStatus int
	ResponseBody   string
	CreatedAt      time.Time
	CompletedAt    *time.Time
	// ExpiresAt is when the key is forgotten (created + the store's TTL).
	ExpiresAt time.Time
}

type idempotencyRow struct {
	ID             string     `gorm:"column:id;primaryKey"`
	Service        string     `gorm:"column:service"`
	IdempotencyKey string     `gorm:"column:idempotency_key"`
	Method         string     `gorm:"column:method"`
	Path           string     `gorm:"column:path"`
	RequestHash    string     `gorm:"column:request_hash"`
	Status         string     `gorm:"column:status"`
	ResponseStatus *int       `gorm:"column:response_status"`
	ResponseBody   *string    `gorm:"column:response_body"`
	CreatedAt      time.Time  `gorm:"column:created_at"`
	CompletedAt    *time.Time `gorm:"column:completed_at"`
	ExpiresAt      time.Time  `gorm:"column:expires_at"`
}

// TableName tells gorm the table.
func (idempotencyRow) TableName() string { return "payment_idempotency_keys" }

func (r *idempotencyRow) domain() *IdempotencyRecord {
	out := &IdempotencyRecord{
		ID:          r.ID,
		Key:         r.IdempotencyKey,
		Method:      r.Method,
		Path:        r.Path,
		RequestHash: r.RequestHash,
		Status:      IdempotencyStatus(r.Status),
		CreatedAt:   r.CreatedAt.UTC(),
		CompletedAt: utcPtr(r.CompletedAt),
		ExpiresAt:   r.ExpiresAt.UTC(),
	}
	if r.ResponseStatus != nil {
		out.ResponseStatus = *r.ResponseStatus
	}
	if r.ResponseBody != nil {
		out.ResponseBody = *r.ResponseBody
	}
	return out
}

// beginAttempts bounds BeginIdempotency's retries when the record it
// collided with disappears (released or expired) before it could be read.
const beginAttempts = 3

// BeginIdempotency claims the key of req. When the key is free (never used,
// released, expired, or running for longer than IdempotencyLease) it stores
// a running record and returns it with created true; a record left unknown
// by the same request (same RequestHash) is taken back as running, with
// its id, and returned with created true too; the caller then handles the request and calls
// CompleteIdempotency or ReleaseIdempotency. Otherwise it returns the
// existing record, running or completed, with created false, and the caller
// compares RequestHash and replays or refuses.
func (q *queries) BeginIdempotency(ctx context.Context, req IdempotencyRequest) (*IdempotencyRecord, bool, error) {
	op := "begin idempotency key"
	if req.Key == "" {
		return nil, false, fmt.Errorf("%s: empty key", op)
	}
	if !storable(req.Service, req.Key, req.Method, req.Path, req.RequestHash) {
		return nil, false, unstorable(op)
	}
	for range beginAttempts {
		now := stamp(q.now())
		db := q.conn(ctx)
		// An expired record no longer protects anything, and one running
		// past its lease was abandoned by a process that died: drop it so
		// the key starts afresh even before ExpireIdempotencyKeys runs.
		err := db.Where("service = ? AND idempotency_key = ? AND method = ? AND path = ? AND (expires_at <= ? OR (status = ? AND created_at <= ?))",
			req.Service, req.Key, req.Method, req.Path, now, string(IdempotencyRunning), now.Add(-IdempotencyLease)).
			Delete(&idempotencyRow{}).Error
		if err != nil {
			return nil, false, translate(err, op)
		}
		row := idempotencyRow{
			ID:             uuid.NewString(),
			Service:        req.Service,
			IdempotencyKey: req.Key,
			Method:         req.Method,
			Path:           req.Path,
			RequestHash:    req.RequestHash,
			Status:         string(IdempotencyRunning),
			CreatedAt:      now,
			ExpiresAt:      now.Add(q.ttl),
		}
		// ON CONFLICT DO NOTHING rather than a failing insert: inside a
		// PostgreSQL transaction a unique violation would abort it.
		res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return nil, false, translate(res.Error, op)
		}
		if res.RowsAffected == 1 {
			return row.domain(), true, nil
		}
		// A retry of a request whose outcome was unknown takes the record
		// back, keeping its id: the request's operation is found by it.
		res = db.Model(&idempotencyRow{}).
			Where("service = ? AND idempotency_key = ? AND method = ? AND path = ? AND status = ? AND request_hash = ?",
				req.Service, req.Key, req.Method, req.Path, string(IdempotencyUnknown), req.RequestHash).
			Updates(map[string]any{"status": string(IdempotencyRunning), "created_at": now})
		if res.Error != nil {
			return nil, false, translate(res.Error, op)
		}
		resumed := res.RowsAffected == 1
		var existing idempotencyRow
		err = db.Where("service = ? AND idempotency_key = ? AND method = ? AND path = ?", req.Service, req.Key, req.Method, req.Path).
			Take(&existing).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			continue
		}
		if err != nil {
			return nil, false, translate(err, op)
		}
		return existing.domain(), resumed, nil
	}
	return nil, false, fmt.Errorf("%s: %w: key keeps changing", op, ErrConflict)
}

// CompleteIdempotency stores the response of the running record with the
// given id. Completing it twice is ErrConflict; an unknown (or expired and
// removed) id is ErrNotFound.
func (q *queries) CompleteIdempotency(ctx context.Context, id string, status int, sealedBody string) error {
	op := "complete idempotency key " + id
	if !validID(id) {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	res := q.conn(ctx).Model(&idempotencyRow{}).
		Where("id = ? AND status = ?", id, string(IdempotencyRunning)).
		Updates(map[string]any{
			"status":          string(IdempotencyCompleted),
			"response_status": status,
			"response_body":   sealedBody,
			"completed_at":    stamp(q.now()),
		})
	if res.Error != nil {
		return translate(res.Error, op)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	return q.notRunning(ctx, op, id)
}

// ReleaseIdempotency forgets the running record with the given id, so that a
// retry with the same key is handled afresh; for requests that failed
// without effect. A completed record is ErrConflict, an unknown id
// ErrNotFound.
func (q *queries) ReleaseIdempotency(ctx context.Context, id string) error {
	op := "release idempotency key " + id
	if !validID(id) {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	res := q.conn(ctx).Where("id = ? AND status = ?", id, string(IdempotencyRunning)).Delete(&idempotencyRow{})
	if res.Error != nil {
		return translate(res.Error, op)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	return q.notRunning(ctx, op, id)
}

// MarkIdempotencyUnknown moves the running record with the given id to
// IdempotencyUnknown: its request's outcome is being verified, and the key
// stays bound to it (see BeginIdempotency).
func (q *queries) MarkIdempotencyUnknown(ctx context.Context, id string) error {
	op := "mark idempotency key " + id + " unknown"
	if !validID(id) {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	res := q.conn(ctx).Model(&idempotencyRow{}).
		Where("id = ? AND status = ?", id, string(IdempotencyRunning)).
		Update("status", string(IdempotencyUnknown))
	if res.Error != nil {
		return translate(res.Error, op)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	return q.notRunning(ctx, op, id)
}

// notRunning explains why the record id was not in the running state.
func (q *queries) notRunning(ctx context.Context, op, id string) error {
	var row idempotencyRow
	if err := q.conn(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return translate(err, op)
	}
	return fmt.Errorf("%s: %w: already %s", op, ErrConflict, row.Status)
}

// ExpireIdempotencyKeys deletes the records whose time is up and returns how
// many it deleted.
func (q *queries) ExpireIdempotencyKeys(ctx context.Context) (int64, error) {
	res := q.conn(ctx).Where("expires_at <= ?", stamp(q.now())).Delete(&idempotencyRow{})
	if res.Error != nil {
		return 0, translate(res.Error, "expire idempotency keys")
	}
	return res.RowsAffected, nil
}
