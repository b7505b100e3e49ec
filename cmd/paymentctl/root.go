package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
)

// exitCode is the process exit status Main returns.
type exitCode int

// Exit codes. exitConfig is sysexits' EX_CONFIG, so a service manager can
// be told not to restart a server whose configuration is wrong
// (RestartPreventExitStatus=78); exitBusy is EX_TEMPFAIL, "try again
// later", for an update refused because another one runs. An error with an
// ExitCode method chooses its own.
const (
	exitOK        exitCode = 0
	exitError     exitCode = 1
	exitUsage     exitCode = 2
	exitBusy      exitCode = 75
	exitConfig    exitCode = 78
	exitCancelled exitCode = 130
)

// usageError marks an error in how the command was called (flags,
// arguments); Main prints a hint to --help and exits with exitUsage.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// errNotImplemented is returned by commands whose issue has not landed.
var errNotImplemented = errors.New("not implemented yet")

// notImplemented reports that a command exists but its work is still to
// come, naming where it is tracked.
func notImplemented(what, issue string) error {
	return fmt.Errorf("%s: %w (tracked in %s)", what, errNotImplemented, issue)
}

// Main runs paymentctl with the process's arguments and streams and
// returns the exit code. It is the only place that decides one.
func Main() exitCode {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f := systemFactory()
	return run(ctx, f, os.Args[1:])
}

// run executes the command line args against f and maps the outcome to an
// exit code, printing the error once.
func run(ctx context.Context, f *factory, args []string) exitCode {
	root := newRootCmd(f)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(f.IO.ErrOut, "Error:", err)
	var uerr *usageError
	var verr *config.ValidationError
	var coded interface{ ExitCode() exitCode }
	switch {
	case errors.As(err, &coded):
		return coded.ExitCode()
	case errors.As(err, &uerr):
		fmt.Fprintf(f.IO.ErrOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return exitUsage
	case errors.As(err, &verr):
		return exitConfig
	case errors.Is(err, context.Canceled):
		return exitCancelled
	default:
		return exitError
	}
}

// newRootCmd builds the whole command tree.
func newRootCmd(f *factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "paymentctl <command>",
		Short: "Payment server for micro-service backends, and its operations tool",
		Long: `paymentctl sits between your services and the payment gateways (Iamport/PortOne v1,
Toss Payments). Services register payments made in a PG's popup; paymentctl verifies
them with the PG, stores them encrypted, follows the PG's webhooks and forwards
every change to the service. The same binary runs the server, operates it
(schema, zero-downtime updates, monitoring, resets) and simulates the PGs.

Configuration: defaults < --config file (YAML) < .env in the working directory
< environment (PAYMENT_*) < flags. See 'paymentctl config print'.`,
		Example: `  # run the server with no setup (SQLite file, fake PGs in process)
  paymentctl serve

  # show the commit and performance of every dev instance
  paymentctl monitor dev

  # roll the latest revision out to the real servers, one by one
  paymentctl update real`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Persistent flags are read through the config package, never here.
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })

	pf := root.PersistentFlags()
	pf.String("config", "", "YAML configuration file (also PAYMENT_CONFIG)")
	pf.String(config.FlagName("mode"), "", "deployment mode: local, dev or real (PAYMENT_MODE)")
	pf.String(config.FlagName("log.format"), "", "log format: text or json (PAYMENT_LOG_FORMAT)")
	pf.String(config.FlagName("log.level"), "", "log level: debug, info, warn or error (PAYMENT_LOG_LEVEL)")

	root.AddCommand(
		newServeCmd(f, nil),
		newSchemaCmd(f, nil),
		newUpdateCmd(f, nil),
		newMonitorCmd(f, nil),
		newResetCmd(f, nil),
		newReconcileCmd(f, nil),
		newWebhooksCmd(f, nil, nil),
		newAuditCmd(f, nil),
		newFakeCmd(f, nil),
		newConfigCmd(f),
		newVersionCmd(f),
	)
	// cobra adds these two when it executes; added now, they get the
	// same treatment as ours below.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	finishHelpAndCompletion(root)
	registerCompletions(root)
	forEachCommand(root, func(cmd *cobra.Command) {
		if cmd.HasSubCommands() && !cmd.Runnable() {
			// A group such as `config`: alone it prints its help; an
			// unknown subcommand is a usage error (cobra would print
			// the help and exit 0, or call it an error like any other).
			cmd.Args = noArgs
			cmd.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
		}
		if cmd.Annotations[configFlagsAnnotation] != "" {
			addConfigFlags(cmd)
		}
	})
	return root
}

// forEachCommand calls fn for cmd and every command below it.
func forEachCommand(cmd *cobra.Command, fn func(*cobra.Command)) {
	fn(cmd)
	for _, sub := range cmd.Commands() {
		forEachCommand(sub, fn)
	}
}

// modeArg is a cobra.PositionalArgs that accepts exactly one valid mode.
func modeArg(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return &usageError{fmt.Errorf("expected one mode (local, dev or real), got %d arguments", len(args))}
	}
	if _, err := config.ParseMode(args[0]); err != nil {
		return &usageError{err}
	}
	return nil
}

// noArgs is cobra.NoArgs with a usage error. For a command with
// subcommands, an argument is an unknown subcommand.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasAvailableSubCommands() {
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if cmd.SuggestionsMinimumDistance <= 0 {
			cmd.SuggestionsMinimumDistance = 2
		}
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf("; did you mean %s?", strings.Join(s, " or "))
		}
		return &usageError{errors.New(msg)}
	}
	return &usageError{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args[0])}
}
