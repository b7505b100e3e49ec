package reset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/paymentctl/paymentctl/config"
)

// Options configure a reset.
type Options struct {
	// Config is this host's configuration; its mode must be Mode.
	Config *config.Config
	// Mode is the deployment to reset: config.ModeLocal or config.ModeDev.
	Mode config.Mode
	// NoPull, NoBuild and NoStart skip those steps.
	NoPull, NoBuild, NoStart bool
	// PIDFile is the server's PID file; default <releases>/paymentctl.pid.
	PIDFile string
	// LogFile receives the restarted server's output; default
	// <releases>/paymentctl.log.
	LogFile string
	// ServeArgs are added after `serve --pid-file <PIDFile>` when the
	// server is started (e.g. --config file).
	ServeArgs []string
	// Env is the environment of git, go and the server; nil means this
	// process's.
	Env []string
	// Go and Git are the commands of the pull and build steps; default
	// "go" and "git" from PATH.
	Go, Git string
	// StopTimeout, StartTimeout and SeedWait bound the stop, start and
	// seed steps' waits; zero means DefaultStopTimeout,
	// DefaultStartTimeout and DefaultSeedWait.
	StopTimeout, StartTimeout, SeedWait time.Duration
	// Out receives the progress lines.
	Out io.Writer
	// Logger receives the build's and the seeding instance's logs; nil
	// discards them.
	Logger *slog.Logger
	// Now reads the clock for the durations; nil means time.Now.
	Now func() time.Time
}

// Check refuses options that must not run: a mode other than local or dev,
// or one that is not the configuration's (the database and the release
// directory reset are the configuration's).
func (o *Options) Check() error {
	if o.Config == nil {
		return errors.New("reset: no configuration")
	}
	switch o.Mode {
	case config.ModeLocal, config.ModeDev:
	case config.ModeReal:
		return errors.New("reset refuses real mode: it drops every table")
	default:
		return fmt.Errorf("reset: %q is not a mode; use local or dev", o.Mode)
	}
	if o.Config.Mode != o.Mode {
		return fmt.Errorf("reset %s: the configuration is for %s mode; reset only resets the deployment this host is configured for (set PAYMENT_MODE=%s or --mode %s if it is the %s one)",
			o.Mode, o.Config.Mode, o.Mode, o.Mode, o.Mode)
	}
	return nil
}

// Steps returns the reset's six steps for opts, in order: pull, build,
// stop, schema, seed and start.
func Steps(opts Options) ([]Step, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	cfg := opts.Config
	releases, err := filepath.Abs(cfg.Updator.Releases)
	if err != nil {
		return nil, err
	}
	pidFile := opts.PIDFile
	if pidFile == "" {
		pidFile = filepath.Join(releases, PIDFileName)
	}
	if pidFile, err = filepath.Abs(pidFile); err != nil {
		return nil, err
	}
	logFile := opts.LogFile
	if logFile == "" {
		logFile = filepath.Join(releases, LogFileName)
	}
	git := GitOptions{Repo: cfg.Updator.Repo, Go: opts.Go, Git: opts.Git, Env: opts.Env, Logger: opts.Logger}
	skip := func(off bool, flag string) string {
		if off {
			return flag
		}
		return ""
	}
	return []Step{
		{Name: StepPull, Skip: skip(opts.NoPull, "--no-pull"), Run: func(ctx context.Context) (Outcome, error) {
			p, err := Pull(ctx, git)
			return Outcome{Summary: p.Summary()}, err
		}},
		{Name: StepBuild, Skip: skip(opts.NoBuild, "--no-build"), Run: func(ctx context.Context) (Outcome, error) {
			b, err := Build(ctx, git, releases)
			if err != nil {
				return Outcome{}, err
			}
			return Outcome{Summary: b.Summary()}, nil
		}},
		{Name: StepStop, Run: func(ctx context.Context) (Outcome, error) {
			s, err := StopServer(ctx, pidFile, opts.StopTimeout)
			return Outcome{Summary: s.Summary()}, err
		}},
		{Name: StepSchema, Run: func(ctx context.Context) (Outcome, error) {
			s, err := RecreateSchema(ctx, cfg.DatabaseURL())
			return Outcome{Summary: s.Summary()}, err
		}},
		{Name: StepSeed, Run: func(ctx context.Context) (Outcome, error) {
			s, err := Seed(ctx, cfg, SeedOptions{Logger: opts.Logger, Wait: opts.SeedWait})
			if err != nil {
				return Outcome{}, err
			}
			return Outcome{
				Summary: fmt.Sprintf("%d payments and %d saved cards, through the fake PGs", s.Count(KindHistory), s.Count(KindReservation)),
				Details: s.Lines(),
			}, nil
		}},
		{Name: StepStart, Skip: skip(opts.NoStart, "--no-start"), Run: func(ctx context.Context) (Outcome, error) {
			bin := filepath.Join(releases, currentLink, binaryName)
			if _, err := os.Stat(bin); err != nil {
				return Outcome{}, fmt.Errorf("no release to start at %s (build one: run reset without --no-build): %w", bin, err)
			}
			st, err := StartServer(ctx, StartOptions{
				Binary:    bin,
				Args:      append([]string{"serve", "--pid-file", pidFile}, opts.ServeArgs...),
				Env:       opts.Env,
				LogFile:   logFile,
				PIDFile:   pidFile,
				HealthURL: healthURL(cfg),
				Timeout:   opts.StartTimeout,
			})
			if err != nil {
				return Outcome{}, err
			}
			return Outcome{Summary: fmt.Sprintf("serving at %s, PID %d, log %s", apiURL(cfg), st.PID, st.LogFile)}, nil
		}},
	}, nil
}

// Run resets the deployment: it runs Steps with a Runner printing to
// opts.Out, and a last line with the total time. The error of a failed
// step is a *StepError.
func Run(ctx context.Context, opts Options) error {
	steps, err := Steps(opts)
	if err != nil {
		return err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	r := &Runner{Out: opts.Out, Now: now}
	if err := r.Run(ctx, steps); err != nil {
		return err
	}
	_, err = fmt.Fprintf(opts.Out, "reset %s: done in %s\n", opts.Mode, formatDuration(now().Sub(start)))
	return err
}

// apiURL is where the server started by the reset answers on this host:
// api.host, or loopback when it listens on every interface.
func apiURL(cfg *config.Config) string {
	host := cfg.API.Host
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(cfg.API.Port))
}

// healthURL is the server's health check.
func healthURL(cfg *config.Config) string { return apiURL(cfg) + "/monitors/health" }
