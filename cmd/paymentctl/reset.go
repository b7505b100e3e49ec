package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/ops/reset"
)

// resetOptions are the inputs of `paymentctl reset`.
type resetOptions struct {
	IO     *iostreams
	Config *config.Config
	Mode   config.Mode
	// NoPull, NoBuild and NoStart skip those steps.
	NoPull, NoBuild, NoStart bool
	// PIDFile is the server's PID file; "" means <releases>/paymentctl.pid.
	PIDFile string
	// ConfigFile is the --config flag, passed on to the restarted server
	// (PAYMENT_CONFIG reaches it through the environment).
	ConfigFile string
	// Yes skips the confirmation reset dev asks for.
	Yes bool
}

// newResetCmd returns `paymentctl reset`. runF replaces runReset in tests.
func newResetCmd(f *factory, runF func(context.Context, *resetOptions) error) *cobra.Command {
	opts := &resetOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "reset <mode>",
		Short: "Rebuild a local or dev deployment from scratch, with sample data",
		Long: `Rebuild this host's deployment from scratch: the original's reset:dev.
Only for local and dev, and only the mode this host is configured for;
real is always refused. Steps, each printed with its outcome and duration;
the first failure stops the rest:

  1. pull    git pull --ff-only in updator.repo                  (--no-pull skips)
  2. build   build the checked-out commit into <releases>/<hash>/paymentctl,
             check it, point <releases>/current at it            (--no-build skips)
  3. stop    SIGTERM the server of the PID file, wait for its drain (60 s at most)
  4. schema  drop every table (migrations down to zero, River's too), migrate up
  5. seed    run the payment flows against fake PGs through an in-process
             instance: an Iamport card payment, an Iamport virtual account and
             its deposit, a Toss card payment with a partial cancel, a Toss
             virtual account, a PortOne V2 card payment, a saved card at
             each PG; prints their ids.
             Every sample record's password is "` + reset.SamplePassword + `".
  6. start   run <releases>/current/paymentctl serve --pid-file <pid file> in
             the background (log: <releases>/paymentctl.log), wait for
             /monitors/health                                    (--no-start skips)

The updater agent runs inside serve, so step 6 restarts it too.

reset dev first asks for confirmation on the terminal, naming the database;
--yes confirms in advance, and is required when standard input is not a
terminal (a script). reset local, a developer's own database, does not ask.`,
		Example: `  # on the dev host: pull, build, reset the database, restart
  paymentctl reset dev

  # the same from a script, confirmed in advance
  paymentctl reset dev --yes

  # a fresh local database with sample data, nothing built or started
  paymentctl reset local --no-pull --no-build --no-start`,
		Args: modeArg,
		Annotations: map[string]string{
			modeArgAnnotation:     modeArgNotReal,
			configFlagsAnnotation: "true",
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			mode := config.Mode(args[0])
			if mode == config.ModeReal {
				return &usageError{fmt.Errorf("reset refuses real mode: it drops every table")}
			}
			ask := mode == config.ModeDev && !opts.Yes
			if ask && !f.IO.InTTY {
				return &usageError{fmt.Errorf("reset %s drops every table of the %s database: pass --yes to confirm (standard input is not a terminal to ask on)", mode, mode)}
			}
			cfg, err := f.loadConfig(cmd)
			if err != nil {
				return err
			}
			if ask {
				if err := confirmReset(f.IO, mode, cfg); err != nil {
					return err
				}
			}
			opts.Config, opts.Mode = cfg, mode
			opts.ConfigFile, _ = cmd.Flags().GetString("config")
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runReset(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.NoPull, "no-pull", false, "do not git pull")
	fl.BoolVar(&opts.NoBuild, "no-build", false, "do not build a release (keep <releases>/current)")
	fl.BoolVar(&opts.NoStart, "no-start", false, "do not start the server afterwards")
	fl.StringVar(&opts.PIDFile, "pid-file", "", "the server's PID file (default <releases>/paymentctl.pid)")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation (reset dev)")
	return cmd
}

// errResetDeclined is a reset that was not confirmed.
var errResetDeclined = errors.New("not confirmed; nothing was changed")

// confirmReset asks on the terminal whether to drop the database of cfg,
// and returns errResetDeclined unless the answer is yes.
func confirmReset(io *iostreams, mode config.Mode, cfg *config.Config) error {
	fmt.Fprintf(io.ErrOut, "reset %s drops every table of %s, seeds it with sample data and restarts the server.\nContinue? [y/N] ",
		mode, databaseLabel(cfg.DatabaseURL()))
	line, err := bufio.NewReader(io.In).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(io.ErrOut)
		return fmt.Errorf("reset %s: %w", mode, errResetDeclined)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return fmt.Errorf("reset %s: %w", mode, errResetDeclined)
}

// databaseLabel names the database of dsn without its credentials.
func databaseLabel(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "the database (its DSN, which may hold a password, does not parse)"
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "the database " + dsn
	}
	return fmt.Sprintf("database %q on %s", strings.TrimPrefix(u.Path, "/"), u.Host)
}

// runReset rebuilds the deployment.
func runReset(ctx context.Context, opts *resetOptions) error {
	cfg := opts.Config
	gin.SetMode(gin.ReleaseMode) // the seeding instance runs gin
	// The restarted server reads the same configuration: the environment
	// and .env of this directory, the --config file, and the global flags'
	// values.
	env := append(os.Environ(), "PAYMENT_MODE="+string(opts.Mode),
		"PAYMENT_LOG_FORMAT="+cfg.Log.Format, "PAYMENT_LOG_LEVEL="+cfg.Log.Level)
	var serveArgs []string
	if opts.ConfigFile != "" {
		abs, err := filepath.Abs(opts.ConfigFile)
		if err != nil {
			return err
		}
		serveArgs = append(serveArgs, "--config", abs)
	}
	return reset.Run(ctx, reset.Options{
		Config: cfg, Mode: opts.Mode,
		NoPull: opts.NoPull, NoBuild: opts.NoBuild, NoStart: opts.NoStart,
		PIDFile:   opts.PIDFile,
		ServeArgs: serveArgs,
		Env:       env,
		Out:       opts.IO.Out,
		Logger:    quietLogger(opts.IO, cfg),
	})
}

// quietLogger is the logger of the build and of the seeding instance:
// warnings and errors only, unless the configuration asks for debug, so
// that the progress lines stay readable.
func quietLogger(io *iostreams, cfg *config.Config) *slog.Logger {
	level := cfg.Log.Level
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil || lvl > slog.LevelDebug && lvl < slog.LevelWarn {
		level = "warn"
	}
	return newLogger(io.ErrOut, cfg.Log.Format, level)
}
