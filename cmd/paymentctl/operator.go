package main

// The operator commands `paymentctl webhooks`, `webhooks retry` and
// `audit` ask the running server of their mode through its updater
// agent's signed channel (the verbs of updater.Operator), as `update` and
// `monitor` do: the mode's master (local: 127.0.0.1 and the updater port;
// dev and real: PAYMENT_DEV_MASTER / PAYMENT_REAL_MASTER) answers from its
// own App, so a retried delivery is sent at once by a process whose
// workers run, and the command can wait for the attempt and print it.
//
// When no server runs (nothing listens at the master's address, or dev or
// real has no master configured, or the server there runs a release from
// before the operator verbs) they read and write the mode's database
// directly, which holds the whole state anyway (deliveries are River jobs
// in river_job): failed deliveries pile up precisely when no server runs,
// and a retried delivery is then sent as soon as one starts. They say on
// stderr which path answered. Any other failure of the channel (a refused
// signature: PAYMENT_SYSTEM_PASSWORD differs from the servers'; a server
// of another mode; a timeout) is an error, not a reason to fall back.
//
// Both paths run the same code, appOperator over server.App: serve injects
// it into its agent, the fallback calls it on an App opened on the
// database. Answers are metadata only: ids, the webhook_url's host,
// counts, statuses, times and the audit trail's amounts; never a body, a
// password or card data, and nothing lists payments.

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/ops/updater"
	"github.com/paymentctl/paymentctl/server"
	"github.com/paymentctl/paymentctl/server/store"
	"github.com/paymentctl/paymentctl/server/webhook"
)

// appOperator implements updater.Operator with the server's webhook
// queue, store and audit trail.
type appOperator struct {
	app  *server.App
	mode config.Mode
	// await lets RetryDelivery wait for the attempt: set in serve, whose
	// workers make it; unset on the direct path, where no worker of this
	// process runs.
	await bool
}

var _ updater.Operator = appOperator{}

// Mode returns the mode of the server's configuration.
func (o appOperator) Mode() string { return string(o.mode) }

// FailingDeliveries lists the failing and given-up deliveries.
func (o appOperator) FailingDeliveries(ctx context.Context, limit int) ([]updater.Delivery, error) {
	list, err := o.app.FailingDeliveries(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]updater.Delivery, len(list))
	for i, d := range list {
		out[i] = updater.Delivery(d)
	}
	return out, nil
}

// RetryDelivery makes the delivery due now and, in serve, waits up to
// wait for the attempt.
func (o appOperator) RetryDelivery(ctx context.Context, eventID string, wait time.Duration) (updater.RetryResult, error) {
	out, err := o.app.RetryDelivery(ctx, eventID)
	switch {
	case errors.Is(err, webhook.ErrDeliveryRunning):
		return updater.RetryResult{}, fmt.Errorf("%w: event %s", updater.ErrDeliveryRunning, eventID)
	case errors.Is(err, store.ErrNotFound):
		return updater.RetryResult{}, fmt.Errorf("%w: no webhook event %s", updater.ErrNotFound, eventID)
	case err != nil:
		return updater.RetryResult{}, err
	}
	res := updater.RetryResult{Was: out.Was}
	if !o.await || wait <= 0 || out.JobID == 0 {
		return res, nil
	}
	att, err := o.app.AwaitDelivery(ctx, eventID, out.JobID, wait)
	if err != nil {
		return res, err
	}
	res.Outcome, res.LastStatus, res.LastError = att.Outcome, att.Status, att.Error
	return res, nil
}

// AuditTrail returns a history's audit trail.
func (o appOperator) AuditTrail(ctx context.Context, historyID string) ([]updater.AuditEntry, error) {
	trail, err := o.app.Payments.AuditTrail(ctx, historyID)
	if err != nil {
		return nil, err
	}
	out := make([]updater.AuditEntry, len(trail))
	for i, e := range trail {
		out[i] = updater.AuditEntry{ID: e.ID, HistoryID: e.HistoryID, Service: e.Service, Event: e.Event, Vendor: e.Vendor,
			StoreID: e.StoreID, RequestID: e.RequestID, At: e.At, Details: updater.AuditDetails(e.Details)}
	}
	return out, nil
}

// channelOperator implements updater.Operator with the verbs of a running
// server's updater agent.
type channelOperator struct {
	client *updater.Client
	mode   string
}

// Mode returns the mode the commands ask for.
func (c channelOperator) Mode() string { return c.mode }

// FailingDeliveries asks the server.
func (c channelOperator) FailingDeliveries(ctx context.Context, limit int) ([]updater.Delivery, error) {
	return c.client.FailingDeliveries(ctx, c.mode, limit)
}

// RetryDelivery asks the server.
func (c channelOperator) RetryDelivery(ctx context.Context, eventID string, wait time.Duration) (updater.RetryResult, error) {
	return c.client.RetryDelivery(ctx, updater.RetryRequest{Mode: c.mode, EventID: eventID, Wait: wait})
}

// AuditTrail asks the server.
func (c channelOperator) AuditTrail(ctx context.Context, historyID string) ([]updater.AuditEntry, error) {
	return c.client.AuditTrail(ctx, c.mode, historyID)
}

// operate runs do with the operator of the running server of cfg's mode,
// through its updater agent, or, when none runs, with one over the mode's
// database; it says on stderr which answered.
func operate(ctx context.Context, io *iostreams, cfg *config.Config, do func(updater.Operator) error) error {
	why := ""
	ep, err := cfg.Endpoint(cfg.Mode)
	if err != nil {
		why = fmt.Sprintf("no updater master configured for %s", cfg.Mode)
	} else {
		client, _, err := masterClient(cfg, cfg.Mode)
		if err != nil {
			return err
		}
		err = do(channelOperator{client: client, mode: string(cfg.Mode)})
		if err == nil {
			fmt.Fprintf(io.ErrOut, "answered by the running %s server through its updater agent at %s\n", cfg.Mode, ep.Master)
			return nil
		}
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			why = fmt.Sprintf("no running server (nothing listens at %s)", ep.Master)
		case errors.Is(err, updater.ErrNoOperator):
			why = fmt.Sprintf("the server at %s answers no operator verbs (a release from before them)", ep.Master)
		default:
			return channelError(err, cfg.Mode, ep.Master)
		}
	}
	fmt.Fprintf(io.ErrOut, "%s; read the %s database directly\n", why, cfg.Mode)
	app, err := openApp(ctx, io, cfg)
	if err != nil {
		return err
	}
	defer app.Close(context.WithoutCancel(ctx))
	return do(appOperator{app: app, mode: cfg.Mode})
}

// channelError adds what to check to a refusal of the channel.
func channelError(err error, mode config.Mode, addr string) error {
	var ae *updater.AnswerError
	if errors.As(err, &ae) && ae.Status == 401 {
		return fmt.Errorf("the %s server at %s refused the request's signature (%w): PAYMENT_SYSTEM_PASSWORD must be the servers'", mode, addr, err)
	}
	return err
}
