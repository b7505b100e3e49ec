package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/paymentctl/paymentctl/ops/handoff"
)

// checkPprofAddr accepts only a loopback host:port for `serve
// --pprof-addr`: profiles show memory contents and cost CPU, so they are
// for an operator on the machine (or an SSH tunnel), never the network.
func checkPprofAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return &usageError{fmt.Errorf("--pprof-addr %q: want host:port on loopback, e.g. 127.0.0.1:6060", addr)}
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return &usageError{fmt.Errorf("--pprof-addr %q: profiles are served on loopback only (127.0.0.1, ::1 or localhost)", addr)}
	}
	return nil
}

// servePprof serves Go's runtime profiles (net/http/pprof) on addr until
// the returned server is closed. The listener comes from the handoff, so
// a new process takes it over like the API's.
func servePprof(hs *handoff.Server, addr string, log *slog.Logger) (*http.Server, error) {
	ln, err := hs.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// A CPU profile or trace answers after its ?seconds= (pprof refuses
	// one as long as WriteTimeout): long enough for any load run.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Minute, IdleTimeout: 2 * time.Minute}
	go func() {
		// Serve only fails with its listener; the API is unaffected.
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("pprof server stopped", "err", err)
		}
	}()
	log.Info("pprof serving", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	return srv, nil
}
