package webhook

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
)

// pgDriver is River's database/sql driver for PostgreSQL, except that the
// insert notifications River sends for the webhook queues are dropped:
// notifyTx announces every job of those queues itself, and River's own
// announcement (sent at most once per queue every FetchCooldown) would
// be a second NOTIFY, a second round trip, in the enqueuing transaction.
type pgDriver struct {
	*riverdatabasesql.Driver
}

// UnwrapExecutor is the executor InsertTx and the other *Tx calls of the
// client use.
func (d *pgDriver) UnwrapExecutor(tx *sql.Tx) riverdriver.ExecutorTx {
	return ownNotifyTx{ExecutorTx: d.Driver.UnwrapExecutor(tx)}
}

// UnwrapTx returns the transaction of an executor of UnwrapExecutor.
func (d *pgDriver) UnwrapTx(execTx riverdriver.ExecutorTx) *sql.Tx {
	if o, ok := execTx.(ownNotifyTx); ok {
		execTx = o.ExecutorTx
	}
	return d.Driver.UnwrapTx(execTx)
}

// ownNotifyTx is an executor whose insert notifications leave out the
// webhook queues (pgDriver).
type ownNotifyTx struct {
	riverdriver.ExecutorTx
}

func (e ownNotifyTx) NotifyMany(ctx context.Context, params *riverdriver.NotifyManyParams) error {
	if params.Topic != riverInsertTopic {
		return e.ExecutorTx.NotifyMany(ctx, params)
	}
	kept := *params
	kept.Payload = nil
	for _, p := range params.Payload {
		if !ownQueue(p) {
			kept.Payload = append(kept.Payload, p)
		}
	}
	if len(kept.Payload) == 0 {
		return nil
	}
	return e.ExecutorTx.NotifyMany(ctx, &kept)
}

// ownQueue reports whether an insert notification's payload names a
// queue whose jobs notifyTx announces.
func ownQueue(payload string) bool {
	var p struct {
		Queue string `json:"queue"`
	}
	if json.Unmarshal([]byte(payload), &p) != nil {
		return false
	}
	return p.Queue == inboundQueue || p.Queue == deliveryQueue
}
