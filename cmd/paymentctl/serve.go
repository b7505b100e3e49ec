package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
	fakeiamport "github.com/paymentctl/paymentctl/fakepg/iamport"
	fakeportone "github.com/paymentctl/paymentctl/fakepg/portone"
	faketoss "github.com/paymentctl/paymentctl/fakepg/toss"
	"github.com/paymentctl/paymentctl/ops/handoff"
	"github.com/paymentctl/paymentctl/ops/updater"
	"github.com/paymentctl/paymentctl/server"
)

// serveOptions are the inputs of `paymentctl serve`.
type serveOptions struct {
	IO      *iostreams
	Config  *config.Config
	PIDFile string
	// PprofAddr, when set, is the loopback address of Go's profiles.
	PprofAddr string
}

// newServeCmd returns `paymentctl serve`. runF replaces runServe in tests.
func newServeCmd(f *factory, runF func(context.Context, *serveOptions) error) *cobra.Command {
	opts := &serveOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the payment server",
		Long: `Run the payment API. With no configuration it runs in local mode: an embedded
SQLite file (paymentctl.db in the working directory, migrated automatically) and
both fake PGs in process (ports 10851 and 30771), wired to the server's webhook
routes. In dev and real mode it uses PostgreSQL and the real PGs, and refuses an
outdated schema (run 'paymentctl schema').

On SIGHUP the server re-executes its binary and hands the listening socket to
the new process, which serves once it is ready; the old one drains and exits,
so no request is refused or dropped. SIGTERM or SIGINT stops it gracefully.`,
		Example: `  # local, no setup
  paymentctl serve

  # production, configuration from the environment, PID file for systemd
  PAYMENT_MODE=real paymentctl serve --log-format json --pid-file /run/paymentctl.pid

  # hand over to a new binary without downtime
  kill -HUP "$(cat /run/paymentctl.pid)"

  # with CPU and heap profiles for go tool pprof, on loopback only
  paymentctl serve --pprof-addr 127.0.0.1:6060`,
		Args:        noArgs,
		Annotations: loadsConfig(),
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			// Started by an upgrade, a process that fails before it is
			// ready (configuration included) tells its parent why.
			defer func() { handoff.ReportStartFailure(err) }()
			if opts.PprofAddr != "" {
				if err := checkPprofAddr(opts.PprofAddr); err != nil {
					return err
				}
			}
			cfg, err := f.loadConfig(cmd)
			if err != nil {
				return err
			}
			opts.Config = cfg
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runServe(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.String(config.FlagName("api.host"), "", "interface to listen on (PAYMENT_API_HOST)")
	fl.Int(config.FlagName("api.port"), 0, "port of the API (PAYMENT_API_PORT, default 37821)")
	fl.String(config.FlagName("database.url"), "", "database DSN, postgres://… or sqlite:path (PAYMENT_DATABASE_URL)")
	fl.StringVar(&opts.PIDFile, "pid-file", "", "write the serving process's PID here (kept current across handoffs)")
	fl.StringVar(&opts.PprofAddr, "pprof-addr", "", "serve Go's runtime profiles (/debug/pprof/) on this loopback address, e.g. 127.0.0.1:6060")
	return cmd
}

// runServe runs the server until ctx ends or it has handed its socket to
// a new process.
func runServe(ctx context.Context, opts *serveOptions) error {
	cfg := opts.Config
	log := newLogger(opts.IO.ErrOut, cfg.Log.Format, cfg.Log.Level)
	gin.SetMode(gin.ReleaseMode)

	var app *server.App
	var agent *updater.Agent
	var agentLn net.Listener
	hs, err := handoff.New(handoff.Options{
		PIDFile: opts.PIDFile,
		Ready: func(ctx context.Context) error {
			if err := handoff.HandlerProbe(app.Handler, "/readyz")(ctx); err != nil {
				return err
			}
			// The updater agent answers once the API is ready, so that a
			// process failing its check never takes an updater request.
			return agent.Start(agentLn)
		},
		Logger: log,
		// From the start of the drain (handoff, SIGTERM), GET /readyz
		// answers 503.
		OnDrain: func() { app.SetDraining() },
		OnUpgrade: func(err error) {
			app.Metrics.Handoff(err)
			if err == nil {
				agent.Retire() // the new process's agent answers now
			}
		},
	})
	if err != nil {
		return fmt.Errorf("prepare the socket handoff: %w", err)
	}
	ln, err := listen(hs, log, "the API", apiAddr(cfg))
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%w (is another paymentctl serve running? stop it, or pick another port with --api-port or PAYMENT_API_PORT)", err)
	}
	if err != nil {
		return err
	}
	// The agent's socket is inherited across handoffs like the API's.
	agentLn, err = listenAgent(hs, cfg, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer agentLn.Close()

	app, err = server.NewApp(ctx, server.Options{Config: cfg, Logger: log, Listen: hs.Listen})
	if err != nil {
		ln.Close()
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := app.Close(closeCtx); err != nil {
			log.Error("close", "err", err)
		}
	}()
	workers, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorkers()
	if err := app.Start(workers); err != nil {
		ln.Close()
		return err
	}
	apiPort := ln.Addr().(*net.TCPAddr).Port
	local := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(apiPort))
	app.WireWebhooks(local)
	if agent, err = newAgent(cfg, hs, log, local, apiPort, appOperator{app: app, mode: cfg.Mode, await: true}); err != nil {
		ln.Close()
		return err
	}
	defer func() {
		// After this process handed off, a rollout it runs as the master
		// finishes here (health check of its successor, summary).
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), updater.DefaultHealthTimeout+30*time.Second)
		defer cancel()
		if err := agent.Close(stopCtx); err != nil {
			log.Error("stop the updater agent", "err", err)
		}
	}()
	if opts.PprofAddr != "" {
		psrv, err := servePprof(hs, opts.PprofAddr, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer psrv.Close()
	}
	banner(opts.IO, log, cfg, app, local, ln.Addr())

	err = hs.Serve(ctx, app.HTTPServer(), ln)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// banner says where the server is (url, as reached from this host, and
// the address it listens on) and, in local mode, how to try it.
func banner(io *iostreams, log *slog.Logger, cfg *config.Config, app *server.App, url string, listening net.Addr) {
	log.Info("paymentctl serving", "mode", cfg.Mode, "url", url, "listen", listening.String(), "database", app.Store.Dialect())
	if app.Fakes == nil {
		return
	}
	where := url
	if !isLoopback(listening) {
		where += " (listening on " + listening.String() + ", not only this machine)"
	}
	// PortOne V2's fake runs only where portone.url is left empty.
	portone, routes := "", "{iamport,toss}"
	if app.Fakes.PortOneURL != "" {
		portone = fmt.Sprintf("  fake PortOne V2 %s  (store id %s, API secret %s)\n",
			app.Fakes.PortOneURL, fakeportone.DefaultStoreID, fakeportone.DefaultSecret)
		routes = "{iamport,toss,portone}"
	}
	fmt.Fprintf(io.ErrOut, `
paymentctl is running in local mode at %s
  database        %s
  fake Iamport    %s  (key %s, secret %s)
  fake Toss       %s  (secret key %s)
%s  webhooks of the fakes go to %s/payments/webhooks/%s

Try it, in another terminal: pay into a virtual account at the fake Toss and
register the payment with paymentctl, as a service would, then deposit:
  %s
  %s
The deposit reaches paymentctl as a PG webhook; paymentctl re-fetches the
payment and forwards the change to the record's webhook_url (here its own
test receiver, which logs "test receiver got a webhook event").

`, where, shownDatabase(cfg.DatabaseURL()), app.Fakes.IamportURL, fakeiamport.DefaultKey, fakeiamport.DefaultSecret,
		app.Fakes.TossURL, faketoss.DefaultSecretKey, portone, url, routes,
		tryCommands()[0], tryCommands()[1])
}

// shownDatabase is how the banner names the database: a SQLite file by
// its DSN, a PostgreSQL database by its host and name only, never with
// the user, password or parameters of its DSN (a password may be in
// either).
func shownDatabase(dsn string) string {
	if strings.HasPrefix(dsn, "sqlite:") {
		return dsn + " (SQLite, migrated)"
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		return "PostgreSQL"
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath() + " (PostgreSQL)"
}

// tryCommands are the two commands the local-mode banner suggests to try
// a payment. The README's "Two commands" section shows them, run with
// `go run ./cmd/paymentctl` (TestREADMEShowsTheBannersCommands).
func tryCommands() [2]string {
	return [2]string{
		"paymentctl fake pay vbank --pg toss --amount 19900 --register",
		"paymentctl fake deposit --pg toss <the vendor.uid it printed>",
	}
}
