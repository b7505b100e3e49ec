package payment

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/store"
	"github.com/paymentctl/paymentctl/server/webhook"
)

// ReceiveWebhook stores a PG webhook as a job, in one transaction, and
// returns once it is durable: only then may the PG be told it arrived.
// The body is checked for shape (so garbage is refused with 400 and the
// PG does not retry it forever) but never trusted otherwise. A webhook
// that changes nothing (see webhookUID) is not stored. The job is keyed by
// the payment the body names, so that webhooks about one payment coalesce
// (webhook.Queue.EnqueueInboundTx): a burst of them, genuine or forged,
// costs one PG re-fetch, and a duplicate that is skipped is still answered
// 2xx since the queued job covers it.
func (s *Service) ReceiveWebhook(ctx context.Context, vendor sdk.VendorCode, body []byte) error {
	if err := vendorOf(vendor); err != nil {
		return err
	}
	e, err := webhookUID(vendor, body)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if e.ignore {
		// Process would do nothing with it: it is not stored, and this is
		// its outcome's line (a forged one costs no more than the access
		// line every request gets).
		s.log.InfoContext(ctx, "pg webhook ignored", append(e.attrs(vendor), "reason", "no change a service sees")...)
		return nil
	}
	sealed, err := s.keys.Webhook.Seal(body, []byte(vendor))
	if err != nil {
		return err
	}
	ev := webhook.Inbound{Vendor: string(vendor), SealedBody: sealed, ReceivedAt: s.now().UTC(), Key: jobKey(string(vendor), e.pendingUID())}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		return s.queue.EnqueueInboundTx(ctx, tx.SQLTx(), ev)
	})
	if err == nil {
		// Debug, not info: anyone can post webhooks, and a flood of forged
		// ones must not flood the log. Each one's outcome is logged at info
		// when it is applied or ignored (above, or by Process for a job an
		// earlier version stored), and kept ones in a rate-limited summary.
		s.log.DebugContext(ctx, "pg webhook received", e.attrs(vendor)...)
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

// jobKey is the coalescing key of the inbound jobs about one payment
// (webhook.Inbound.Key).
func jobKey(vendor, pendingUID string) string { return vendor + ":" + pendingUID }

// event is what a PG webhook names: the payment to re-fetch, or nothing to
// do.
type event struct {
	uid string // imp_uid, paymentKey or paymentId; "" when only orderID is known
	// orderID and secret come from a Toss DEPOSIT_CALLBACK.
	orderID string
	secret  string
	ignore  bool
}

// orderPrefix marks a pending webhook kept by its order (a Toss deposit
// callback) rather than by the PG's payment id.
const orderPrefix = "order:"

// pendingUID is what the webhook is kept under while its payment is not
// registered (payment_pending_webhooks.vendor_uid), and what its jobs are
// keyed by: the PG's payment id, or the order for a deposit callback.
func (e event) pendingUID() string {
	if e.uid != "" {
		return e.uid
	}
	return orderPrefix + e.orderID
}

// webhookUID reads which payment a PG webhook is about.
func webhookUID(vendor sdk.VendorCode, body []byte) (event, error) {
	switch vendor {
	case sdk.VendorIamport:
		var w iamport.Webhook
		if err := json.Unmarshal(body, &w); err != nil {
			return event{}, decodeError("decode iamport webhook", err)
		}
		if w.ImpUID == "" {
			return event{}, errors.New("iamport webhook without imp_uid")
		}
		if err := checkIamportWebhook(w); err != nil {
			return event{}, err
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
			return event{}, decodeError("decode webhook", err)
		}
		if err := checkTossEvent(ev); err != nil {
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
	case sdk.VendorPortOne:
		return portoneEvent(body)
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
		// One for an order with no registered payment is kept by its order,
		// like any webhook for an unregistered payment (below).
		if kept, err := s.keepDepositCallback(ctx, vendor, e, ev); err != nil || kept {
			return err
		}
		if uid, err = s.depositPayment(ctx, vendor, e); err != nil {
			return err
		}
	}
	h, err := s.store.HistoryByVendor(ctx, string(vendor), uid)
	if isNotFound(err) {
		// Kept for the registration without asking the PG whether the
		// payment exists: the registration's own fetch covers it, and a
		// forged id costs one row until it expires.
		kept, err := s.keepPending(ctx, vendor, uid, ev, func(tx *store.Tx) (bool, error) {
			_, err := tx.HistoryByVendor(ctx, string(vendor), uid)
			if isNotFound(err) {
				return false, nil
			}
			return err == nil, err
		})
		if err != nil || kept {
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
	fetched, err := s.fetch(ctx, h.Vendor)
	if err != nil {
		return nil, err
	}
	var change *Change
	var claims []webhook.Claim
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		claims = claims[:0]
		locked, err := lockAsRead(ctx, tx, h)
		if err != nil {
			return err
		}
		st := fetched
		if changedSince(h, locked) {
			if st, err = s.fetch(ctx, h.Vendor); err != nil {
				return err
			}
		}
		previous, err := s.historyDTO(locked)
		if err != nil {
			return err
		}
		current, err := s.applyAndRecord(ctx, tx, locked, st, raw, auditNote{event: AuditReconciled}, &claims)
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
		return change, nil
	}
	if err == nil {
		// Committed: the event goes out now, not when a worker fetches
		// its job.
		for _, c := range claims {
			s.queue.DeliverClaimed(c)
		}
	}
	return change, err
}

// lockAsRead locks history h, read before with its cancels (History,
// HistoryByVendor), and returns it as now stored. Every write of a
// history reseals its data, and cancels are added only in the
// transaction of such a write (apply, the registration's insert), so
// when the locked row's data is h's, nothing was written since h was
// read and h's cancels are still the history's: the lock is one
// statement instead of two (the row, then its cancels).
func lockAsRead(ctx context.Context, tx *store.Tx, h *store.History) (*store.History, error) {
	locked, err := tx.LockHistoryRow(ctx, h.ID)
	if err != nil {
		return nil, err
	}
	if locked.Data == h.Data {
		locked.Cancels = slices.Clone(h.Cancels)
		return locked, nil
	}
	if locked.Cancels, err = tx.Cancels(ctx, h.ID); err != nil {
		return nil, err
	}
	return locked, nil
}

// fetch re-reads a payment from its PG, with the credentials of the
// record's store: a webhook body is never trusted, and which store a
// webhook came from is the registered record's, whatever the body says.
func (s *Service) fetch(ctx context.Context, v store.Vendor) (pgState, error) {
	switch sdk.VendorCode(v.Code) {
	case sdk.VendorIamport:
		pg, err := s.iamportOf(v)
		if err != nil {
			return pgState{}, unservedStore(err)
		}
		p, err := pg.Payment(ctx, v.UID)
		if err != nil {
			return pgState{}, pgFetchError(err)
		}
		return iamportState(p)
	case sdk.VendorToss:
		pg, err := s.tossOf(v)
		if err != nil {
			return pgState{}, unservedStore(err)
		}
		p, err := pg.GetPayment(ctx, v.UID)
		if err != nil {
			return pgState{}, pgFetchError(err)
		}
		return tossState(p)
	case sdk.VendorPortOne:
		api, err := s.portOneOf(v)
		if err != nil {
			return pgState{}, unservedStore(err)
		}
		p, err := api.GetPayment(ctx, v.UID)
		if err != nil {
			return pgState{}, pgFetchError(err)
		}
		return portoneState(p)
	}
	return pgState{}, fmt.Errorf("%w: unknown vendor %q", webhook.ErrPermanent, v.Code)
}

// unservedStore marks a record whose store cannot be resolved as
// permanent for the job queue: the configuration does not change while
// the process runs, so a webhook job must not retry it for days. The API
// flows refuse such a record (checkStore) before they fetch.
func unservedStore(err error) error { return fmt.Errorf("%w: %w", webhook.ErrPermanent, err) }

// depositPayment finds the payment a Toss deposit callback is about: the
// callback names only its order, so the order's payment is fetched with
// the credentials of the store it was registered under (one store, but an
// order id is not unique across source tables), and the callback's secret
// must match that payment's.
func (s *Service) depositPayment(ctx context.Context, vendor sdk.VendorCode, e event) (string, error) {
	stores, err := s.store.StoresOfOrder(ctx, string(vendor), e.orderID)
	if err != nil {
		return "", err
	}
	var last error
	for _, id := range stores {
		pg, err := s.tossOf(store.Vendor{Code: string(vendor), StoreID: id})
		if err != nil {
			// The store's records cannot be served (a store dropped from
			// the configuration).
			return "", unservedStore(err)
		}
		p, err := pg.GetPaymentByOrderID(ctx, e.orderID)
		if err != nil {
			last = pgFetchError(err)
			continue
		}
		if subtle.ConstantTimeCompare([]byte(e.secret), []byte(p.Secret)) == 1 {
			return p.PaymentKey, nil
		}
		last = fmt.Errorf("%w: deposit callback secret does not match payment %s", webhook.ErrPermanent, p.PaymentKey)
	}
	if last == nil {
		last = fmt.Errorf("%w: no payment registered for the deposit callback's order", webhook.ErrPermanent)
	}
	return "", last
}

// pgFetchError marks a PG's "no such payment" as permanent: a forged
// webhook naming an unknown id must not be retried for days.
func pgFetchError(err error) error {
	var ie *iamport.Error
	var te *toss.Error
	var pe *portone.Error
	if errors.As(err, &ie) && ie.Status == 404 || errors.As(err, &te) && te.Status == 404 || errors.As(err, &pe) && pe.Status == 404 {
		return fmt.Errorf("%w: %v", webhook.ErrPermanent, err)
	}
	return err
}

// keepPending keeps a webhook for a payment not registered yet, under
// pendingUID (see event.pendingUID), for replayPending. It never asks the
// PG: a forged or mistaken id costs one row (one per id, however many
// webhooks name it) until store.ExpirePendingWebhooks deletes it. It runs
// under the lock a registration takes too, and registered says, under
// that lock, whether the payment was registered after all: then nothing is
// kept and kept is false, for the caller to apply the webhook now.
func (s *Service) keepPending(ctx context.Context, vendor sdk.VendorCode, pendingUID string, ev webhook.Inbound, registered func(tx *store.Tx) (bool, error)) (kept bool, err error) {
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		// Either the registration commits first and registered sees it,
		// or it replays what is kept here.
		if err := tx.LockVendorPayment(ctx, string(vendor), pendingUID); err != nil {
			return err
		}
		found, err := registered(tx)
		if err != nil || found {
			return err
		}
		kept = true
		return tx.KeepPendingWebhook(ctx, &store.PendingWebhook{
			VendorCode: string(vendor), VendorUID: pendingUID, Data: ev.SealedBody, ReceivedAt: keptAt(ev, s.now()),
		})
	})
	if err != nil {
		return false, err
	}
	if kept {
		s.kept.note(s.log, s.now())
	}
	return kept, nil
}

// keptAt is the received time a kept webhook is stored with: the later of
// its own and now. Webhooks about the same payment that arrived while this
// job was queued were coalesced onto it (webhook.Queue.EnqueueInboundTx),
// so they all arrived before now; replayPending compares this time with
// the registration's PG fetch, and must not take the latest of them for
// covered when only the first was.
func keptAt(ev webhook.Inbound, now time.Time) time.Time {
	if ev.ReceivedAt.After(now) {
		return ev.ReceivedAt
	}
	return now
}

// keepDepositCallback keeps a Toss deposit callback whose order no
// registered payment was made for (keepPending), and reports whether it
// did. A virtual account is issued by the registration's confirm, so a
// genuine callback before the registration is all but impossible; a forged
// one must not cost a PG call.
func (s *Service) keepDepositCallback(ctx context.Context, vendor sdk.VendorCode, e event, ev webhook.Inbound) (bool, error) {
	if found, err := s.store.HasHistoryForOrder(ctx, string(vendor), e.orderID); err != nil || found {
		return false, err
	}
	return s.keepPending(ctx, vendor, e.pendingUID(), ev, func(tx *store.Tx) (bool, error) {
		return tx.HasHistoryForOrder(ctx, string(vendor), e.orderID)
	})
}

// keptSummaryEvery is how often, at most, keptLog reports.
const keptSummaryEvery = time.Minute

// keptLog counts the webhooks kept for unregistered payments and reports
// them at INFO at most once a minute: a flood of forged webhooks must not
// write a line each. Its zero value is ready to use.
type keptLog struct {
	mu   sync.Mutex
	n    int
	last time.Time // when it last reported; zero before the first report
}

// note counts one kept webhook and reports the count when the last report
// is a minute old.
func (k *keptLog) note(log *slog.Logger, now time.Time) {
	k.mu.Lock()
	k.n++
	n, since := k.n, k.last
	due := since.IsZero() || now.Sub(since) >= keptSummaryEvery
	if due {
		k.n, k.last = 0, now
	}
	k.mu.Unlock()
	if !due {
		return
	}
	if since.IsZero() {
		log.Info("kept webhooks for unregistered payments", "count", n)
		return
	}
	log.Info("kept webhooks for unregistered payments", "count", n, "since", since)
}

// sameState reports whether a re-fetch changed nothing a service sees.
func sameState(a, b *sdk.History) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// recordEvent stores a {previous, current} snapshot, sealed, with audit,
// the audit event of the change (nil: none), and enqueues its delivery to
// the service, in tx. raw is the PG's webhook body, nil for changes
// paymentctl made itself (API cancels). With claims set, the delivery is
// claimed for a first attempt right after the commit (applyAndRecord).
func (s *Service) recordEvent(ctx context.Context, tx *store.Tx, h *store.History, previous, current *sdk.History, raw []byte, audit *store.AuditEvent, claims *[]webhook.Claim) error {
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
	if err := tx.RecordWebhook(ctx, w, audit); err != nil {
		return err
	}
	if h.WebhookURL == "" || s.queue == nil {
		return nil
	}
	if claims == nil {
		return s.queue.EnqueueDeliveryTx(ctx, tx.SQLTx(), id)
	}
	c, err := s.queue.ClaimDeliveryTx(ctx, tx.SQLTx(), id)
	if err != nil {
		return err
	}
	// The first attempt sends what was just stored instead of loading it
	// again; if it cannot be built here, the attempt loads it.
	if msg, err := s.message(h, sdk.WebhookHistory{ID: id, Previous: *previous, Current: *current}); err == nil {
		c = c.WithMessage(msg)
	}
	*claims = append(*claims, c)
	return nil
}

// pendingSkew is how much older than a registration's PG fetch a kept
// webhook must be to count as covered by it: clock skew between the
// instances that stamped the two times, with a wide margin.
const pendingSkew = 2 * time.Second

// replayPending deals with the webhook that arrived before this payment
// was registered, in the registration's transaction (one per payment is
// kept, the latest: see keepPending). One received before the registration
// fetched the payment (fetchedAt) is covered by that fetch: the PG changed
// the payment before it sent the webhook, so the state just stored already
// holds the change, and the webhook is only marked applied. A later one is
// enqueued, to re-fetch and forward as any webhook. Kept webhooks were
// never checked with the PG, so a forged one is harmless here: at worst
// its job re-fetches a state that is already stored. For a Toss payment,
// a deposit callback kept by its order is replayed too.
//
// applied are the payment's kept webhooks the registration applied with
// its insert (store.Tx.RegisterHistory); a Toss order's are applied here.
func (s *Service) replayPending(ctx context.Context, tx *store.Tx, vendor, uid string, fetchedAt time.Time, applied []store.PendingWebhook) error {
	if s.queue == nil {
		return nil
	}
	if err := s.replayApplied(ctx, tx, vendor, uid, fetchedAt, applied); err != nil {
		return err
	}
	if vendor != string(sdk.VendorToss) {
		return nil
	}
	h, err := tx.HistoryByVendor(ctx, vendor, uid)
	if err != nil {
		return err
	}
	order := orderPrefix + h.Source.ID
	// The lock keepDepositCallback takes: a callback is either seen
	// here or sees this history.
	if err := tx.LockVendorPayment(ctx, vendor, order); err != nil {
		return err
	}
	pending, err := tx.ApplyPendingWebhooks(ctx, vendor, order)
	if err != nil {
		return err
	}
	return s.replayApplied(ctx, tx, vendor, order, fetchedAt, pending)
}

// replayApplied enqueues the applied kept webhooks of uid that the
// registration's fetch does not cover. Every kept webhook is applied by
// the registration: covered by its fetch, or replayed.
func (s *Service) replayApplied(ctx context.Context, tx *store.Tx, vendor, uid string, fetchedAt time.Time, applied []store.PendingWebhook) error {
	for _, p := range applied {
		if !p.ReceivedAt.Before(fetchedAt.Add(-pendingSkew)) {
			ev := webhook.Inbound{Vendor: vendor, SealedBody: p.Data, ReceivedAt: p.ReceivedAt, Key: jobKey(vendor, uid)}
			if err := s.queue.EnqueueInboundTx(ctx, tx.SQLTx(), ev); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delivery returns the URL and body of a stored event, encrypted and to
// be signed with the keys of the service that owns its payment, as they
// are configured now (webhook.Payloads).
func (s *Service) Delivery(ctx context.Context, webhookID string) (webhook.Message, error) {
	w, err := s.store.Webhook(ctx, webhookID)
	if isNotFound(err) {
		return webhook.Message{}, fmt.Errorf("%w: %v", webhook.ErrPermanent, err)
	}
	if err != nil {
		return webhook.Message{}, err
	}
	h, err := s.store.History(ctx, w.HistoryID)
	if err != nil {
		return webhook.Message{}, err
	}
	ev := sdk.WebhookHistory{ID: w.ID}
	for _, part := range []struct {
		sealed string
		into   *sdk.History
	}{{w.Previous, &ev.Previous}, {w.Current, &ev.Current}} {
		plain, err := s.keys.Webhook.Open(part.sealed, []byte(w.ID))
		if err != nil {
			return webhook.Message{}, fmt.Errorf("%w: open webhook %s: %v", webhook.ErrPermanent, w.ID, err)
		}
		if err := json.Unmarshal(plain, part.into); err != nil {
			return webhook.Message{}, fmt.Errorf("%w: decode webhook %s: %v", webhook.ErrPermanent, w.ID, err)
		}
	}
	return s.message(h, ev)
}

// message is the delivery of event ev of history h: its body, with ev's
// Source set from h, encrypted with the keys of the service that owns h,
// as they are configured now.
func (s *Service) message(h *store.History, ev sdk.WebhookHistory) (webhook.Message, error) {
	keys, err := s.keysOf(h.Source.Service)
	if err != nil {
		return webhook.Message{}, err
	}
	ev.Source = sdk.Source{Schema: h.Source.Schema, Table: h.Source.Table, ID: h.Source.ID}
	body, err := json.Marshal(ev)
	if err != nil {
		return webhook.Message{}, err
	}
	return webhook.Message{URL: h.WebhookURL, Body: keys.Wire.Encrypt(body), Secret: keys.WebhookSecret}, nil
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
