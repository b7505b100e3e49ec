package server

import (
	"log/slog"
	"net/http"
	"time"
)

// maxReadHeaderTimeout bounds the reading of a request's headers, within
// api.read_timeout: a client that opens connections and sends nothing is
// dropped sooner than one slowly sending a body.
const maxReadHeaderTimeout = 10 * time.Second

// HTTPServer returns the http.Server of the API with the configured
// connection limits, so that slow or idle clients cannot hold sockets
// and goroutines open without end:
//
//   - api.read_timeout bounds reading a whole request, headers and body
//     (headers within at most 10 s of it);
//   - api.write_timeout bounds the time from the end of a request's
//     headers to the end of its response. It exceeds
//     config.PaymentFlowTimeout, the bound of a registration or cancel
//     that waits on PGs, which the configuration checks;
//   - api.idle_timeout bounds how long a keep-alive connection waits for
//     its next request.
//
// Its errors (TLS handshakes, hijacked connections, …) go to the App's
// logger at WARN. `paymentctl serve` serves it behind the socket handoff,
// Start on a loopback port.
func (a *App) HTTPServer() *http.Server {
	api := a.Config.API
	return &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: min(maxReadHeaderTimeout, api.ReadTimeout),
		ReadTimeout:       api.ReadTimeout,
		WriteTimeout:      api.WriteTimeout,
		IdleTimeout:       api.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
}
