package reset

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/config"
)

// tickingClock advances by step on every reading, so that every step of a
// Runner takes exactly step.
func tickingClock(step time.Duration) func() time.Time {
	t := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(step)
		return t
	}
}

func TestRunner(t *testing.T) {
	errBoom := errors.New("boom")
	// step returns a step that records its run in ran.
	step := func(ran *[]string, name string, out Outcome, err error) Step {
		return Step{Name: name, Run: func(context.Context) (Outcome, error) {
			*ran = append(*ran, name)
			return out, err
		}}
	}
	tests := []struct {
		name    string
		steps   func(ran *[]string) []Step
		wantRan []string
		wantOut string
		wantErr string // "" for none
	}{
		{
			name: "all steps run in order",
			steps: func(ran *[]string) []Step {
				return []Step{
					step(ran, "pull", Outcome{Summary: "already up to date"}, nil),
					step(ran, "schema", Outcome{Summary: "re-created", Details: []string{"one", "two"}}, nil),
				}
			},
			wantRan: []string{"pull", "schema"},
			wantOut: "" +
				"[1/2] pull    ok         250ms  already up to date\n" +
				"[2/2] schema  ok         250ms  re-created\n" +
				"              one\n" +
				"              two\n",
		},
		{
			name: "a skipped step does not run",
			steps: func(ran *[]string) []Step {
				s := step(ran, "build", Outcome{}, nil)
				s.Skip = "--no-build"
				return []Step{s, step(ran, "stop", Outcome{Summary: "no server running"}, nil)}
			},
			wantRan: []string{"stop"},
			wantOut: "" +
				"[1/2] build  skipped           --no-build\n" +
				"[2/2] stop   ok         250ms  no server running\n",
		},
		{
			name: "a failing step stops the rest and is reported",
			steps: func(ran *[]string) []Step {
				return []Step{
					step(ran, "stop", Outcome{Summary: "stopped"}, nil),
					step(ran, "schema", Outcome{Summary: "not printed"}, errBoom),
					step(ran, "seed", Outcome{}, nil),
				}
			},
			wantRan: []string{"stop", "schema"},
			wantOut: "" +
				"[1/3] stop    ok         250ms  stopped\n" +
				"[2/3] schema  failed     250ms\n",
			wantErr: "reset stopped at step schema: boom",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ran []string
			var out bytes.Buffer
			// Two readings per step: start and end.
			r := &Runner{Out: &out, Now: tickingClock(250 * time.Millisecond)}
			err := r.Run(context.Background(), tt.steps(&ran))
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Run: %v", err)
			}
			if tt.wantErr != "" {
				var se *StepError
				if err == nil || err.Error() != tt.wantErr || !errors.As(err, &se) || !errors.Is(err, errBoom) {
					t.Fatalf("Run error = %v, want a *StepError %q wrapping the cause", err, tt.wantErr)
				}
			}
			if diff := cmp.Diff(tt.wantRan, ran); diff != "" {
				t.Errorf("steps run (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantOut, out.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunnerStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ran := 0
	steps := []Step{
		{Name: "stop", Run: func(context.Context) (Outcome, error) { ran++; cancel(); return Outcome{Summary: "ok"}, nil }},
		{Name: "schema", Run: func(context.Context) (Outcome, error) { ran++; return Outcome{}, nil }},
	}
	err := (&Runner{Out: &bytes.Buffer{}}).Run(ctx, steps)
	var se *StepError
	if !errors.As(err, &se) || se.Step != "schema" || !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want the cancellation reported at step schema", err)
	}
	if ran != 1 {
		t.Errorf("%d steps ran, want 1", ran)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                        "0ms",
		999 * time.Millisecond:   "999ms",
		time.Second:              "1.0s",
		61500 * time.Millisecond: "61.5s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestOptionsCheck(t *testing.T) {
	cfgIn := func(m config.Mode) *config.Config { return &config.Config{Mode: m} }
	tests := []struct {
		name    string
		opts    Options
		wantErr string // a substring; "" for none
	}{
		{"local", Options{Config: cfgIn(config.ModeLocal), Mode: config.ModeLocal}, ""},
		{"dev", Options{Config: cfgIn(config.ModeDev), Mode: config.ModeDev}, ""},
		{"real is refused", Options{Config: cfgIn(config.ModeReal), Mode: config.ModeReal}, "refuses real mode"},
		{"another mode than the configuration's", Options{Config: cfgIn(config.ModeReal), Mode: config.ModeDev}, "the configuration is for real mode"},
		{"local on a dev configuration", Options{Config: cfgIn(config.ModeDev), Mode: config.ModeLocal}, "the configuration is for dev mode"},
		{"no configuration", Options{Mode: config.ModeLocal}, "no configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Check()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Check = %v, want an error containing %q", err, tt.wantErr)
			}
			if _, err := Steps(tt.opts); err == nil {
				t.Error("Steps accepted options Check refuses")
			}
		})
	}
}

func TestRunStopsAtTheFailedStep(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, map[string]string{
		// Nothing listens on port 1: the schema step fails at once.
		"PAYMENT_DATABASE_URL":     "postgres://paymentctl@127.0.0.1:1/payments?connect_timeout=5",
		"PAYMENT_UPDATOR_RELEASES": dir,
	})
	var out bytes.Buffer
	err := Run(context.Background(), Options{Config: cfg, Mode: config.ModeLocal, NoPull: true, NoBuild: true, Out: &out})
	var se *StepError
	if !errors.As(err, &se) || se.Step != StepSchema || !strings.HasPrefix(err.Error(), "reset stopped at step schema: ") {
		t.Fatalf("Run = %v, want the schema step's failure", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[3], "[4/6] schema  failed ") {
		t.Fatalf("output:\n%s\nwant four lines, the last the failed schema step", out.String())
	}
	if strings.Contains(out.String(), "seed") || strings.Contains(out.String(), "done in") {
		t.Errorf("steps after the failure ran:\n%s", out.String())
	}
}
