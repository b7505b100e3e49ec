// Command testreport reads `go test -json` on stdin and prints what CI needs
// to know: each package's result, the counts of passed, failed and skipped
// tests, the PostgreSQL-backed tests, and the whole output of every failed
// test (and of every package that failed outside a test, such as a build
// error or a panic), so a failure is never buried under the logs of tests
// that passed.
//
// Usage:
//
//	go test -json ./... | go run ./scripts/testreport -log test.log
//
// The -log file receives the plain test output, as `go test -v` prints it.
// The exit status is 1 when a test or package failed or the stream broke.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

// report gathers the events of one run.
type report struct {
	outputs map[string][]string // "pkg\x00test" (test empty for the package) -> output lines of the current run
	failed  []string            // failed tests and packages, keys of outputs, in order, once each
	// failedOutputs keeps the output of each failed run of a key (with
	// -count > 1 a later passing run must not erase it).
	failedOutputs map[string][]string
	packages      []string // "ok  pkg 1.2s" / "FAIL pkg 3.4s" lines
	passed        int
	skipped       int
	postgres      map[string]string // PostgreSQL-backed test -> last action
}

func main() {
	if err := run(os.Stdin, os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(1)
	}
}

var errFailed = errors.New("tests failed")

func run(in io.Reader, out io.Writer, args []string) error {
	fs := flag.NewFlagSet("testreport", flag.ContinueOnError)
	logPath := fs.String("log", "", "write the plain test output to this file")
	postgres := fs.String("postgres", `(?i)postgres`, "regexp naming the PostgreSQL-backed tests")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pgRE, err := regexp.Compile(*postgres)
	if err != nil {
		return fmt.Errorf("-postgres: %w", err)
	}
	var log io.Writer = io.Discard
	if *logPath != "" {
		f, err := os.Create(*logPath)
		if err != nil {
			return err
		}
		defer f.Close()
		log = f
	}
	r := &report{outputs: map[string][]string{}, failedOutputs: map[string][]string{}, postgres: map[string]string{}}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if err := json.Unmarshal(line, &ev); err != nil || ev.Action == "" {
			// go test prints build failures as plain text.
			fmt.Fprintln(log, string(line))
			r.add(event{Action: "output", Package: "(build)", Output: string(line) + "\n"})
			continue
		}
		switch ev.Action {
		case "output":
			io.WriteString(log, ev.Output)
		case "build-output", "build-fail":
			// Since Go 1.24 compile errors come as events of their own.
			io.WriteString(log, ev.Output)
			ev = event{Action: "output", Package: "(build)", Output: ev.Output}
		}
		r.add(ev)
		if ev.Test != "" && pgRE.MatchString(ev.Test) && (ev.Action == "pass" || ev.Action == "fail" || ev.Action == "skip") {
			r.postgres[ev.Package+" "+ev.Test] = ev.Action
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read the test stream: %w", err)
	}
	r.print(out)
	if len(r.failed) > 0 {
		return errFailed
	}
	return nil
}

func key(pkg, test string) string { return pkg + "\x00" + test }

func (r *report) add(ev event) {
	k := key(ev.Package, ev.Test)
	switch ev.Action {
	case "output":
		r.outputs[k] = append(r.outputs[k], ev.Output)
		if ev.Package == "(build)" && !slices.Contains(r.failed, k) && strings.TrimSpace(ev.Output) != "" {
			r.failed = append(r.failed, k)
		}
	case "pass":
		if ev.Test == "" {
			r.packages = append(r.packages, fmt.Sprintf("ok   %s %.1fs", ev.Package, ev.Elapsed))
		} else {
			r.passed++
		}
		delete(r.outputs, k)
	case "skip":
		if ev.Test == "" {
			r.packages = append(r.packages, fmt.Sprintf("ok   %s (no tests run)", ev.Package))
		} else {
			r.skipped++
		}
		delete(r.outputs, k)
	case "fail":
		if ev.Test == "" {
			r.packages = append(r.packages, fmt.Sprintf("FAIL %s %.1fs", ev.Package, ev.Elapsed))
		}
		if !slices.Contains(r.failed, k) {
			r.failed = append(r.failed, k)
		}
		r.failedOutputs[k] = append(r.failedOutputs[k], r.outputs[k]...)
		delete(r.outputs, k)
	}
}

// print writes the summary; the failed tests' output comes last, where a
// reader of a truncated CI log looks first.
func (r *report) print(w io.Writer) {
	for _, p := range r.packages {
		fmt.Fprintln(w, p)
	}
	pg := slices.Sorted(func(yield func(string) bool) {
		for name := range r.postgres {
			if !yield(name) {
				return
			}
		}
	})
	pgPassed, pgSkipped := 0, 0
	for _, name := range pg {
		switch r.postgres[name] {
		case "pass":
			pgPassed++
		case "skip":
			pgSkipped++
		}
	}
	leaves := r.leaves()
	failedTests := 0
	for _, k := range leaves {
		if _, test, _ := strings.Cut(k, "\x00"); test != "" {
			failedTests++
		}
	}
	fmt.Fprintf(w, "\nPostgreSQL-backed tests: %d passed, %d skipped\n", pgPassed, pgSkipped)
	fmt.Fprintf(w, "tests: %d passed, %d failed, %d skipped\n", r.passed, failedTests, r.skipped)
	if len(r.failed) == 0 {
		return
	}
	fmt.Fprintln(w, "\nfailed:")
	for _, k := range leaves {
		pkg, test, _ := strings.Cut(k, "\x00")
		fmt.Fprintf(w, "  %s %s\n", pkg, test)
	}
	for _, k := range leaves {
		pkg, test, _ := strings.Cut(k, "\x00")
		lines := r.failedOutputs[k]
		if len(lines) == 0 {
			lines = r.outputs[k] // build errors have no fail event of their own
		}
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n--- output of %s %s\n", pkg, test)
		// The end of a long output holds the failure; keep the last lines.
		const keep = 150
		if len(lines) > keep {
			fmt.Fprintf(w, "[%d earlier lines in the log]\n", len(lines)-keep)
			lines = lines[len(lines)-keep:]
		}
		for _, l := range lines {
			io.WriteString(w, l)
		}
	}
}

// leaves returns the failures worth reading: a test whose subtests failed
// is left out (they say why), and so is a package in which a test failed.
func (r *report) leaves() []string {
	return slices.DeleteFunc(slices.Clone(r.failed), func(k string) bool {
		prefix := k + "/"
		if strings.HasSuffix(k, "\x00") {
			prefix = k // the package: any test of it
		}
		return slices.ContainsFunc(r.failed, func(o string) bool {
			return o != k && strings.HasPrefix(o, prefix)
		})
	})
}
