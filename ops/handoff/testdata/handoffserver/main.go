// Command handoffserver is the minimal server of the handoff acceptance test.
// It serves, through package handoff:
//
//	POST /echo[?delay=100ms]  answers the request body, after the delay, with X-Pid
//	GET  /health              {"pid":N,"mode":"ok"}
//	POST /upgrade             calls Upgrade: 200, 409 (in progress) or 502 with the error
//
// The build mode, set with -ldflags "-X main.mode=...", makes a bad binary for
// the test to swap in at argv[0]: "exit" inherits the socket and exits with
// status 3 before it is ready, "hang" never becomes ready (its readiness check
// blocks, so the parent's timeout must kill it). Flags cannot tell the
// generations apart, because tableflip starts each one with the same
// arguments and environment. Logs are JSON lines on stderr, which every
// generation inherits.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/paymentctl/paymentctl/ops/handoff"
)

// mode is set at link time only; see the package comment.
var mode = "ok"

func main() {
	os.Exit(run())
}

func run() int {
	listen := flag.String("listen", "127.0.0.1:0", "`address` to listen on (the inheritance key)")
	pidFile := flag.String("pid-file", "", "`path` of the PID file")
	readyTimeout := flag.Duration("ready-timeout", 0, "readiness timeout (0: package default)")
	drain := flag.Duration("drain", 0, "drain window (0: package default)")
	shutdown := flag.Duration("shutdown-timeout", 0, "shutdown timeout (0: package default)")
	flag.Parse()

	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("pid", os.Getpid(), "mode", mode)

	var hs *handoff.Server // set below, before anything is served
	mux := http.NewServeMux()
	mux.HandleFunc("POST /echo", echo)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"pid": os.Getpid(), "mode": mode})
	})
	mux.HandleFunc("POST /upgrade", func(w http.ResponseWriter, r *http.Request) {
		err := hs.Upgrade()
		switch {
		case errors.Is(err, handoff.ErrUpgradeInProgress):
			http.Error(w, err.Error(), http.StatusConflict)
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadGateway)
		default:
			fmt.Fprintln(w, "upgraded")
		}
	})

	ready := handoff.HandlerProbe(mux, "/health")
	if mode == "hang" {
		ready = func(context.Context) error {
			// A deadlocked start-up: it ignores its context, so only the
			// parent's upgrade timeout ends it.
			time.Sleep(time.Hour)
			return errors.New("hang mode woke up")
		}
	}

	var err error
	hs, err = handoff.New(handoff.Options{
		PIDFile:         *pidFile,
		Ready:           ready,
		ReadyTimeout:    *readyTimeout,
		DrainWindow:     *drain,
		ShutdownTimeout: *shutdown,
		Logger:          logger,
	})
	if err != nil {
		logger.Error("start", "error", err)
		return 1
	}
	ln, err := hs.Listen("tcp", *listen)
	if err != nil {
		logger.Error("start", "error", err)
		return 1
	}
	logger.Info("listening", "addr", ln.Addr().String(), "inherited", hs.HasParent())
	if mode == "exit" {
		logger.Error("simulated crash before ready")
		handoff.ReportStartFailure(errors.New("simulated crash before ready"))
		return 3
	}

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := hs.Serve(context.Background(), srv, ln); err != nil {
		logger.Error("serve", "error", err)
		return 1
	}
	return 0
}

func echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if d := r.URL.Query().Get("delay"); d != "" {
		delay, err := time.ParseDuration(d)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		time.Sleep(delay)
	}
	w.Header().Set("X-Pid", fmt.Sprint(os.Getpid()))
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(body)
}
