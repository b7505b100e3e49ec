package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

// hosts is a resolver over a fixed table; a name outside it fails the test,
// so no test ever asks real DNS.
func hosts(t *testing.T, table map[string][]string) func(context.Context, string) ([]netip.Addr, error) {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		addrs, ok := table[host]
		if !ok {
			t.Errorf("unexpected lookup of %q", host)
			return nil, fmt.Errorf("lookup %s: no such host", host)
		}
		var out []netip.Addr
		for _, a := range addrs {
			out = append(out, netip.MustParseAddr(a))
		}
		return out, nil
	}
}

// loopbackListener listens on a free loopback port and passes on the
// connections it accepts.
func loopbackListener(t *testing.T) (port string, accepted <-chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			ch <- c
		}
	}()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), ch
}

func TestDialerRefusesBeforeConnecting(t *testing.T) {
	port, accepted := loopbackListener(t)
	lookup := hosts(t, map[string][]string{
		"rebind.example":  {"127.0.0.1"},
		"private.example": {"10.0.0.7", "192.168.0.7"},
		"mapped.example":  {"::ffff:127.0.0.1"},
		"meta.example":    {"169.254.169.254"},
	})
	strict := &Dialer{Policy: New(Options{}), Lookup: lookup}
	tests := []struct {
		name    string
		d       *Dialer
		network string
		addr    string
		reason  string
	}{
		{"name resolving to loopback", strict, "tcp", "rebind.example:" + port, "loopback address"},
		{"name resolving to mapped loopback", strict, "tcp", "mapped.example:" + port, "loopback address"},
		{"name resolving to private", strict, "tcp", "private.example:" + port, "private address"},
		{"name resolving to metadata", strict, "tcp", "meta.example:80", "cloud metadata endpoint"},
		{"metadata name, not resolved", strict, "tcp", "metadata.google.internal:80", "cloud metadata endpoint"},
		{"localhost, not resolved", strict, "tcp", "localhost:" + port, "loopback name"},
		{"loopback literal", strict, "tcp", "127.0.0.1:" + port, "loopback address"},
		{"decimal loopback", strict, "tcp", "2130706433:" + port, "loopback address"},
		{"IPv6 loopback", strict, "tcp", "[::1]:" + port, "loopback address"},
		{"unspecified", strict, "tcp", "0.0.0.0:" + port, "unspecified address"},
		{"udp", strict, "udp", "example.com:53", "network other than TCP"},
		{"metadata despite allowed", &Dialer{Policy: New(Options{Allowed: cidrs(t, "0.0.0.0/0"), Loopback: true}), Lookup: lookup},
			"tcp", "meta.example:80", "cloud metadata endpoint"},
		{"loopback outside allowed", &Dialer{Policy: New(Options{Allowed: cidrs(t, "10.0.0.0/8")}), Lookup: lookup},
			"tcp", "rebind.example:" + port, "loopback address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := tt.d.DialContext(context.Background(), tt.network, tt.addr)
			if err == nil {
				conn.Close()
				t.Fatalf("DialContext(%s, %s) connected, want a refusal", tt.network, tt.addr)
			}
			var r *Refusal
			if !errors.As(err, &r) || r.Reason != tt.reason {
				t.Errorf("DialContext(%s, %s) = %v, want a refusal for %q", tt.network, tt.addr, err, tt.reason)
			}
		})
	}

	// Nothing reached the listener: the first connection it accepts is the
	// probe's.
	probe, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	select {
	case c := <-accepted:
		defer c.Close()
		if c.RemoteAddr().String() != probe.LocalAddr().String() {
			t.Errorf("the listener accepted %s before the probe %s: a refused dial connected", c.RemoteAddr(), probe.LocalAddr())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the probe was not accepted")
	}
}

func TestDialerConnectsWhereAllowed(t *testing.T) {
	port, accepted := loopbackListener(t)
	lookup := hosts(t, map[string][]string{
		// A refused address first: skipped without a connection.
		"svc.internal.example": {"10.0.0.7", "127.0.0.1"},
		"localhost":            {"127.0.0.1"},
	})
	tests := []struct {
		name string
		d    *Dialer
		addr string
	}{
		{"allowed network, by name", &Dialer{Policy: New(Options{Allowed: cidrs(t, "127.0.0.0/8")}), Lookup: lookup}, "svc.internal.example:" + port},
		{"allowed network, literal", &Dialer{Policy: New(Options{Allowed: cidrs(t, "127.0.0.0/8")}), Lookup: lookup}, "127.0.0.1:" + port},
		{"loopback option, localhost", &Dialer{Policy: New(Options{Loopback: true}), Lookup: lookup}, "localhost:" + port},
		{"loopback option, short form", &Dialer{Policy: New(Options{Loopback: true}), Lookup: lookup, Timeout: 5 * time.Second}, "127.1:" + port},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := tt.d.DialContext(context.Background(), "tcp", tt.addr)
			if err != nil {
				t.Fatalf("DialContext(tcp, %s) = %v, want a connection", tt.addr, err)
			}
			defer conn.Close()
			if got := conn.RemoteAddr().String(); got != "127.0.0.1:"+port {
				t.Errorf("connected to %s, want 127.0.0.1:%s", got, port)
			}
			select {
			case c := <-accepted:
				c.Close()
			case <-time.After(5 * time.Second):
				t.Fatal("the listener accepted nothing")
			}
		})
	}
}

func TestDialerControlChecksTheDialedAddress(t *testing.T) {
	d := &Dialer{Policy: New(Options{Allowed: cidrs(t, "10.0.0.0/8")})}
	tests := []struct {
		addr   string
		reason string
	}{
		{"10.1.2.3:443", ""},
		{"93.184.215.14:443", ""},
		{"127.0.0.1:443", "loopback address"},
		{"[::ffff:127.0.0.1]:443", "loopback address"},
		{"[fe80::1%eth0]:443", "link-local address"},
		{"169.254.169.254:80", "cloud metadata endpoint"},
		{"not-an-address", "unreadable address"},
	}
	for _, tt := range tests {
		if got := reasonOf(t, d.control("tcp4", tt.addr, nil)); got != tt.reason {
			t.Errorf("control(%q) reason = %q, want %q", tt.addr, got, tt.reason)
		}
	}
}
