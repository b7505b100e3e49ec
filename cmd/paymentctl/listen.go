package main

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/paymentctl/paymentctl/config"
)

// socketSource opens listening sockets, or takes them over from the
// process that handed off to this one; *handoff.Server is one.
type socketSource interface {
	Listen(network, addr string) (net.Listener, error)
	Inherited(network, addr string) (net.Listener, error)
}

// apiAddr is where the API listens: on api.host when it is set; else on
// loopback in local mode, which is for this machine only, and on every
// interface in dev and real mode.
func apiAddr(cfg *config.Config) string {
	host := cfg.API.Host
	if host == "" && cfg.Mode == config.ModeLocal {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(cfg.API.Port))
}

// agentAddr is where the updater agent listens: on api.host when it is
// set, else on loopback in every mode. Its verbs stage and switch
// binaries, so other hosts reach it only when asked: a cluster whose
// master and slaves are on different hosts sets api.host to an address
// they share.
func agentAddr(cfg *config.Config) string {
	host := cfg.API.Host
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(cfg.Updator.Port))
}

// listen opens addr for what ("the API", "the updater agent"). After a
// handoff from a process that listened on every interface of the same
// port (an earlier version, which did so when api.host was empty, or an
// earlier api.host), it keeps that socket, because a new one on a single
// interface cannot bind beside it; the warning says that a restart, not
// a handoff, narrows it.
func listen(src socketSource, log *slog.Logger, what, addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		ln, err := src.Inherited("tcp", net.JoinHostPort("", port))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if ln != nil {
			log.Warn(what+" keeps the socket on every interface that the previous process handed over; restart paymentctl (a handoff keeps it) to listen on "+addr+" only",
				"addr", ln.Addr().String())
			return ln, nil
		}
	}
	ln, err := src.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return ln, nil
}

// isLoopback reports whether a listener's address is on loopback only.
func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
