package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/ops/monitor"
	"github.com/paymentctl/paymentctl/ops/updater"
)

// monitorOptions are the inputs of `paymentctl monitor`.
type monitorOptions struct {
	IO     *iostreams
	Config *config.Config
	Mode   config.Mode
	JSON   bool
	Watch  bool
	// URLs are API base URLs to ask instead of the mode's address.
	URLs []string
	// Interval is the time between the two samples of a report, and
	// between refreshes with --watch.
	Interval time.Duration
	// Terminal reports whether IO.Out is a terminal (--watch then clears
	// the screen between refreshes).
	Terminal bool
}

// newMonitorCmd returns `paymentctl monitor`. runF replaces runMonitor in tests.
func newMonitorCmd(f *factory, runF func(context.Context, *monitorOptions) error) *cobra.Command {
	opts := &monitorOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "monitor <mode>",
		Short: "Show the commit and performance of every instance of a mode",
		Long: `Ask every instance of <mode> for its system and performance monitors and print
a table: instance, commit, version, uptime, CPU %, RSS, goroutines, requests,
errors, restarts and status.

Which instances: --url, when given (repeat it for several servers); otherwise
every instance registered with the mode's updater master (local: 127.0.0.1 and
the updater port; dev and real: PAYMENT_DEV_MASTER / PAYMENT_REAL_MASTER),
asked again at each refresh. If the master does not answer, the mode's API
address alone (local: 127.0.0.1 and the API port; dev and real:
PAYMENT_DEV_API_URL / PAYMENT_REAL_API_URL).

CPU % is the CPU time spent between two samples taken --interval apart over
that interval (100% is one core busy), not the average since the process
started, so one report takes an interval to print. RESTARTS counts the new
processes (handoffs, restarts) seen while monitoring: with --watch it grows
with every one observed; a single report shows 0 unless a process changed
between its two samples. An instance that does not answer is a row with its
error; the command fails only when no instance answers.

--json prints an array with one object per instance: instance, url, status
("up" or "error"), error, uid, commit, branch, version, started_at,
uptime_seconds, cpu_percent (null when unknown), rss_bytes, goroutines,
requests, errors, restarts, and the raw system and performance answers (null
for an instance that failed). Every key is always present. With --watch,
each refresh is one such array on a line of its own.

--watch refreshes every --interval like 'pm2 monit' (clearing the screen on a
terminal; otherwise tables follow each other, separated by a blank line)
until Ctrl-C, which ends it with status 0.`,
		Example: `  paymentctl monitor dev
  paymentctl monitor real --watch
  paymentctl monitor local --json
  paymentctl monitor local --url http://127.0.0.1:37821 --url http://127.0.0.1:37822`,
		Args: modeArg,
		Annotations: map[string]string{
			modeArgAnnotation:     modeArgAny,
			configFlagsAnnotation: "true",
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Interval <= 0 {
				return &usageError{fmt.Errorf("--interval %v: must be positive", opts.Interval)}
			}
			for _, u := range opts.URLs {
				if !httpURL(u) {
					return &usageError{fmt.Errorf("--url %q: use an http(s) URL such as http://127.0.0.1:37821", u)}
				}
			}
			cfg, err := f.loadConfig(cmd)
			if err != nil {
				return err
			}
			opts.Config, opts.Mode = cfg, config.Mode(args[0])
			opts.Terminal = f.IO.OutTTY
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runMonitor(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.JSON, "json", false, "print JSON for scripts")
	fl.BoolVar(&opts.Watch, "watch", false, "refresh every interval until Ctrl-C")
	fl.StringArrayVar(&opts.URLs, "url", nil, "API base URL of a server to ask instead of the mode's (repeatable)")
	fl.DurationVar(&opts.Interval, "interval", monitor.DefaultInterval, "time between samples and between refreshes")
	return cmd
}

// runMonitor prints the monitors once, or until ctx ends with --watch.
func runMonitor(ctx context.Context, opts *monitorOptions) error {
	var instances monitor.Instances = monitor.Static(opts.URLs...)
	if len(opts.URLs) == 0 {
		master, ep, err := masterClient(opts.Config, opts.Mode)
		if err != nil {
			return err
		}
		instances = &masterInstances{master: master, fallback: monitor.Static(ep.APIURL), errOut: opts.IO.ErrOut}
	}
	col, err := monitor.New(monitor.Options{
		Instances: instances,
		Key:       opts.Config.Connection.Encryption.Key.Reveal(),
		IV:        opts.Config.Connection.Encryption.IV.Reveal(),
		Interval:  opts.Interval,
	})
	if err != nil {
		return err
	}
	if opts.Watch {
		return col.Watch(ctx, opts.IO.Out, monitor.WatchOptions{
			JSON:  opts.JSON,
			Clear: opts.Terminal && !opts.JSON,
			Logf: func(format string, args ...any) {
				fmt.Fprintf(opts.IO.ErrOut, format+"\n", args...)
			},
		})
	}
	rep, err := col.Collect(ctx)
	if err != nil {
		return err
	}
	if opts.JSON {
		err = rep.WriteJSON(opts.IO.Out, true)
	} else {
		err = rep.WriteTable(opts.IO.Out)
	}
	if err != nil {
		return err
	}
	return rep.Err()
}

// masterInstances lists every instance the mode's updater master knows,
// asked again at each refresh so instances that join or leave show up. If
// the master does not answer, it falls back to the mode's API URL and says
// so once.
type masterInstances struct {
	master   *updater.Client
	fallback monitor.StaticInstances
	errOut   io.Writer
	warned   bool
}

// Instances asks the master for its members.
func (m *masterInstances) Instances(ctx context.Context) ([]monitor.Instance, error) {
	members, err := m.master.Members(ctx)
	if err != nil || len(members) == 0 {
		if !m.warned && m.errOut != nil {
			m.warned = true
			fmt.Fprintf(m.errOut, "updater master %s did not list instances (%v); showing the mode's API only\n", m.master.Addr(), err)
		}
		return m.fallback.Instances(ctx)
	}
	out := make([]monitor.Instance, 0, len(members))
	for _, mem := range members {
		out = append(out, monitor.Instance{Name: mem.Name, APIURL: mem.APIURL})
	}
	return out, nil
}
