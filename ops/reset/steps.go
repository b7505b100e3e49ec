package reset

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// The steps of a reset, in order.
const (
	StepPull   = "pull"
	StepBuild  = "build"
	StepStop   = "stop"
	StepSchema = "schema"
	StepSeed   = "seed"
	StepStart  = "start"
)

// Step is one step of a reset.
type Step struct {
	// Name is the step's short name, e.g. StepPull.
	Name string
	// Skip, when not empty, says why the step does not run (a --no-*
	// flag); Run is then not called.
	Skip string
	// Run does the step and returns its outcome.
	Run func(ctx context.Context) (Outcome, error)
}

// Outcome is what a step did, for the operator.
type Outcome struct {
	// Summary is one line.
	Summary string
	// Details are further lines printed under the step's line (the sample
	// records the seed step made).
	Details []string
}

// StepError is the error of the step that stopped a reset.
type StepError struct {
	// Step is the failed step's name.
	Step string
	// Err is its cause.
	Err error
}

// Error names the step and its cause.
func (e *StepError) Error() string {
	return fmt.Sprintf("reset stopped at step %s: %v", e.Step, e.Err)
}

// Unwrap returns the cause.
func (e *StepError) Unwrap() error { return e.Err }

// Runner runs steps in order and prints one line per step: its number,
// name, outcome and duration. The first failing step stops the rest.
type Runner struct {
	// Out receives the progress lines.
	Out io.Writer
	// Now reads the clock for the durations; nil means time.Now.
	Now func() time.Time
}

// Run runs the steps in order. A step that fails is printed as failed,
// the steps after it do not run, and the error is a *StepError naming it.
// A cancelled ctx stops before the next step.
func (r *Runner) Run(ctx context.Context, steps []Step) error {
	now := r.Now
	if now == nil {
		now = time.Now
	}
	width := 0
	for _, s := range steps {
		width = max(width, len(s.Name))
	}
	for i, s := range steps {
		prefix := fmt.Sprintf("[%d/%d] %-*s", i+1, len(steps), width, s.Name)
		if s.Skip != "" {
			if _, err := fmt.Fprintf(r.Out, "%s  skipped  %7s  %s\n", prefix, "", s.Skip); err != nil {
				return err
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			return &StepError{Step: s.Name, Err: err}
		}
		start := now()
		out, err := s.Run(ctx)
		took := formatDuration(now().Sub(start))
		if err != nil {
			fmt.Fprintf(r.Out, "%s  failed   %7s\n", prefix, took)
			return &StepError{Step: s.Name, Err: err}
		}
		if _, err := fmt.Fprintf(r.Out, "%s  ok       %7s  %s\n", prefix, took, out.Summary); err != nil {
			return err
		}
		for _, d := range out.Details {
			if _, err := fmt.Fprintf(r.Out, "%s  %s\n", strings.Repeat(" ", len(prefix)), d); err != nil {
				return err
			}
		}
	}
	return nil
}

// formatDuration prints a step's duration: milliseconds below a second,
// tenths of seconds above.
func formatDuration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}
