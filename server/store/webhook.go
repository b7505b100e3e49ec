package store

import (
	"context"
	"fmt"
	"time"
)

// Webhook is a PG event applied to a history (payment_history_webhooks): the
// history before and after it, and the PG's body. Its ID is also the id of
// the event delivered to the client service.
type Webhook struct {
	// ID is a UUID; CreateWebhook generates one when it is empty.
	ID        string
	HistoryID string
	// Previous and Current are the serialised history before and after.
	Previous string
	Current  string
	// Data is the PG's webhook body.
	Data      string
	CreatedAt time.Time
}

// WebhookResponse is one attempt to deliver a Webhook to the client service
// (payment_history_webhook_responses).
type WebhookResponse struct {
	// ID is a UUID; AddWebhookResponse generates one when it is empty.
	ID        string
	WebhookID string
	// Status is the HTTP status of the reply, 0 when no reply arrived; then
	// Body is not stored.
	Status int
	// Body is the start of the reply's body, sealed by the payment service
	// (payment.ReplyAAD); rows written before it sealed hold plain text.
	Body string
	// Error says why the attempt failed at transport level, or is empty.
	Error     string
	CreatedAt time.Time
}

type webhookRow struct {
	ID               string    `gorm:"column:id;primaryKey"`
	PaymentHistoryID string    `gorm:"column:payment_history_id"`
	Previous         string    `gorm:"column:previous"`
	Current          string    `gorm:"column:current"`
	Data             string    `gorm:"column:data"`
	CreatedAt        time.Time `gorm:"column:created_at"`
}

// TableName tells gorm the table.
func (webhookRow) TableName() string { return "payment_history_webhooks" }

func (r *webhookRow) domain() Webhook {
	return Webhook{
		ID:        r.ID,
		HistoryID: r.PaymentHistoryID,
		Previous:  r.Previous,
		Current:   r.Current,
		Data:      r.Data,
		CreatedAt: r.CreatedAt.UTC(),
	}
}

type webhookResponseRow struct {
	ID                      string    `gorm:"column:id;primaryKey"`
	PaymentHistoryWebhookID string    `gorm:"column:payment_history_webhook_id"`
	Status                  *int      `gorm:"column:status"`
	Body                    *string   `gorm:"column:body"`
	Error                   *string   `gorm:"column:error"`
	CreatedAt               time.Time `gorm:"column:created_at"`
}

// TableName tells gorm the table.
func (webhookResponseRow) TableName() string { return "payment_history_webhook_responses" }

func (r *webhookResponseRow) domain() WebhookResponse {
	out := WebhookResponse{ID: r.ID, WebhookID: r.PaymentHistoryWebhookID, CreatedAt: r.CreatedAt.UTC()}
	if r.Status != nil {
		out.Status = *r.Status
	}
	if r.Body != nil {
		out.Body = *r.Body
	}
	if r.Error != nil {
		out.Error = *r.Error
	}
	return out
}

// CreateWebhook stores a webhook event, filling in w.ID and w.CreatedAt when
// they are empty. An unknown history is ErrNotFound.
func (q *queries) CreateWebhook(ctx context.Context, w *Webhook) error {
	id, err := newID(w.ID)
	if err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	if !validID(w.HistoryID) {
		return fmt.Errorf("create webhook: history %q: %w", w.HistoryID, ErrNotFound)
	}
	if !storable(w.Previous, w.Current, w.Data) {
		return unstorable("create webhook")
	}
	row := webhookRow{
		ID:               id,
		PaymentHistoryID: w.HistoryID,
		Previous:         w.Previous,
		Current:          w.Current,
		Data:             w.Data,
		CreatedAt:        q.stampOrNow(w.CreatedAt),
	}
	if err := q.conn(ctx).Create(&row).Error; err != nil {
		return translate(err, "create webhook")
	}
	w.ID, w.CreatedAt = row.ID, row.CreatedAt
	return nil
}

// RecordWebhook stores the webhook event w as CreateWebhook does and,
// when e is not nil, the audit event e of the same change as
// AddAuditEvent does (filling in their ids and times): on PostgreSQL in
// one statement (recordWebhook), on SQLite the two in turn.
func (tx *Tx) RecordWebhook(ctx context.Context, w *Webhook, e *AuditEvent) error {
	const op = "create webhook"
	id, err := newID(w.ID)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if !validID(w.HistoryID) {
		return fmt.Errorf("%s: history %q: %w", op, w.HistoryID, ErrNotFound)
	}
	if !storable(w.Previous, w.Current, w.Data) {
		return unstorable(op)
	}
	created := tx.stampOrNow(w.CreatedAt)
	args := []any{id, w.HistoryID, w.Previous, w.Current, w.Data, created}
	if e == nil {
		if _, err := tx.execRaw(ctx, op, tx.stmts.insertWebhook, args...); err != nil {
			return err
		}
		w.ID, w.CreatedAt = id, created
		return nil
	}
	row, err := tx.auditRowOf("add audit event", e)
	if err != nil {
		return err
	}
	audit := []any{row.ID, row.HistoryID, row.Service, row.Event, row.VendorCode, row.StoreID, row.RequestID, row.Data, row.CreatedAt}
	if query := tx.stmts.recordWebhook; query != "" {
		if _, err := tx.execRaw(ctx, op, query, append(audit, args...)...); err != nil {
			return err
		}
	} else {
		if _, err := tx.execRaw(ctx, "add audit event", tx.stmts.insertAudit, audit...); err != nil {
			return err
		}
		if _, err := tx.execRaw(ctx, op, tx.stmts.insertWebhook, args...); err != nil {
			return err
		}
	}
	w.ID, w.CreatedAt = id, created
	e.ID, e.CreatedAt = row.ID, row.CreatedAt
	return nil
}

// Webhook returns the webhook event with the given id.
func (q *queries) Webhook(ctx context.Context, id string) (*Webhook, error) {
	op := "find webhook " + id
	if !validID(id) {
		return nil, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	var row webhookRow
	if err := q.conn(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, translate(err, op)
	}
	w := row.domain()
	return &w, nil
}

// HistoryWebhooks returns the webhook events of a history, oldest first.
func (q *queries) HistoryWebhooks(ctx context.Context, historyID string) ([]Webhook, error) {
	op := "list webhooks of history " + historyID
	if !validID(historyID) {
		return nil, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	var rows []webhookRow
	err := q.conn(ctx).Where("payment_history_id = ?", historyID).Order("created_at, id").Find(&rows).Error
	if err != nil {
		return nil, translate(err, op)
	}
	out := make([]Webhook, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

// AddWebhookResponse appends a delivery attempt, filling in r.ID and
// r.CreatedAt when they are empty. An unknown webhook is ErrNotFound.
func (q *queries) AddWebhookResponse(ctx context.Context, r *WebhookResponse) error {
	id, err := newID(r.ID)
	if err != nil {
		return fmt.Errorf("add webhook response: %w", err)
	}
	if !validID(r.WebhookID) {
		return fmt.Errorf("add webhook response: webhook %q: %w", r.WebhookID, ErrNotFound)
	}
	if !storable(r.Body, r.Error) {
		return unstorable("add webhook response")
	}
	row := webhookResponseRow{
		ID:                      id,
		PaymentHistoryWebhookID: r.WebhookID,
		CreatedAt:               q.stampOrNow(r.CreatedAt),
	}
	if r.Status != 0 {
		row.Status, row.Body = &r.Status, &r.Body
	}
	if r.Error != "" {
		row.Error = &r.Error
	}
	if err := q.conn(ctx).Create(&row).Error; err != nil {
		return translate(err, "add webhook response")
	}
	r.ID, r.CreatedAt = row.ID, row.CreatedAt
	if r.Status == 0 {
		r.Body = ""
	}
	return nil
}

// WebhookResponses returns the delivery attempts of a webhook, oldest
// first.
func (q *queries) WebhookResponses(ctx context.Context, webhookID string) ([]WebhookResponse, error) {
	op := "list responses of webhook " + webhookID
	if !validID(webhookID) {
		return nil, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	var rows []webhookResponseRow
	err := q.conn(ctx).Where("payment_history_webhook_id = ?", webhookID).Order("created_at, id").Find(&rows).Error
	if err != nil {
		return nil, translate(err, op)
	}
	out := make([]WebhookResponse, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}
