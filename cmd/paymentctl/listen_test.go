package main

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/paymentctl/paymentctl/config"
)

// fakeListener is a listener that only has an address.
type fakeListener struct{ addr *net.TCPAddr }

func (l fakeListener) Accept() (net.Conn, error) { return nil, net.ErrClosed }
func (l fakeListener) Close() error              { return nil }
func (l fakeListener) Addr() net.Addr            { return l.addr }

// listenerOn returns a fakeListener whose address is addr, the empty host
// reading as every interface.
func listenerOn(t *testing.T, addr string) fakeListener {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	if host == "" {
		host = "::"
	}
	a, err := net.ResolveTCPAddr("tcp", net.JoinHostPort(host, port))
	if err != nil {
		t.Fatal(err)
	}
	return fakeListener{a}
}

// fakeSockets is a socketSource that records what was asked of it.
type fakeSockets struct {
	t         *testing.T
	inherited map[string]net.Listener
	listened  []string
}

func (f *fakeSockets) Listen(_, addr string) (net.Listener, error) {
	f.listened = append(f.listened, addr)
	return listenerOn(f.t, addr), nil
}

func (f *fakeSockets) Inherited(_, addr string) (net.Listener, error) {
	ln := f.inherited[addr]
	delete(f.inherited, addr)
	return ln, nil
}

// loadConfig loads a configuration from env alone.
func loadConfig(t *testing.T, env map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.Load(config.LoadOptions{LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestListenAddresses(t *testing.T) {
	tests := []struct {
		mode       config.Mode
		host       string
		api, agent string
	}{
		{config.ModeLocal, "", "127.0.0.1:37821", "127.0.0.1:37820"},
		{config.ModeDev, "", ":37821", "127.0.0.1:37820"},
		{config.ModeReal, "", ":37821", "127.0.0.1:37820"},
		{config.ModeReal, "10.0.0.5", "10.0.0.5:37821", "10.0.0.5:37820"},
		{config.ModeLocal, "0.0.0.0", "0.0.0.0:37821", "0.0.0.0:37820"},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode)+" "+tt.host, func(t *testing.T) {
			// Real mode's secrets are beside the point: the mode is set
			// after loading.
			cfg := loadConfig(t, map[string]string{"PAYMENT_API_HOST": tt.host})
			cfg.Mode = tt.mode
			if got := apiAddr(cfg); got != tt.api {
				t.Errorf("apiAddr = %q, want %q", got, tt.api)
			}
			if got := agentAddr(cfg); got != tt.agent {
				t.Errorf("agentAddr = %q, want %q", got, tt.agent)
			}
		})
	}
}

func TestListenKeepsAnInheritedWideSocket(t *testing.T) {
	tests := []struct {
		name         string
		addr         string
		inherited    string // address the previous process listened on; "" none
		wantAddr     string
		wantListened []string
		wantWarning  bool
	}{
		{name: "nothing inherited", addr: "127.0.0.1:37820",
			wantAddr: "127.0.0.1:37820", wantListened: []string{"127.0.0.1:37820"}},
		{name: "inherited on every interface", addr: "127.0.0.1:37820", inherited: ":37820",
			wantAddr: "[::]:37820", wantWarning: true},
		{name: "inherited on another port", addr: "127.0.0.1:37820", inherited: ":37821",
			wantAddr: "127.0.0.1:37820", wantListened: []string{"127.0.0.1:37820"}},
		{name: "every interface asked for", addr: ":37821", inherited: ":37821",
			wantAddr: "[::]:37821", wantListened: []string{":37821"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeSockets{t: t, inherited: map[string]net.Listener{}}
			if tt.inherited != "" {
				src.inherited[tt.inherited] = listenerOn(t, tt.inherited)
			}
			var logs bytes.Buffer
			ln, err := listen(src, slog.New(slog.NewTextHandler(&logs, nil)), "the updater agent", tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			if got := ln.Addr().String(); got != tt.wantAddr {
				t.Errorf("listening on %s, want %s", got, tt.wantAddr)
			}
			if strings.Join(src.listened, ",") != strings.Join(tt.wantListened, ",") {
				t.Errorf("opened %q, want %q", src.listened, tt.wantListened)
			}
			if warned := strings.Contains(logs.String(), "keeps the socket on every interface"); warned != tt.wantWarning {
				t.Errorf("warned = %v, want %v; logs:\n%s", warned, tt.wantWarning, logs.String())
			}
		})
	}
}

func TestListenAgentWarnsWhenTheMasterCannotReachIt(t *testing.T) {
	tests := []struct {
		name, host, master string
		warn               bool
	}{
		{"master", "", "", false},
		{"slave of a master on this host", "", "127.0.0.1:37830", false},
		{"slave of a master on localhost", "", "localhost:37830", false},
		{"slave of a master elsewhere", "", "10.0.0.5:37820", true},
		{"slave on a shared address", "10.0.0.6", "10.0.0.5:37820", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := loadConfig(t, map[string]string{"PAYMENT_MODE": "dev", "PAYMENT_API_HOST": tt.host, "PAYMENT_UPDATOR_MASTER": tt.master})
			var logs bytes.Buffer
			if _, err := listenAgent(&fakeSockets{t: t}, cfg, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
				t.Fatal(err)
			}
			if warned := strings.Contains(logs.String(), "its master cannot reach it"); warned != tt.warn {
				t.Errorf("warned = %v, want %v; logs:\n%s", warned, tt.warn, logs.String())
			}
		})
	}
}
