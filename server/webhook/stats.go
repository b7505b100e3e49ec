package webhook

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/paymentctl/paymentctl/migrations"
)

// JobKinds lists the kinds of the queue's jobs (river_job.kind): PG
// webhooks to process, deliveries to services, and reconciler sweeps.
func JobKinds() []string {
	return []string{inboundArgs{}.Kind(), deliveryArgs{}.Kind(), sweepArgs{}.Kind()}
}

// JobStates lists the job states Stats counts: those of jobs waiting,
// running, retrying, or given up and still kept by River (completed ones
// are not counted).
func JobStates() []string {
	return []string{
		string(rivertype.JobStateAvailable), string(rivertype.JobStateScheduled),
		string(rivertype.JobStateRunning), string(rivertype.JobStateRetryable),
		string(rivertype.JobStateDiscarded), string(rivertype.JobStateCancelled),
	}
}

// JobCount is how many jobs of one kind are in one state.
type JobCount struct {
	Kind, State string
	Count       int64
	// Oldest is how long ago the oldest of them was scheduled to run; for
	// available jobs, how long the oldest has been waiting for a worker.
	Oldest time.Duration
}

// Stats counts the jobs in the database by kind and state (JobStates;
// every instance sharing the database included), in one grouped query
// over River's state index. db and dialect are the queue's
// (Options.DB, Options.Dialect).
func Stats(ctx context.Context, db *sql.DB, dialect string) ([]JobCount, error) {
	var age string
	switch dialect {
	case migrations.Postgres:
		age = "EXTRACT(EPOCH FROM now() - min(scheduled_at))"
	case migrations.SQLite:
		// River's SQLite driver stores UTC times as datetime('now', 'subsec')
		// text, which julianday reads.
		age = "(julianday('now') - julianday(min(scheduled_at))) * 86400.0"
	default:
		return nil, fmt.Errorf("job stats: unknown database dialect %q", dialect)
	}
	states := JobStates()
	args := make([]any, len(states))
	marks := make([]string, len(states))
	for i, st := range states {
		args[i] = st
		marks[i] = bindVar(dialect, i+1)
	}
	rows, err := db.QueryContext(ctx, "SELECT kind, state, count(*), COALESCE("+age+", 0) FROM river_job WHERE state IN ("+
		strings.Join(marks, ", ")+") GROUP BY kind, state", args...)
	if err != nil {
		return nil, fmt.Errorf("job stats: %w", err)
	}
	defer rows.Close()
	var out []JobCount
	for rows.Next() {
		var c JobCount
		var seconds float64
		if err := rows.Scan(&c.Kind, &c.State, &c.Count, &seconds); err != nil {
			return nil, fmt.Errorf("job stats: %w", err)
		}
		c.Oldest = time.Duration(max(seconds, 0) * float64(time.Second))
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("job stats: %w", err)
	}
	return out, nil
}

// bindVar is the n-th query parameter in dialect.
func bindVar(dialect string, n int) string {
	if dialect == migrations.Postgres {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// Running reports whether the workers run: Start succeeded, Stop was not
// called, and River's client has not stopped on its own.
func (q *Queue) Running() bool {
	if !q.started.Load() || q.stopped.Load() {
		return false
	}
	select {
	case <-q.client.Stopped():
		return false
	default:
		return true
	}
}
