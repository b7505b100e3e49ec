package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// watchN runs Watch until it has slept n times, then cancels it.
func watchN(t *testing.T, src Instances, n int, opts WatchOptions) (string, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &fakeClock{now: t0}
	sleeps := 0
	clock.onSleep = func() {
		// The first Collect sleeps once by itself before its report.
		sleeps++
		if sleeps == n+1 {
			cancel()
		}
	}
	c, err := New(Options{Instances: src, Key: testKey, IV: testIV, Now: clock.Now, Sleep: clock.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = c.Watch(ctx, &out, opts)
	return out.String(), err
}

// changingInstances lists nothing on its second call.
type changingInstances struct {
	calls int
	list  Instances
}

func (c *changingInstances) Instances(ctx context.Context) ([]Instance, error) {
	c.calls++
	if c.calls == 2 {
		return nil, errors.New("master unreachable")
	}
	return c.list.Instances(ctx)
}

func TestWatch(t *testing.T) {
	inst := &fakeInstance{uid: "p1", createdAt: t0}
	srv := httptest.NewServer(inst)
	defer srv.Close()
	name := strings.TrimPrefix(srv.URL, "http://")

	t.Run("tables separated by a blank line", func(t *testing.T) {
		out, err := watchN(t, Static(srv.URL), 3, WatchOptions{})
		if err != nil {
			t.Fatalf("Watch: %v, want nil once cancelled", err)
		}
		frames := strings.Split(out, "\n\n")
		if len(frames) != 3 {
			t.Fatalf("%d frames, want 3:\n%s", len(frames), out)
		}
		for i, f := range frames {
			lines := strings.Split(strings.TrimSuffix(f, "\n"), "\n")
			wantHead := fmt.Sprintf("Every 1s, at 2026-03-01 12:00:%02d. Ctrl-C to stop.", i+1)
			if len(lines) != 3 || lines[0] != wantHead || !strings.HasPrefix(lines[1], "INSTANCE ") || !strings.HasPrefix(lines[2], name+" ") {
				t.Errorf("frame %d = %q, want %q, a header and one row", i, f, wantHead)
			}
		}
		if strings.Contains(out, clearScreen) {
			t.Error("cleared the screen of a non-terminal")
		}
	})

	t.Run("terminal: the screen is cleared before each table", func(t *testing.T) {
		out, err := watchN(t, Static(srv.URL), 2, WatchOptions{Clear: true})
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(out, clearScreen); n != 2 || !strings.HasPrefix(out, clearScreen) {
			t.Errorf("%d screen clears, want 2 and one first:\n%q", n, out)
		}
		if strings.Contains(out, "\n\n") {
			t.Errorf("blank lines between frames on a terminal:\n%q", out)
		}
	})

	t.Run("JSON lines", func(t *testing.T) {
		out, err := watchN(t, Static(srv.URL), 3, WatchOptions{JSON: true})
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("%d lines, want 3:\n%s", len(lines), out)
		}
		for i, l := range lines {
			var rows []Row
			if err := json.Unmarshal([]byte(l), &rows); err != nil || len(rows) != 1 || rows[0].Status != StatusUp || rows[0].CPUPercent == nil {
				t.Errorf("line %d = %s (%v), want one row up with a CPU %%", i, l, err)
			}
		}
	})

	t.Run("a refresh that fails is shown and the next one tried", func(t *testing.T) {
		src := &changingInstances{list: Static(srv.URL)}
		out, err := watchN(t, src, 3, WatchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		frames := strings.Split(out, "\n\n")
		if len(frames) != 3 || frames[1] != "Every 1s. Ctrl-C to stop.\nerror: list instances: master unreachable" || !strings.Contains(frames[2], name) {
			t.Errorf("frames = %q, want the error in the second", frames)
		}

		src = &changingInstances{list: Static(srv.URL)}
		var logged []string
		out, err = watchN(t, src, 3, WatchOptions{JSON: true, Logf: func(format string, args ...any) {
			logged = append(logged, fmt.Sprintf(format, args...))
		}})
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(out, "\n"); n != 2 {
			t.Errorf("%d JSON lines, want 2 (the failed refresh prints none):\n%s", n, out)
		}
		if len(logged) != 1 || logged[0] != "monitor: list instances: master unreachable" {
			t.Errorf("logged %q", logged)
		}
	})

	t.Run("cancelled before the first report", func(t *testing.T) {
		out, err := watchN(t, Static(srv.URL), 0, WatchOptions{})
		if err != nil || out != "" {
			t.Errorf("Watch = %q, %v, want nothing and nil", out, err)
		}
	})
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestWatchWriteError(t *testing.T) {
	inst := &fakeInstance{uid: "p1", createdAt: t0}
	srv := httptest.NewServer(inst)
	defer srv.Close()
	clock := &fakeClock{now: t0}
	c, err := New(Options{Instances: Static(srv.URL), Key: testKey, IV: testIV, Now: clock.Now, Sleep: clock.Sleep, Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Watch(context.Background(), failingWriter{}, WatchOptions{}); err == nil || err.Error() != "broken pipe" {
		t.Errorf("Watch: %v, want the write error", err)
	}
}
