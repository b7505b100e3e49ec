package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/ops/monitor"
	"github.com/paymentctl/paymentctl/server/servertest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	os.Exit(m.Run())
}

func TestAgainstServer(t *testing.T) {
	r := servertest.Start(t, nil)
	cfg := r.Config
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()

	c, err := monitor.New(monitor.Options{
		Instances: monitor.Static(r.URL, dead),
		Key:       cfg.Connection.Encryption.Key.Reveal(),
		IV:        cfg.Connection.Encryption.IV.Reveal(),
		Interval:  50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Errorf("Err() = %v with the server up", err)
	}
	var out bytes.Buffer
	if err := rep.WriteJSON(&out, true); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatalf("decode %s: %v", out.String(), err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2:\n%s", len(rows), out.String())
	}
	up, down := rows[0], rows[1]

	sys := r.App.Monitor.System()
	want := map[string]any{
		"instance": strings.TrimPrefix(r.URL, "http://"), "url": r.URL, "status": "up", "error": "",
		"uid": sys.UID, "commit": sys.Commit.ShortHash, "branch": sys.Commit.Branch,
		"version": sys.Package.Version, "started_at": sys.CreatedAt, "restarts": 0.0,
	}
	for k, v := range want {
		if up[k] != v {
			t.Errorf("%s = %#v, want %#v", k, up[k], v)
		}
	}
	cpu, ok := up["cpu_percent"].(float64)
	if !ok || cpu < 0 {
		t.Errorf("cpu_percent = %#v, want a number from the two samples", up["cpu_percent"])
	}
	// Three monitor calls were answered before the last one was counted.
	if n, _ := up["requests"].(float64); n < 3 {
		t.Errorf("requests = %v, want at least the 3 monitor calls before the last", up["requests"])
	}
	for _, k := range []string{"goroutines", "rss_bytes"} {
		if n, _ := up[k].(float64); n <= 0 {
			t.Errorf("%s = %v, want a live figure", k, up[k])
		}
	}
	if up["uptime_seconds"].(float64) < 0 {
		t.Errorf("uptime_seconds = %v", up["uptime_seconds"])
	}
	if s, _ := up["system"].(map[string]any); s == nil || s["uid"] != sys.UID {
		t.Errorf("system = %#v, want the raw answer", up["system"])
	}
	if p, _ := up["performance"].(map[string]any); p == nil || p["cpu"] == nil || p["resource"] == nil {
		t.Errorf("performance = %#v, want the raw answer", up["performance"])
	}

	if down["status"] != "error" || !strings.Contains(down["error"].(string), strings.TrimPrefix(dead, "http://")) {
		t.Errorf("unreachable instance = status %v, error %v", down["status"], down["error"])
	}
	if down["system"] != nil || down["performance"] != nil || down["cpu_percent"] != nil {
		t.Errorf("unreachable instance has figures: %v", down)
	}

	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(table.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[1], "  up") || !strings.Contains(lines[2], "  error: GET /monitors/system: ") {
		t.Errorf("table:\n%s", table.String())
	}
}
