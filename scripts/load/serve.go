package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/server"
)

// serve runs the payment server as `paymentctl serve` assembles it (same
// configuration from the environment, same App), without the socket
// handoff, plus net/http/pprof on a separate loopback listener so the load
// run can take CPU profiles of the server under load. It exists only for
// profiling: paymentctl itself never serves pprof.
func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	pprofAddr := fs.String("pprof", "127.0.0.1:0", "loopback address of the pprof listener")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(config.LoadOptions{LookupEnv: os.LookupEnv})
	if err != nil {
		return err
	}
	gin.SetMode(gin.ReleaseMode)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.API.Host, strconv.Itoa(cfg.API.Port)))
	if err != nil {
		return err
	}
	app, err := server.NewApp(ctx, server.Options{Config: cfg, Logger: log})
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
	app.WireWebhooks("http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)))

	pln, err := net.Listen("tcp", *pprofAddr)
	if err != nil {
		ln.Close()
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	psrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go psrv.Serve(pln)
	defer psrv.Close()
	fmt.Fprintf(os.Stderr, "load serve: api %s, pprof http://%s/debug/pprof/\n", ln.Addr(), pln.Addr())

	srv := &http.Server{Handler: app.Handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
