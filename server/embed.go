package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// Running is an App served on a listener: what Start returns to tests and
// to client services that embed paymentctl in their own test suites.
type Running struct {
	*App
	// URL is the API's base URL, e.g. http://127.0.0.1:41234.
	URL string

	srv    *http.Server
	cancel context.CancelFunc
	done   chan error
}

// Start assembles an App, serves it on addr ("127.0.0.1:0" when empty)
// and starts its workers; in local mode the fake PGs' webhooks are wired to
// it. Close stops everything.
func Start(ctx context.Context, opts Options, addr string) (*Running, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	app, err := NewApp(ctx, opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = app.Close(ctx)
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if err := app.Start(runCtx); err != nil {
		cancel()
		_ = ln.Close()
		_ = app.Close(ctx)
		return nil, err
	}
	r := &Running{
		App:    app,
		URL:    "http://" + ln.Addr().String(),
		srv:    app.HTTPServer(),
		cancel: cancel,
		done:   make(chan error, 1),
	}
	app.WireWebhooks(r.URL)
	go func() { r.done <- r.srv.Serve(ln) }()
	return r, nil
}

// Close shuts the server down gracefully within ctx, then the App;
// GET /readyz answers 503 from the start.
func (r *Running) Close(ctx context.Context) error {
	r.App.SetDraining()
	err := r.srv.Shutdown(ctx)
	if serveErr := <-r.done; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	r.cancel()
	return errors.Join(err, r.App.Close(ctx))
}
