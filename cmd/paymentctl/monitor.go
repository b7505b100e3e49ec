package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
)

// monitorOptions are the inputs of `paymentctl monitor`.
type monitorOptions struct {
	IO     *iostreams
	Config *config.Config
	Mode   config.Mode
	JSON   bool
	Watch  bool
}

// newMonitorCmd returns `paymentctl monitor`. runF replaces runMonitor in tests.
func newMonitorCmd(f *factory, runF func(context.Context, *monitorOptions) error) *cobra.Command {
	opts := &monitorOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "monitor <mode>",
		Short: "Show the commit and performance of every instance of a mode",
		Long: `Ask the updater master of <mode> for every instance's system and performance
monitors and print a table: instance, commit, version, uptime, CPU %, RSS,
goroutines, requests, errors, restarts.`,
		Example: `  paymentctl monitor dev
  paymentctl monitor real --watch
  paymentctl monitor local --json`,
		Args: modeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.loadConfig(cmd)
			if err != nil {
				return err
			}
			opts.Config, opts.Mode = cfg, config.Mode(args[0])
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runMonitor(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON for scripts")
	cmd.Flags().BoolVar(&opts.Watch, "watch", false, "refresh every second")
	return cmd
}

// runMonitor prints the monitors.
func runMonitor(_ context.Context, _ *monitorOptions) error {
	return notImplemented("monitor", "issue 5, operations")
}
