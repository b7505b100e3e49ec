package webhook

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// maxRetryAttempts bounds how many attempts a policy may allow; a policy
// needing more (a tiny Base or Cap against a long Budget) is refused.
const maxRetryAttempts = 1000

// RetryPolicy is an exponential backoff with equal jitter and a time budget.
//
// After the n-th failed attempt the next one waits d/2 plus a random part of
// up to d/2, where d is Base doubled n-1 times and capped at Cap. No attempt
// starts later than Budget after the job was enqueued: a failure whose next
// attempt could not start within the budget gives the job up, and the last
// delay is shortened to end on the budget.
type RetryPolicy struct {
	// Base is the nominal delay after the first failure.
	Base time.Duration
	// Cap bounds the nominal delay between two attempts.
	Cap time.Duration
	// Budget is how long after enqueueing attempts may still start.
	Budget time.Duration
}

// DeliveryRetry is the production policy for deliveries: 5 s doubling, at
// most 6 h apart, for 3 days, like Stripe's and the Standard Webhooks
// example schedule.
func DeliveryRetry() RetryPolicy {
	return RetryPolicy{Base: 5 * time.Second, Cap: 6 * time.Hour, Budget: 72 * time.Hour}
}

// InboundRetry is the production policy for inbound PG events, whose
// failures are mostly PG re-fetches: 1 s doubling, at most 5 min apart, for
// one day.
func InboundRetry() RetryPolicy {
	return RetryPolicy{Base: time.Second, Cap: 5 * time.Minute, Budget: 24 * time.Hour}
}

// Scaled returns p with every second of it shrunk to unit, keeping its
// shape: DeliveryRetry().Scaled(time.Millisecond) retries after about 5 ms,
// caps at 21.6 s and gives up after 259.2 s. It is meant for tests.
func (p RetryPolicy) Scaled(unit time.Duration) RetryPolicy {
	scale := func(d time.Duration) time.Duration {
		return time.Duration(float64(d) * float64(unit) / float64(time.Second))
	}
	return RetryPolicy{Base: scale(p.Base), Cap: scale(p.Cap), Budget: scale(p.Budget)}
}

// Validate reports whether the policy is usable: positive durations, Cap
// at least Base, Budget at least Cap, and at most 1000 attempts in all.
func (p RetryPolicy) Validate() error {
	switch {
	case p.Base <= 0 || p.Cap <= 0 || p.Budget <= 0:
		return errors.New("invalid retry policy: base, cap and budget must be positive")
	case p.Cap < p.Base:
		return errors.New("invalid retry policy: cap is shorter than base")
	case p.Budget < p.Cap:
		return errors.New("invalid retry policy: budget is shorter than cap")
	case p.attempts(maxRetryAttempts+1) > maxRetryAttempts:
		return fmt.Errorf("invalid retry policy: more than %d attempts fit in the budget", maxRetryAttempts)
	}
	return nil
}

// MaxAttempts is the most attempts the policy can make within its budget
// (every delay at its shortest), the first one included.
func (p RetryPolicy) MaxAttempts() int {
	return p.attempts(maxRetryAttempts)
}

// attempts counts attempts with minimal delays, stopping at limit.
func (p RetryPolicy) attempts(limit int) int {
	n := 1
	var elapsed time.Duration
	for n < limit {
		elapsed += p.minDelay(n)
		if elapsed > p.Budget {
			break
		}
		n++
	}
	return n
}

// nominal is the delay before the attempt after the failed attempt number
// failed (1-based), without jitter.
func (p RetryPolicy) nominal(failed int) time.Duration {
	d := p.Base
	for i := 1; i < failed && d < p.Cap; i++ {
		d *= 2
	}
	return min(d, p.Cap)
}

// minDelay is the shortest jittered delay after attempt number failed.
func (p RetryPolicy) minDelay(failed int) time.Duration {
	d := p.nominal(failed)
	return d - d/2
}

// Delay returns a jittered delay before the next attempt, after the
// attempt numbered failed (1 for the first attempt) has failed. It lies in
// [d/2, d] for the nominal delay d.
func (p RetryPolicy) Delay(failed int) time.Duration {
	d := p.nominal(failed)
	half := d / 2
	if half <= 0 {
		return d
	}
	return d - half + rand.N(half+1)
}

// giveUp reports whether a job enqueued at created, whose attempt number
// failed has just failed at now, has no room left in the budget for another
// attempt.
func (p RetryPolicy) giveUp(created, now time.Time, failed int) bool {
	return now.Add(p.minDelay(failed)).After(created.Add(p.Budget))
}

// nextAttempt returns when the attempt after failed should start: a jittered
// delay after now, but no later than the end of the budget.
func (p RetryPolicy) nextAttempt(created, now time.Time, failed int) time.Time {
	at := now.Add(p.Delay(failed))
	if deadline := created.Add(p.Budget); at.After(deadline) {
		at = deadline
	}
	if at.Before(now) {
		at = now
	}
	return at
}
