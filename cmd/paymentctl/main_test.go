package main

import (
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/paymentctl/paymentctl/config"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"paymentctl": func() { os.Exit(int(Main())) },
	})
}

// TestScripts runs the command-line scenarios in testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:  "testdata/script",
		Cmds: scriptCmds(),
		Setup: func(env *testscript.Env) error {
			// A clean environment: no PAYMENT_* from the developer's shell.
			// Every listening port gets a free one, so that no script
			// touches a default port, where a real `paymentctl serve` may
			// run; scripts set their own (freeport) when they need to know it.
			return setFreePorts(env)
		},
	})
}

// setFreePorts sets every setting of a port paymentctl listens on
// (listenSettings) to a free loopback port in env.
func setFreePorts(env *testscript.Env) error {
	names := listenSettings()
	// Hold every listener until all ports are picked, so they differ.
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for _, name := range names {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		lns = append(lns, ln)
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		if name == "PAYMENT_METRICS_ADDR" {
			port = "127.0.0.1:" + port
		}
		env.Setenv(name, port)
	}
	return nil
}

// listenSettings returns the environment variables of every port
// paymentctl listens on: each *port setting but PostgreSQL's (a port it
// dials), and the metrics address. Read from the settings table, so that a
// new listener cannot be forgotten here.
func listenSettings() []string {
	var names []string
	for _, s := range config.Settings() {
		if s.Key == "metrics.addr" || strings.HasSuffix(s.Key, "port") && !strings.HasPrefix(s.Key, "postgres.") {
			names = append(names, s.Env)
		}
	}
	return names
}

// TestListenSettings: the scripts' free ports cover every default port a
// server or a fake of paymentctl listens on.
func TestListenSettings(t *testing.T) {
	got := listenSettings()
	for _, want := range []string{"PAYMENT_API_PORT", "PAYMENT_UPDATOR_PORT", "PAYMENT_FAKE_IAMPORT_PORT",
		"PAYMENT_FAKE_TOSS_PORT", "PAYMENT_FAKE_PORTONE_PORT", "PAYMENT_METRICS_ADDR"} {
		if !slices.Contains(got, want) {
			t.Errorf("listenSettings() = %v, missing %s", got, want)
		}
	}
	if slices.Contains(got, "PAYMENT_POSTGRES_PORT") {
		t.Errorf("listenSettings() = %v, want no PAYMENT_POSTGRES_PORT (a port paymentctl dials)", got)
	}
}
