package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/ops/updater"
)

// fakeMaster answers the update verb with a fixed status and body, and
// checks that the request is signed with the default system password.
func fakeMaster(t *testing.T, status int, body string) *config.Config {
	t.Helper()
	key, _ := updater.DeriveKey("samchon")
	v := updater.NewVerifier(key, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		if err := v.Verify(r, raw); err != nil || r.URL.Path != "/v1/update" {
			t.Errorf("request %s: %v", r.URL.Path, err)
		}
		if !bytes.Contains(raw, []byte(`"by":"tester@host"`)) || !bytes.Contains(raw, []byte(`"ref":"v1.4.0"`)) {
			t.Errorf("request body %s", raw)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	env := map[string]string{"PAYMENT_UPDATOR_PORT": port}
	cfg, err := config.Load(config.LoadOptions{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func runTestUpdate(t *testing.T, cfg *config.Config) (string, error) {
	var out bytes.Buffer
	err := runUpdate(context.Background(), &updateOptions{
		IO:     &iostreams{In: strings.NewReader(""), Out: &out, ErrOut: io.Discard},
		Config: cfg, Mode: config.ModeLocal, Ref: "v1.4.0", By: "tester@host",
	})
	return out.String(), err
}

func TestUpdateBusy(t *testing.T) {
	cfg := fakeMaster(t, http.StatusConflict,
		`{"error":"x","holder":{"pid":42,"started":"2026-11-24T03:00:00Z","by":"alice@ops","ref":""}}`)
	out, err := runTestUpdate(t, cfg)
	var busy *updateBusyError
	if !errors.As(err, &busy) || busy.ExitCode() != exitBusy {
		t.Fatalf("err = %v, want an updateBusyError", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "an update is already running, started at 2026-11-24 ") || !strings.HasSuffix(msg, " by alice@ops") {
		t.Errorf("message = %q", msg)
	}
	if out != "" {
		t.Errorf("printed %q", out)
	}
}

func TestUpdateProgress(t *testing.T) {
	hash := strings.Repeat("b", 40)
	events := []string{
		`{"time":"2026-11-24T03:00:00Z","step":"resolve","status":"ok","message":"target ` + hash + ` (branch main)"}`,
		`{"time":"2026-11-24T03:00:01Z","instance":"web1:37821","step":"stage","status":"ok","message":"built and verified /r/b/paymentctl","took_ns":4200000000}`,
		`{"time":"2026-11-24T03:00:02Z","instance":"web1:37821","step":"switch","status":"fail","message":"still serving aaaaaaa","error":"hand off to bbbbbbb: child exited"}`,
	}
	result := func(ok bool) string {
		return `{"time":"2026-11-24T03:00:03Z","step":"done","status":"fail","result":{"ok":` + strconv.FormatBool(ok) +
			`,"target":{"hash":"` + hash + `"},"started":"2026-11-24T03:00:00Z","finished":"2026-11-24T03:00:03Z",` +
			`"failed":"web1:37821","error":"switch: hand off to bbbbbbb: child exited",` +
			`"instances":[{"name":"web1:37821","hash":"` + strings.Repeat("a", 40) + `","branch":"main","committed_at":"2026-11-20 10:00:00"},` +
			`{"name":"web2:37821","error":"connection refused"}]}}`
	}
	cfg := fakeMaster(t, http.StatusOK, strings.Join(append(events, result(false)), "\n")+"\n")
	out, err := runTestUpdate(t, cfg)
	if err == nil || err.Error() != "update local failed at web1:37821: switch: hand off to bbbbbbb: child exited" {
		t.Errorf("err = %v", err)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for i := range lines {
		// The times are printed in the local time zone.
		if len(lines[i]) > 10 && lines[i][2] == ':' {
			lines[i] = "hh:mm:ss" + lines[i][8:]
		}
	}
	want := []string{
		"hh:mm:ss  resolve  ok                          target " + hash + " (branch main)",
		"hh:mm:ss  stage    ok    web1:37821            built and verified /r/b/paymentctl (4.2s)",
		"hh:mm:ss  switch   fail  web1:37821            still serving aaaaaaa: hand off to bbbbbbb: child exited",
		"",
		"update FAILED after 3s at web1:37821: switch: hand off to bbbbbbb: child exited",
		"",
		"INSTANCE    HASH                                      BRANCH  COMMIT-TIME",
		"web1:37821  aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  main    2026-11-20 10:00:00",
		"web2:37821  -                                         -       no answer: connection refused",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}

	// A stream that ends without a result is an error too.
	cfg = fakeMaster(t, http.StatusOK, events[0]+"\n")
	if _, err := runTestUpdate(t, cfg); err == nil || !strings.Contains(err.Error(), "without a result") {
		t.Errorf("truncated stream: %v", err)
	}
}
