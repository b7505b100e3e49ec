package webhook

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/paymentctl/paymentctl/server/egress"
)

// rebindDialer is an egress dialer whose resolver maps every name to
// 127.0.0.1, as a hostile DNS server would after registration.
func rebindDialer(t *testing.T, allowed ...string) func(context.Context, string, string) (net.Conn, error) {
	var nets []*net.IPNet
	for _, s := range allowed {
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			t.Fatal(err)
		}
		nets = append(nets, n)
	}
	d := &egress.Dialer{
		Policy: egress.New(egress.Options{Allowed: nets}),
		Lookup: func(_ context.Context, host string) ([]netip.Addr, error) {
			if host != "rebind.example" {
				t.Errorf("unexpected lookup of %q", host)
			}
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		},
	}
	return d.DialContext
}

func TestDeliveryDialPolicy(t *testing.T) {
	tests := []struct {
		name      string
		allowed   []string
		delivered bool
	}{
		{"name resolving to loopback is refused at dial time", nil, false},
		{"allowed network is reached", []string{"127.0.0.0/8"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sqliteStore(t)
			rcv := newReceiver(t, nil)
			srv := httptest.NewServer(rcv)
			defer srv.Close()
			port := srv.Listener.Addr().(*net.TCPAddr).Port
			payloads := newFakePayloads()
			id := payloads.add(fmt.Sprintf("http://rebind.example:%d/hook", port), []byte("v1.body"))
			opts := queueOptions(s, noProcessor(t), payloads)
			opts.DialContext = rebindDialer(t, tt.allowed...)
			q := startQueue(t, opts)

			enqueueDelivery(t, s, q, id)
			waitFor(t, "an attempt", func() bool { return len(payloads.attemptsOf(id)) > 0 })
			got := payloads.attemptsOf(id)[0]
			if tt.delivered {
				if got.Status != http.StatusOK || rcv.count(id) == 0 {
					t.Errorf("attempt = %+v, receiver saw %d requests; want a delivery", got, rcv.count(id))
				}
				return
			}
			if got.Status != 0 || !strings.Contains(got.Err, "egress refused 127.0.0.1: loopback address") {
				t.Errorf("attempt = %+v, want no reply and a loopback refusal", got)
			}
			if n := rcv.count(id); n != 0 {
				t.Errorf("the receiver got %d requests, want none", n)
			}
		})
	}
}

func TestDeliveryDoesNotFollowRedirects(t *testing.T) {
	s := sqliteStore(t)
	var followed atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed.Add(1) }))
	defer target.Close()
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer redirect.Close()
	payloads := newFakePayloads()
	id := payloads.add(redirect.URL, []byte("v1.body"))
	opts := queueOptions(s, noProcessor(t), payloads)
	opts.DialContext = rebindDialer(t, "127.0.0.0/8")
	q := startQueue(t, opts)

	enqueueDelivery(t, s, q, id)
	waitFor(t, "an attempt", func() bool { return len(payloads.attemptsOf(id)) > 0 })
	if got := payloads.attemptsOf(id)[0]; got.Status != http.StatusTemporaryRedirect {
		t.Errorf("attempt = %+v, want the 307 recorded", got)
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}
