package payment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/paymentctl/paymentctl/server/seal"
	"github.com/paymentctl/paymentctl/server/store"
	"github.com/paymentctl/paymentctl/server/webhook"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// Errors the HTTP layer maps to statuses. store.ErrNotFound (404) and
// store.ErrConflict (409) pass through as they are; PG errors
// (*iamport.Error, *toss.Error, *portone.Error) carry their own status.
var (
	// ErrInvalid marks a request the service refuses as malformed (400).
	ErrInvalid = errors.New("invalid request")
	// ErrWrongPassword means the record password does not match (403).
	ErrWrongPassword = errors.New("wrong password")
	// ErrRefused means the payment cannot be accepted or changed as asked
	// (422); the error wraps the reason too: ErrAmountMismatch,
	// ErrOrderMismatch, ErrNotPaid, ErrRefundExceedsBalance or
	// ErrNotIssued.
	ErrRefused = errors.New("refused")
)

// The reasons of a refusal. Every error wrapping one of them wraps
// ErrRefused too, and its message is ErrRefused's: "refused: " and the
// client-facing text.
var (
	// ErrAmountMismatch means the PG's payment is of another amount than
	// the registration says.
	ErrAmountMismatch = errors.New("amount mismatch")
	// ErrOrderMismatch means the PG's payment was made for another order
	// than the registration's source.
	ErrOrderMismatch = errors.New("order mismatch")
	// ErrNotPaid means the PG's payment failed, was aborted or expired, or
	// was cancelled because an earlier registration of it failed or was
	// refused for its amount.
	ErrNotPaid = errors.New("payment not paid")
	// ErrRefundExceedsBalance means a cancel asks for more than what
	// remains of the payment.
	ErrRefundExceedsBalance = errors.New("refund exceeds balance")
	// ErrCancelInProgress refuses a cancel while another cancel of the
	// payment is at the PG: its call still running, or its refund
	// requested and not made yet (an asynchronous PG). Retry later.
	ErrCancelInProgress = errors.New("cancel in progress")
)

// refusal is a refused request: its message is ErrRefused's and the
// client-facing text, and it wraps ErrRefused and its reason.
type refusal struct {
	reason error
	msg    string
	// onRequest marks a refusal decided from the request and the
	// configuration alone, before any PG call or stored record was
	// consulted; the audit trail does not record those (auditRefusal).
	onRequest bool
}

func (e *refusal) Error() string   { return ErrRefused.Error() + ": " + e.msg }
func (e *refusal) Unwrap() []error { return []error{ErrRefused, e.reason} }

// refusedf returns an error wrapping ErrRefused and reason with a
// client-facing message.
func refusedf(reason error, format string, args ...any) error {
	return &refusal{reason: reason, msg: fmt.Sprintf(format, args...)}
}

// requestRefusedf is refusedf for a refusal decided from the request and
// the configuration alone (see refusal.onRequest).
func requestRefusedf(reason error, format string, args ...any) error {
	return &refusal{reason: reason, msg: fmt.Sprintf(format, args...), onRequest: true}
}

// Queue is the stored-job queue the service enqueues into, inside its own
// transactions; *webhook.Queue implements it.
type Queue interface {
	EnqueueInboundTx(ctx context.Context, tx *sql.Tx, ev webhook.Inbound) error
	EnqueueDeliveryTx(ctx context.Context, tx *sql.Tx, webhookID string) error
	ClaimDeliveryTx(ctx context.Context, tx *sql.Tx, webhookID string) (webhook.Claim, error)
	DeliverClaimed(c webhook.Claim)
}

// Keys are the at-rest keyrings and the password hasher.
type Keys struct {
	History     *seal.Keyring // payment_histories.data
	Reservation *seal.Keyring // payment_reservations.data
	Cancel      *seal.Keyring // payment_history_cancels.data
	Webhook     *seal.Keyring // webhook snapshots, raw PG bodies, idempotent responses
	Audit       *seal.Keyring // payment_audit_events.data
	Passwords   *seal.Hasher
}

// Options are the dependencies of a Service.
type Options struct {
	Store *store.Store
	// Gateways resolves each record's store to its PG client. Nil means
	// Iamport and Toss serve every store.
	Gateways Gateways
	// Iamport, Toss and PortOne are the clients of every store when
	// Gateways is nil (tests, and the service as it was before stores).
	// PortOne is nil when PortOne V2 is not configured: requests naming
	// vendor portone are then refused (400).
	Iamport IamportAPI
	Toss    TossAPI
	PortOne PortOneAPI
	Keys    Keys
	// Wire encrypts forwarded webhook bodies of the default service, as
	// the original does with the connection key.
	Wire *wirecrypt.Cipher
	// Services are the forwarding keys of the configured services, by
	// name (tenant.go).
	Services map[string]ServiceKeys
	Queue    Queue
	Logger   *slog.Logger
	Now      func() time.Time
}

// Service implements the payment flows. It is safe for concurrent use.
type Service struct {
	store    *store.Store
	gateways Gateways
	keys     Keys
	wire     *wirecrypt.Cipher
	// services are the configured services' forwarding keys.
	services map[string]ServiceKeys
	queue    Queue
	log      *slog.Logger
	now      func() time.Time
	// observer hears of the reconciler's checks and drifts; may be nil.
	observer SweepObserver
	kept     keptLog
	// flows hears of the outcome of registrations and cancels; may be nil.
	flows FlowObserver
}

// New returns a Service. Queue may be set later with SetQueue, because the
// queue needs the service as its processor.
func New(opts Options) (*Service, error) {
	gateways := opts.Gateways
	if gateways == nil && opts.Iamport != nil && opts.Toss != nil {
		gateways = fixedGateways{iamport: opts.Iamport, toss: opts.Toss, portone: opts.PortOne}
	}
	if opts.Store == nil || gateways == nil || opts.Wire == nil {
		return nil, errors.New("payment service: store, PG clients and wire cipher are required")
	}
	k := opts.Keys
	if k.History == nil || k.Reservation == nil || k.Cancel == nil || k.Webhook == nil || k.Audit == nil || k.Passwords == nil {
		return nil, errors.New("payment service: every keyring and the password hasher are required")
	}
	s := &Service{
		store: opts.Store, gateways: gateways, keys: k,
		wire: opts.Wire, services: opts.Services, queue: opts.Queue, log: opts.Logger, now: opts.Now,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// SetQueue sets the job queue; call it once, before serving.
func (s *Service) SetQueue(q Queue) { s.queue = q }

// checkPassword verifies a record password in constant time.
func (s *Service) checkPassword(stored, password string) error {
	if !s.keys.Passwords.Verify(stored, password) {
		return ErrWrongPassword
	}
	return nil
}
