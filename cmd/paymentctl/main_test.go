package main

import (
	"os"
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
		Dir: "testdata/script",
		// freeport, waitfile, capture and httpget (fakeScriptCmds).
		Cmds: fakeScriptCmds(),
		Setup: func(env *testscript.Env) error {
			// A clean environment: no PAYMENT_* from the developer's shell.
			return nil
		},
	})
}
