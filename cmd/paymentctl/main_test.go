package main

import (
	"net"
	"os"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
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

// setFreePorts sets the settings of every port paymentctl listens on by
// default (37821, 37820, 10851, 30771 and 9464) to free loopback ports in
// env.
func setFreePorts(env *testscript.Env) error {
	names := []string{"PAYMENT_API_PORT", "PAYMENT_UPDATOR_PORT", "PAYMENT_FAKE_IAMPORT_PORT", "PAYMENT_FAKE_TOSS_PORT", "PAYMENT_METRICS_ADDR"}
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
