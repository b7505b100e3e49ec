package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// Dialer opens TCP connections to the addresses its Policy allows. Use its
// DialContext as an http.Transport's (without a proxy, which would be
// dialed instead of the destination). The zero value dials with the zero
// policy and the system resolver.
type Dialer struct {
	// Policy decides; nil is the zero policy.
	Policy *Policy
	// Lookup resolves a host name; nil means net.DefaultResolver. Tests
	// inject a fixed table.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	// Timeout bounds each connection attempt; zero leaves it to ctx.
	Timeout time.Duration
}

// DialContext connects to address (host:port) over network (tcp, tcp4 or
// tcp6). It refuses a host CheckHost refuses, resolves a name, and tries
// the addresses CheckAddr allows in turn, checking each once more as the
// socket connects. When none is allowed the error wraps a *Refusal and no
// connection was attempted.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("dial %s %s: %w", network, address, &Refusal{Reason: "network other than TCP"})
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	name, addr, reason := d.Policy.classify(host)
	if reason != "" {
		dest := name
		if addr.IsValid() {
			dest = addr.String()
		}
		return nil, fmt.Errorf("dial %s: %w", address, &Refusal{Dest: dest, Reason: reason})
	}
	addrs := []netip.Addr{addr}
	if !addr.IsValid() {
		if addrs, err = d.lookup(ctx, name); err != nil {
			return nil, fmt.Errorf("dial %s: %w", address, err)
		}
	}
	dialer := net.Dialer{Timeout: d.Timeout, Control: d.control}
	var errs []error
	for _, a := range addrs {
		a = a.Unmap()
		if err := d.Policy.CheckAddr(a); err != nil {
			errs = append(errs, err)
			continue
		}
		if network == "tcp4" && !a.Is4() || network == "tcp6" && a.Is4() {
			continue
		}
		conn, err := dialer.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("dial %s %s: no address of the family", network, address)
	}
	return nil, fmt.Errorf("dial %s: %w", address, errors.Join(errs...))
}

// lookup resolves host with Lookup or the system resolver.
func (d *Dialer) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if d.Lookup != nil {
		return d.Lookup(ctx, host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// control checks the address the socket is about to connect to: the last
// word, whatever resolved it.
func (d *Dialer) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &Refusal{Dest: address, Reason: "unreadable address"}
	}
	return d.Policy.CheckAddr(ap.Addr())
}
