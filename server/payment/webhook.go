package payment

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/gateway/iamport"
	"github.com/paymentctl/paymentctl/server/gateway/toss"
	"github.com/paymentctl/paymentctl/server/store"
	"github.com/paymentctl/paymentctl/server/webhook"
)

// ReceiveWebhook stores a PG webhook as a job, in one transaction, and
// returns once it is durable: only then may the PG be told it arrived.
// The body is checked for shape (so garbage is refused with 400 and the
// PG does not retry it forever) but never trusted otherwise.
func (s *Service) ReceiveWebhook(ctx context.Context, vendor sdk.VendorCode, body []byte) error {
	if err := vendorOf(vendor); err != nil {
		return err
	}
	e, err := webhookUID(vendor, body)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	sealed, err := s.keys.Webhook.Seal(body, []byte(vendor))
	if err != nil {
		return err
	}
	ev := webhook.Inbound{Vendor: string(vendor), SealedBody: sealed, ReceivedAt: s.now().UTC()}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		return s.queue.EnqueueInboundTx(ctx, tx.SQLTx(), ev)
	})
	if err == nil {
		s.log.InfoContext(ctx, "pg webhook received", e.attrs(vendor)...)
	}
	return err
}

// attrs describe the webhook for logs: its vendor and what it names.
func (e event) attrs(vendor sdk.VendorCode) []any {
	attrs := []any{"vendor", vendor}
	if e.uid != "" {
		attrs = append(attrs, "uid", e.uid)
	}
	if e.orderID != "" {
		attrs = append(attrs, "order", e.orderID)
	}
	return attrs
}

// event is what a PG webhook names: the payment to re-fetch, or nothing to
// do.
type event struct {
	uid string // imp_uid or paymentKey; "" when only orderID is known
	// orderID and secret come from a Toss DEPOSIT_CALLBACK.
	orderID string
	secret  string
	ignore  bool
}

// webhookUID reads which payment a PG webhook is about.
func webhookUID(vendor sdk.VendorCode, body []byte) (event, error) {
	switch vendor {
	case sdk.VendorIamport:
		var w iamport.Webhook
		if err := json.Unmarshal(body, &w); err != nil {
			return event{}, fmt.Errorf("decode iamport webhook: %v", err)
		}
		if w.ImpUID == "" {
			return event{}, errors.New("iamport webhook without imp_uid")
		}
		// As the original: a virtual account issued or a failed attempt
		// changes nothing a service has registered.
		ignore := w.Status == iamport.StatusReady || w.Status == iamport.StatusFailed
		return event{uid: w.ImpUID, ignore: ignore}, nil
	case sdk.VendorToss:
		ev, err := toss.ParseWebhook(body)
		if errors.Is(err, toss.ErrUnknownEvent) {
			return event{ignore: true}, nil
		}
		if err != nil {
			return event{}, err
		}
		if ev.StatusChanged != nil {
			d := ev.StatusChanged.Data
			return event{uid: d.PaymentKey, ignore: d.Status == toss.StatusWaitingForDeposit}, nil
		}
		d := ev.Deposit
		if d.OrderID == "" || d.Secret == "" {
			return event{}, errors.New("toss deposit callback without orderId or secret")
		}
		return event{orderID: d.OrderID, secret: d.Secret, ignore: d.Status == toss.StatusWaitingForDeposit}, nil
	}
	return event{}, fmt.Errorf("unknown vendor %q", vendor)
}

// Process applies one stored PG webhook (webhook.Processor): re-fetch the
// payment from the PG, update the history under its row lock, and, when
// the state changed, record the event and enqueue its delivery in the
// same transaction. A webhook for a payment not registered yet is kept
// and replayed at registration.
func (s *Service) Process(ctx context.Context, ev webhook.Inbound) error {
	vendor := sdk.VendorCode(ev.Vendor)
	body, err := s.keys.Webhook.Open(ev.SealedBody, []byte(ev.Vendor))
	if err != nil {
		return fmt.Errorf("%w: open webhook body: %v", webhook.ErrPermanent, err)
	}
	e, err := webhookUID(vendor, body)
	if err != nil {
		return fmt.Errorf("%w: %v", webhook.ErrPermanent, err)
	}
	if e.ignore {
		s.log.InfoContext(ctx, "pg webhook ignored", append(e.attrs(vendor), "reason", "no change a service sees")...)
		return nil
	}
	uid := e.uid
	if uid == "" {
		// A Toss deposit callback names its order; its secret must match.
		p, err := s.toss.GetPaymentByOrderID(ctx, e.orderID)
		if err != nil {
			return pgFetchError(err)
		}
		if subtle.ConstantTimeCompare([]byte(e.secret), []byte(p.Secret)) != 1 {
			return fmt.Errorf("%w: deposit callback secret does not match payment %s", webhook.ErrPermanent, p.PaymentKey)
		}
		uid = p.PaymentKey
	}
	h, err := s.store.HistoryByVendor(ctx, string(vendor), uid)
	if isNotFound(err) {
		// Keep it for the registration, unless the PG does not know the
		// payment either (a forged or mistaken id).
		if _, err := s.fetch(ctx, vendor, uid); err != nil {
			return err
		}
		registered := false
		err := s.store.InTx(ctx, func(tx *store.Tx) error {
			// Under the lock a registration takes too: either it commits
			// first and the history is found here, or it replays this.
			if err := tx.LockVendorPayment(ctx, string(vendor), uid); err != nil {
				return err
			}
			_, err := tx.HistoryByVendor(ctx, string(vendor), uid)
			if err == nil {
				registered = true
				return nil
			}
			if !isNotFound(err) {
				return err
			}
			return tx.AddPendingWebhook(ctx, &store.PendingWebhook{
				VendorCode: string(vendor), VendorUID: uid, Data: ev.SealedBody, ReceivedAt: ev.ReceivedAt,
			})
		})
		if err != nil || !registered {
			return err
		}
		return s.Process(ctx, ev) // registered meanwhile: apply it now
	}
	if err != nil {
		return err
	}
	change, err := s.refresh(ctx, h, body, false)
	if err == nil {
		s.log.InfoContext(ctx, "pg webhook applied", append(e.attrs(vendor), "history", h.ID, "changed", change != nil)...)
	}
	return err
}

// refresh re-fetches a registered payment from its PG and applies it under
// the history's lock, as a PG webhook does (raw is its body; nil when the
// reconciler found the change): the {previous, current} event is recorded
// and its delivery enqueued only when something a service sees changed,
// and operations of unknown outcome on the payment are settled by what the
// PG says. It reports the change, or with dryRun, what would change,
// writing nothing.
//
// The fetch happens before the lock, so that no database lock waits on the
// PG (on SQLite the lock is the whole database's). Every write of a
// history reseals its data, so a history that changed between the read
// and the lock shows it; the fetch may then be older than what was
// applied, and is made again under the lock: a slow fetch can never
// overwrite a newer state.
func (s *Service) refresh(ctx context.Context, h *store.History, raw []byte, dryRun bool) (*Change, error) {
	vendor := vendorOfHistory(h)
	fetched, err := s.fetch(ctx, vendor, h.Vendor.UID)
	if err != nil {
		return nil, err
	}
	var change *Change
	err = s.store.WithHistoryLocked(ctx, h.ID, func(tx *store.Tx, locked *store.History) error {
		st := fetched
		if changedSince(h, locked) {
			var err error
			if st, err = s.fetch(ctx, vendor, h.Vendor.UID); err != nil {
				return err
			}
		}
		previous, err := s.historyDTO(locked)
		if err != nil {
			return err
		}
		current, err := s.applyAndRecord(ctx, tx, locked, st, raw)
		if err != nil {
			return err
		}
		if !sameState(previous, current) {
			change = &Change{HistoryID: h.ID, Previous: previous, Current: current}
		}
		if err := s.settleOps(ctx, tx, locked, st); err != nil {
			return err
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	return change, err
}

// fetch re-reads a payment from its PG: a webhook body is never trusted.
func (s *Service) fetch(ctx context.Context, vendor sdk.VendorCode, uid string) (pgState, error) {
	switch vendor {
	case sdk.VendorIamport:
		p, err := s.iamport.Payment(ctx, uid)
		if err != nil {
			return pgState{}, pgFetchError(err)
		}
		return iamportState(p)
	case sdk.VendorToss:
		p, err := s.toss.GetPayment(ctx, uid)
		if err != nil {
			return pgState{}, pgFetchError(err)
		}
		return tossState(p)
	}
	return pgState{}, fmt.Errorf("%w: unknown vendor %q", webhook.ErrPermanent, vendor)
}

// pgFetchError marks a PG's "no such payment" as permanent: a forged
// webhook naming an unknown id must not be retried for days.
func pgFetchError(err error) error {
	var ie *iamport.Error
	var te *toss.Error
	if errors.As(err, &ie) && ie.Status == 404 || errors.As(err, &te) && te.Status == 404 {
		return fmt.Errorf("%w: %v", webhook.ErrPermanent, err)
	}
	return err
}

// sameState reports whether a re-fetch changed nothing a service sees.
func sameState(a, b *sdk.History) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// recordEvent stores a {previous, current} snapshot, sealed, and enqueues
// its delivery to the service, in tx. raw is the PG's webhook body, nil for
// changes paymentctl made itself (API cancels).
func (s *Service) recordEvent(ctx context.Context, tx *store.Tx, h *store.History, previous, current *sdk.History, raw []byte) error {
	id := uuid.NewString()
	prev, err := json.Marshal(previous)
	if err != nil {
		return err
	}
	cur, err := json.Marshal(current)
	if err != nil {
		return err
	}
	if raw == nil {
		raw = []byte("null")
	}
	w := &store.Webhook{ID: id, HistoryID: h.ID}
	if w.Previous, err = s.keys.Webhook.Seal(prev, []byte(id)); err != nil {
		return err
	}
	if w.Current, err = s.keys.Webhook.Seal(cur, []byte(id)); err != nil {
		return err
	}
	if w.Data, err = s.keys.Webhook.Seal(raw, []byte(id)); err != nil {
		return err
	}
	if err := tx.CreateWebhook(ctx, w); err != nil {
		return err
	}
	if h.WebhookURL == "" || s.queue == nil {
		return nil
	}
	return s.queue.EnqueueDeliveryTx(ctx, tx.SQLTx(), id)
}

// pendingSkew is how much older than a registration's PG fetch a kept
// webhook must be to count as covered by it: clock skew between the
// instances that stamped the two times, with a wide margin.
const pendingSkew = 2 * time.Second

// replayPending deals with the webhooks that arrived before this payment
// was registered, in the registration's transaction. One received before
// the registration fetched the payment (fetchedAt) is covered by that
// fetch: the PG changed the payment before it sent the webhook, so the
// state just stored already holds the change, and the webhook is only
// marked applied. Later ones are enqueued, to re-fetch and forward as any
// webhook.
func (s *Service) replayPending(ctx context.Context, tx *store.Tx, vendor, uid string, fetchedAt time.Time) error {
	pending, err := tx.PendingWebhooks(ctx, vendor, uid)
	if err != nil || len(pending) == 0 || s.queue == nil {
		return err
	}
	for _, p := range pending {
		if p.AppliedAt != nil {
			continue
		}
		if !p.ReceivedAt.Before(fetchedAt.Add(-pendingSkew)) {
			ev := webhook.Inbound{Vendor: vendor, SealedBody: p.Data, ReceivedAt: p.ReceivedAt}
			if err := s.queue.EnqueueInboundTx(ctx, tx.SQLTx(), ev); err != nil {
				return err
			}
		}
		if err := tx.MarkPendingWebhookApplied(ctx, p.ID); err != nil {
			return err
		}
	}
	return nil
}

// Delivery returns the URL and encrypted body of a stored event
// (webhook.Payloads).
func (s *Service) Delivery(ctx context.Context, webhookID string) (string, []byte, error) {
	w, err := s.store.Webhook(ctx, webhookID)
	if isNotFound(err) {
		return "", nil, fmt.Errorf("%w: %v", webhook.ErrPermanent, err)
	}
	if err != nil {
		return "", nil, err
	}
	h, err := s.store.History(ctx, w.HistoryID)
	if err != nil {
		return "", nil, err
	}
	var ev sdk.WebhookHistory
	ev.ID = w.ID
	ev.Source = sdk.Source{Schema: h.Source.Schema, Table: h.Source.Table, ID: h.Source.ID}
	for _, part := range []struct {
		sealed string
		into   *sdk.History
	}{{w.Previous, &ev.Previous}, {w.Current, &ev.Current}} {
		plain, err := s.keys.Webhook.Open(part.sealed, []byte(w.ID))
		if err != nil {
			return "", nil, fmt.Errorf("%w: open webhook %s: %v", webhook.ErrPermanent, w.ID, err)
		}
		if err := json.Unmarshal(plain, part.into); err != nil {
			return "", nil, fmt.Errorf("%w: decode webhook %s: %v", webhook.ErrPermanent, w.ID, err)
		}
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return "", nil, err
	}
	return h.WebhookURL, s.wire.Encrypt(body), nil
}

// RecordAttempt stores one delivery attempt (webhook.Payloads). The reply's
// body is sealed like the event itself: a service may echo what it was
// sent.
func (s *Service) RecordAttempt(ctx context.Context, webhookID string, status int, body, errText string, at time.Time) error {
	if body != "" {
		sealed, err := s.keys.Webhook.Seal([]byte(body), ReplyAAD(webhookID))
		if err != nil {
			return err
		}
		body = sealed
	}
	return s.store.AddWebhookResponse(ctx, &store.WebhookResponse{
		WebhookID: webhookID, Status: status, Body: body, Error: errText, CreatedAt: at,
	})
}

// ReplyAAD is the additional data a delivery reply's body is sealed with
// (Keys.Webhook): bound to its event, and distinct from the event's own
// sealed fields, which use the bare id.
func ReplyAAD(webhookID string) []byte { return []byte("reply:" + webhookID) }
