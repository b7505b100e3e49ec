package webhook

import (
	"context"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// sweepQueue runs the periodic sweep, one at a time, apart from the
// webhook queues.
const sweepQueue = "maintenance"

// Sweeper is periodic work that re-checks stored state against the PGs
// (the payment service's reconciler implements it). River's periodic jobs
// are inserted by the elected leader only, so with several instances on
// one database a sweep runs on one of them at a time.
type Sweeper interface {
	// Sweep runs one pass; an error is logged and the next period tries
	// again.
	Sweep(ctx context.Context) error
}

// sweepArgs is the stored form of a sweep job.
type sweepArgs struct{}

// Kind names the job kind in river_job.kind; never rename a shipped kind.
func (sweepArgs) Kind() string { return "reconcile_sweep" }

// InsertOpts keeps one sweep queued or running at a time: a slow sweep is
// not joined by the next period's.
func (sweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       sweepQueue,
		MaxAttempts: 1,
		UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateScheduled,
		}},
	}
}

// sweepWorker runs the Sweeper.
type sweepWorker struct {
	river.WorkerDefaults[sweepArgs]
	q *Queue
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[sweepArgs]) error {
	if err := w.q.sweeper.Sweep(ctx); err != nil {
		w.q.log.Warn("reconcile sweep", "err", err)
		return nil // the next period tries again; no River retry
	}
	return nil
}
