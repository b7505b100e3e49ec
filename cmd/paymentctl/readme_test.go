package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// readmeSection returns the README's text between the HTML comments
// <!-- name:start --> and <!-- name:end -->.
func readmeSection(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "<!-- "+name+":start -->")
	section, _, ok2 := strings.Cut(rest, "<!-- "+name+":end -->")
	if !ok || !ok2 {
		t.Fatalf("README.md has no %s section", name)
	}
	return section
}

// consoleBlock is one ```console block of the README: the command after
// "$ ./paymentctl " (empty for a block of log lines only) and the lines it
// shows.
type consoleBlock struct {
	args  []string
	lines []string
}

// consoleBlocks parses the ```console blocks of text.
func consoleBlocks(text string) []consoleBlock {
	var blocks []consoleBlock
	for _, part := range strings.Split(text, "```console\n")[1:] {
		body, _, _ := strings.Cut(part, "```")
		lines := strings.Split(strings.TrimRight(body, "\n"), "\n")
		var b consoleBlock
		if cmd, ok := strings.CutPrefix(lines[0], "$ ./paymentctl "); ok {
			b.args, lines = strings.Fields(cmd), lines[1:]
		}
		b.lines = lines
		blocks = append(blocks, b)
	}
	return blocks
}

// lockedWriter is a buffer that a command writes while the test reads it.
type lockedWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestREADMEWalkthrough runs the README's "Simulating payments locally"
// walkthrough (the fake-walkthrough section) and checks that its console
// blocks show what the commands print: their standard output line for
// line, and every log line the README quotes. Values that differ from run
// to run (ports, ids, account numbers, dates, times and durations) are
// compared by their shape.
func TestREADMEWalkthrough(t *testing.T) {
	blocks := consoleBlocks(readmeSection(t, "fake-walkthrough"))
	if len(blocks) != 4 || strings.Join(blocks[0].args, " ") != "fake" || blocks[1].args[0] != "fake" || blocks[2].args[0] != "fake" || blocks[3].args != nil {
		t.Fatalf("the walkthrough's console blocks are no longer fake, fake pay, fake deposit and the log: %+v", blocks)
	}
	// Free ports, shown as the defaults the README prints: a real
	// `paymentctl serve` may hold the defaults.
	iamportPort, tossPort, portonePort := freePort(t), freePort(t), freePort(t)
	env := map[string]string{"PAYMENT_FAKE_IAMPORT_PORT": iamportPort, "PAYMENT_FAKE_TOSS_PORT": tossPort, "PAYMENT_FAKE_PORTONE_PORT": portonePort}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	norm := normalizer(map[string]string{iamportPort: "10851", tossPort: "30771", portonePort: "10861"})

	// First terminal: the fakes, until the end of the test.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fakeOut, fakeErr := &lockedWriter{}, &lockedWriter{}
	ready := filepath.Join(t.TempDir(), "fake.env")
	done := make(chan exitCode, 1)
	go func() {
		f := &factory{IO: &iostreams{In: &bytes.Buffer{}, Out: fakeOut, ErrOut: fakeErr}, LookupEnv: lookup, Now: time.Now}
		done <- run(ctx, f, append(blocks[0].args, "--ready-file", ready))
	}()
	until(t, "the fakes to listen", time.Minute, func() bool {
		_, err := os.Stat(ready)
		return err == nil
	})

	// Second terminal: pay, then deposit into the account it printed.
	command := func(args []string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		f := &factory{IO: &iostreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}, LookupEnv: lookup, Now: time.Now}
		if code := run(ctx, f, args); code != exitOK {
			t.Fatalf("paymentctl %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
		}
		return out.String()
	}
	pay := command(blocks[1].args)
	checkLines(t, "fake pay", blocks[1].lines, norm(pay))
	uid := regexp.MustCompile(`(?m)^vendor\.uid +(\S+)$`).FindStringSubmatch(pay)
	if uid == nil {
		t.Fatalf("fake pay printed no vendor.uid:\n%s", pay)
	}
	depositArgs := append(append([]string(nil), blocks[2].args[:len(blocks[2].args)-1]...), uid[1])
	checkLines(t, "fake deposit", blocks[2].lines, norm(command(depositArgs)))

	// Both webhooks (ready, then paid) have been logged; then Ctrl-C.
	until(t, "the webhooks to be logged", time.Minute, func() bool {
		return strings.Count(fakeErr.String(), "msg=webhook ") >= 2
	})
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("paymentctl fake: exit %d:\n%s", code, fakeErr.String())
	}

	// The first block shows the fakes' standard output, then their first
	// log lines; the last block more of their log.
	var shown, logged []string
	for _, l := range blocks[0].lines {
		if strings.HasPrefix(l, "time=") {
			logged = append(logged, l)
		} else {
			shown = append(shown, l)
		}
	}
	checkLines(t, "fake", shown, norm(fakeOut.String()))
	logs := strings.Split(norm(fakeErr.String()), "\n")
	for _, l := range append(logged, blocks[3].lines...) {
		if want := norm(l); !contains(logs, want) {
			t.Errorf("the README quotes the log line\n\t%s\nwhich paymentctl fake did not write; it wrote:\n\t%s", want, strings.Join(logs, "\n\t"))
		}
	}
	for _, msg := range []string{`msg="shutting down"`, "msg=stopped"} {
		if !strings.Contains(fakeErr.String(), msg) {
			t.Errorf("after Ctrl-C the log lacks %s, which the README promises", msg)
		}
	}
}

// normalizer returns a function that replaces what differs from run to run
// with placeholders, and the given ports with the README's.
func normalizer(ports map[string]string) func(string) string {
	type rule struct {
		re   *regexp.Regexp
		with string
	}
	rules := []rule{
		{regexp.MustCompile(`time=\S+`), "time=T"},
		{regexp.MustCompile(`duration=\S+`), "duration=D"},
		{regexp.MustCompile(`imp_\d+`), "imp_UID"},
		{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), "UUID"},
		{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00`), "DUE"},
		{regexp.MustCompile(`\b\d{14}\b`), "ACCOUNT"},
	}
	return func(s string) string {
		for actual, readme := range ports {
			s = strings.ReplaceAll(s, "127.0.0.1:"+actual, "127.0.0.1:"+readme)
		}
		for _, r := range rules {
			s = r.re.ReplaceAllString(s, r.with)
		}
		return s
	}
}

// checkLines compares the README's lines of what a command prints with its
// normalized output.
func checkLines(t *testing.T, what string, readme []string, got string) {
	t.Helper()
	norm := normalizer(nil)
	want := norm(strings.Join(readme, "\n"))
	if got = strings.TrimRight(got, "\n"); got != want {
		t.Errorf("the README shows for %s:\n%s\nbut it printed:\n%s", what, want, got)
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// TestREADMEShowsTheBannersCommands: the README's "Two commands" section
// tells to try a payment with the commands the local-mode banner prints.
func TestREADMEShowsTheBannersCommands(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range tryCommands() {
		want := "go run ./cmd/" + c
		if !strings.Contains(string(data), "\n"+want+"\n") {
			t.Errorf("README.md lacks the line %q, which serve's banner suggests", want)
		}
	}
}
