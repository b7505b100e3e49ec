package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/user"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/ops/handoff"
	"github.com/paymentctl/paymentctl/ops/updater"
)

// updateBusyError is an update refused because another one runs. Its
// ExitCode is exitBusy.
type updateBusyError struct{ err *updater.BusyError }

func (e *updateBusyError) Error() string      { return e.err.Error() }
func (e *updateBusyError) Unwrap() error      { return e.err }
func (e *updateBusyError) ExitCode() exitCode { return exitBusy }

// updateOptions are the inputs of `paymentctl update`.
type updateOptions struct {
	IO     *iostreams
	Config *config.Config
	Mode   config.Mode
	Ref    string
	// By says who asks; default user@host.
	By string
}

// newUpdateCmd returns `paymentctl update`. runF replaces runUpdate in tests.
func newUpdateCmd(f *factory, runF func(context.Context, *updateOptions) error) *cobra.Command {
	opts := &updateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "update <mode>",
		Short: "Roll a new revision out to every instance of a mode, without downtime",
		Long: `Ask the updater master of <mode> (local, dev or real) to roll a revision out.
The master resolves the revision once (default: the latest commit of the branch
its repository is on), then every instance fetches it, builds it into
<releases>/<hash>/paymentctl and checks the binary. Only when every build
passed do the instances switch, one at a time and the master last: re-point
<releases>/current, hand the listening sockets to the new binary, wait until it
serves the new commit. The first failure rolls that instance back and stops the
rollout. Progress streams per instance and step; the end shows the commit each
instance serves.

Requests are signed with a key derived from PAYMENT_SYSTEM_PASSWORD, which must
match the servers'. One update runs at a time: a second one is refused at once.
Interrupting this command does not stop the rollout.
See docs/updater.md for how to run the instances.`,
		Example: `  paymentctl update local
  paymentctl update real
  paymentctl update dev --ref v1.4.0`,
		Args: modeArg,
		Annotations: map[string]string{
			modeArgAnnotation:     modeArgAny,
			configFlagsAnnotation: "true",
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.loadConfig(cmd)
			if err != nil {
				return err
			}
			opts.Config, opts.Mode = cfg, config.Mode(args[0])
			if opts.By == "" {
				opts.By = whoAmI(f.LookupEnv)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runUpdate(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Ref, "ref", "", "git ref to deploy (default: the latest commit of the deployed branch)")
	return cmd
}

// masterClient returns a client of the updater master of mode, signing
// with the key derived from the system password, and the mode's endpoint.
func masterClient(cfg *config.Config, mode config.Mode) (*updater.Client, config.Endpoint, error) {
	ep, err := cfg.Endpoint(mode)
	if err != nil {
		return nil, ep, err
	}
	key, err := updater.DeriveKey(cfg.System.Password.Reveal())
	if err != nil {
		return nil, ep, err
	}
	client, err := updater.NewClient(ep.Master, key, updater.ClientOptions{})
	return client, ep, err
}

// runUpdate asks the master to roll out and prints the progress as it comes.
func runUpdate(ctx context.Context, opts *updateOptions) error {
	client, ep, err := masterClient(opts.Config, opts.Mode)
	if err != nil {
		return err
	}
	ref := opts.Ref
	if ref == "" {
		ref = "the deployed branch"
	}
	fmt.Fprintf(opts.IO.ErrOut, "asking the %s updater master at %s to roll out %s\n", opts.Mode, ep.Master, ref)
	res, err := client.Update(ctx, updater.UpdateRequest{Ref: opts.Ref, By: opts.By}, func(ev updater.Event) {
		printUpdateEvent(opts.IO.Out, ev)
	})
	var busy *updater.BusyError
	switch {
	case errors.As(err, &busy):
		return &updateBusyError{busy}
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("update %s: no updater master answers at %s (connection refused): %s", opts.Mode, ep.Master, noMasterHint(opts.Mode))
	case err != nil:
		return fmt.Errorf("update %s: %w", opts.Mode, err)
	}
	printUpdateResult(opts.IO.Out, res)
	if !res.OK {
		if res.Failed != "" {
			return fmt.Errorf("update %s failed at %s: %s", opts.Mode, res.Failed, res.Error)
		}
		return fmt.Errorf("update %s failed: %s", opts.Mode, res.Error)
	}
	return nil
}

// noMasterHint says what to check when nothing listens at the master's
// address of mode.
func noMasterHint(mode config.Mode) string {
	if mode == config.ModeLocal {
		return "start 'paymentctl serve' first (its updater agent is the master), or set PAYMENT_UPDATOR_PORT to the port its agent listens on"
	}
	prefix := "PAYMENT_DEV_"
	if mode == config.ModeReal {
		prefix = "PAYMENT_REAL_"
	}
	return fmt.Sprintf("check %sMASTER and that 'paymentctl serve' runs there (the instance without PAYMENT_UPDATOR_MASTER is the master)", prefix)
}

// printUpdateEvent prints one progress line: time, step, status, instance, what.
func printUpdateEvent(w io.Writer, ev updater.Event) {
	if ev.Result != nil {
		return // printUpdateResult says it
	}
	what := ev.Message
	if ev.Error != "" {
		if what != "" {
			what += ": "
		}
		what += ev.Error
	}
	if ev.Took >= time.Second {
		what += " (" + ev.Took.Round(100*time.Millisecond).String() + ")"
	}
	fmt.Fprintf(w, "%s  %-8s %-5s %-21s %s\n", ev.Time.Local().Format("15:04:05"), ev.Step, ev.Status, ev.Instance, strings.TrimSpace(what))
}

// printUpdateResult prints the outcome and, as the original did after an
// update, the commit each instance serves: hash, branch and commit time.
func printUpdateResult(w io.Writer, res *updater.Result) {
	took := res.Finished.Sub(res.Started).Round(100 * time.Millisecond)
	if res.OK {
		fmt.Fprintf(w, "\nupdated every instance to %s in %s\n\n", res.Target.Hash, took)
	} else {
		fmt.Fprintf(w, "\nupdate FAILED after %s", took)
		if res.Failed != "" {
			fmt.Fprintf(w, " at %s", res.Failed)
		}
		fmt.Fprintf(w, ": %s\n\n", res.Error)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tHASH\tBRANCH\tCOMMIT-TIME")
	for _, ic := range res.Instances {
		if ic.Error != "" {
			fmt.Fprintf(tw, "%s\t-\t-\tno answer: %s\n", ic.Name, ic.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ic.Name, orDash(ic.Hash), orDash(ic.Branch), orDash(ic.CommittedAt))
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// whoAmI names the person asking, user@host, for the master's log and for
// anyone refused while this update runs.
func whoAmI(lookupEnv func(string) (string, bool)) string {
	name, _ := lookupEnv("USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	if name == "" {
		name = "unknown"
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown-host"
	}
	return name + "@" + host
}

// listenAgent opens (or inherits, after a handoff) the updater agent's
// socket on agentAddr. A slave on loopback whose master is on another
// host is warned that the master cannot reach it.
func listenAgent(src socketSource, cfg *config.Config, log *slog.Logger) (net.Listener, error) {
	ln, err := listen(src, log, "the updater agent", agentAddr(cfg))
	if err != nil {
		return nil, fmt.Errorf("%w (is another paymentctl serve using it? set PAYMENT_UPDATOR_PORT)", err)
	}
	if master, _, err := net.SplitHostPort(cfg.Updator.Master); err == nil && isLoopback(ln.Addr()) && !loopbackHost(master) {
		log.Warn("the updater agent listens on loopback only, where its master cannot reach it for a rollout; set PAYMENT_API_HOST to an address the master reaches",
			"addr", ln.Addr().String(), "master", cfg.Updator.Master)
	}
	return ln, nil
}

// loopbackHost reports whether host names this machine's loopback.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newAgent builds this instance's updater agent: its releases are built
// from updator.repo into updator.releases, and a switch hands off through
// hs. apiURL is the API as reached from this host. op answers the
// operator verbs (`paymentctl webhooks`, `audit`).
func newAgent(cfg *config.Config, hs *handoff.Server, log *slog.Logger, apiURL string, apiPort int, op updater.Operator) (*updater.Agent, error) {
	key, err := updater.DeriveKey(cfg.System.Password.Reveal())
	if err != nil {
		return nil, err
	}
	rel, err := updater.NewReleases(updater.ReleasesOptions{
		Repo: cfg.Updator.Repo, Dir: cfg.Updator.Releases, Upgrader: hs, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	var apiHost string
	if ip := net.ParseIP(cfg.API.Host); cfg.API.Host != "" && (ip == nil || !ip.IsUnspecified()) {
		apiHost = cfg.API.Host
	}
	return updater.New(updater.Options{
		Key:           key,
		Master:        cfg.Updator.Master,
		AdvertiseHost: apiHost,
		APIURL:        apiURL,
		APIHost:       apiHost,
		APIPort:       apiPort,
		Releases:      rel,
		Probe:         updater.SystemProbe(cfg.Connection.Encryption.Key.Reveal(), cfg.Connection.Encryption.IV.Reveal()),
		StateDir:      cfg.Updator.Releases,
		Operator:      op,
		Logger:        log,
	})
}
