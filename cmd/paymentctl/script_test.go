package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// scriptCmds are the testscript commands of testdata/script beyond the
// built-in ones:
//
//	freeport VAR...     set each VAR to a free loopback TCP port
//	waitfile FILE       wait (up to waitfileLimit) until FILE exists
//	capture VAR REGEXP  set VAR to the first group of REGEXP in the last stdout
//	httpget URL FILE    GET URL into FILE; fails unless the answer is 200
//	busyport VAR        set VAR to a loopback TCP port held busy until the script ends
//	exitcode N PROG ARGS...  run PROG like exec; fails unless it exits with status N
func scriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(*testscript.TestScript, bool, []string){
		"busyport": scriptBusyport,
		"exitcode": scriptExitcode,
		"freeport": scriptFreeport,
		"waitfile": scriptWaitfile,
		"capture":  scriptCapture,
		"httpget":  scriptHTTPGet,
	}
}

func scriptHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: httpget URL FILE")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(args[0])
	if err != nil {
		if !neg {
			ts.Fatalf("GET %s: %v", args[0], err)
		}
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	ts.Check(err)
	if ok := resp.StatusCode == http.StatusOK; ok == neg {
		ts.Fatalf("GET %s: %s", args[0], resp.Status)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), body, 0o644))
}

func scriptExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N PROG ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = exit.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

func scriptBusyport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: busyport VAR")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	ts.Defer(func() { ln.Close() })
	ts.Setenv(args[0], strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
}

func scriptFreeport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: freeport VAR...")
	}
	// Hold every listener until all ports are picked, so they differ.
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for _, name := range args {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		lns = append(lns, ln)
		ts.Setenv(name, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
}

// waitfileLimit bounds waitfile. A server started under -race on a loaded
// machine may take many seconds to be ready; the wait ends as soon as the
// file appears, so a generous bound costs a passing test nothing.
const waitfileLimit = 2 * time.Minute

func scriptWaitfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(waitfileLimit)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not appear within %s", args[0], waitfileLimit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func scriptCapture(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: capture VAR REGEXP")
	}
	re, err := regexp.Compile(`(?m)` + args[1])
	ts.Check(err)
	m := re.FindStringSubmatch(ts.ReadFile("stdout"))
	if len(m) < 2 {
		ts.Fatalf("no match for %q in stdout", args[1])
	}
	ts.Setenv(args[0], m[1])
}
