package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/ops/monitor"
	"github.com/paymentctl/paymentctl/server/servertest"
)

func TestMonitorCmdOptions(t *testing.T) {
	// monitorView is the part of monitorOptions the flags decide.
	type monitorView struct {
		Mode        config.Mode
		JSON, Watch bool
		URLs        []string
		Interval    time.Duration
	}
	tests := []struct {
		name string
		args []string
		want monitorView
	}{
		{"defaults", []string{"dev"}, monitorView{Mode: "dev", Interval: time.Second}},
		{
			"every flag",
			[]string{"local", "--json", "--watch", "--interval", "250ms", "--url", "http://127.0.0.1:1", "--url", "https://pay.example.com"},
			monitorView{Mode: "local", JSON: true, Watch: true, Interval: 250 * time.Millisecond, URLs: []string{"http://127.0.0.1:1", "https://pay.example.com"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := testFakeFactory(nil)
			var got *monitorOptions
			cmd := newMonitorCmd(f, func(_ context.Context, o *monitorOptions) error {
				got = o
				return nil
			})
			if err := execCmd(cmd, tt.args...); err != nil {
				t.Fatalf("monitor %v: %v", tt.args, err)
			}
			view := monitorView{Mode: got.Mode, JSON: got.JSON, Watch: got.Watch, URLs: got.URLs, Interval: got.Interval}
			if diff := cmp.Diff(tt.want, view); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
			if got.Config == nil || got.Terminal {
				t.Errorf("Config = %v, Terminal = %v; want a config and no terminal (a buffer)", got.Config, got.Terminal)
			}
		})
	}
}

func TestMonitorCmdUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no mode", nil, "expected one mode"},
		{"unknown mode", []string{"prod"}, "prod"},
		{"zero interval", []string{"local", "--interval", "0s"}, "--interval 0s: must be positive"},
		{"negative interval", []string{"local", "--interval", "-1s"}, "--interval -1s: must be positive"},
		{"not a URL", []string{"local", "--url", "127.0.0.1:37821"}, `--url "127.0.0.1:37821": use an http(s) URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := testFakeFactory(nil)
			cmd := newMonitorCmd(f, func(context.Context, *monitorOptions) error {
				t.Fatal("runF called despite a usage error")
				return nil
			})
			err := execCmd(cmd, tt.args...)
			var uerr *usageError
			if !errors.As(err, &uerr) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("monitor %v: err = %v, want a usage error containing %q", tt.args, err, tt.want)
			}
		})
	}
}

// startMonitored runs a local-mode server on a loopback port and returns
// its URL and a configuration whose API port is the server's and whose
// updater port is one nothing listens on, so the mode's master never
// answers (a real `paymentctl serve` on the default port 37820 would list
// its own instances instead).
func startMonitored(t *testing.T) (string, *config.Config) {
	t.Helper()
	r := servertest.Start(t, nil)
	_, port, err := net.SplitHostPort(strings.TrimPrefix(r.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := *r.Config
	if cfg.API.Port, err = strconv.Atoi(port); err != nil {
		t.Fatal(err)
	}
	if cfg.Updator.Port, err = strconv.Atoi(freePort(t)); err != nil {
		t.Fatal(err)
	}
	return r.URL, &cfg
}

// frameCounter is an output that cancels a watch once it has seen n
// table headers.
type frameCounter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	n      int
	cancel context.CancelFunc
}

func (w *frameCounter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Count(w.buf.String(), "INSTANCE ") >= w.n {
		w.cancel()
	}
	return len(p), nil
}

func TestRunMonitor(t *testing.T) {
	url, cfg := startMonitored(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	host := strings.TrimPrefix(url, "http://")

	t.Run("JSON for the mode's address", func(t *testing.T) {
		var out bytes.Buffer
		opts := &monitorOptions{IO: &iostreams{Out: &out}, Config: cfg, Mode: config.ModeLocal, JSON: true, Interval: 20 * time.Millisecond}
		if err := runMonitor(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		var rows []monitor.Row
		if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
			t.Fatalf("decode %s: %v", out.String(), err)
		}
		if len(rows) != 1 || rows[0].Instance != host || rows[0].Status != monitor.StatusUp || rows[0].CPUPercent == nil || rows[0].System == nil {
			t.Errorf("rows = %+v, want %s up with a CPU %%", rows, host)
		}
	})

	t.Run("every instance failed", func(t *testing.T) {
		var out bytes.Buffer
		opts := &monitorOptions{IO: &iostreams{Out: &out}, Config: cfg, Mode: config.ModeLocal, URLs: []string{dead}, Interval: 20 * time.Millisecond}
		err := runMonitor(context.Background(), opts)
		want := strings.TrimPrefix(dead, "http://") + ": GET /monitors/system: "
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("err = %v, want it to start with %q", err, want)
		}
		if !strings.Contains(out.String(), "error: GET /monitors/system") {
			t.Errorf("table lacks the error row:\n%s", out.String())
		}
	})

	t.Run("dev without addresses", func(t *testing.T) {
		opts := &monitorOptions{IO: &iostreams{Out: &bytes.Buffer{}}, Config: cfg, Mode: config.ModeDev, Interval: time.Second}
		if err := runMonitor(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "PAYMENT_DEV_API_URL") {
			t.Errorf("err = %v, want the missing setting named", err)
		}
	})

	t.Run("watch until Ctrl-C", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out := &frameCounter{n: 2, cancel: cancel}
		var errOut bytes.Buffer
		opts := &monitorOptions{
			IO: &iostreams{Out: out, ErrOut: &errOut}, Config: cfg, Mode: config.ModeLocal,
			URLs: []string{url, dead}, Watch: true, Interval: 20 * time.Millisecond,
		}
		if err := runMonitor(ctx, opts); err != nil {
			t.Fatalf("runMonitor: %v, want nil once cancelled", err)
		}
		frames := strings.Split(out.buf.String(), "\n\n")
		if len(frames) != 2 {
			t.Fatalf("%d frames, want 2 separated by a blank line:\n%s", len(frames), out.buf.String())
		}
		for i, f := range frames {
			if !strings.HasPrefix(f, "Every 20ms, at ") || !strings.Contains(f, host+" ") || !strings.Contains(f, "error: GET /monitors/system") {
				t.Errorf("frame %d:\n%s", i, f)
			}
		}
		if errOut.Len() > 0 {
			t.Errorf("stderr: %s", errOut.String())
		}
	})
}
