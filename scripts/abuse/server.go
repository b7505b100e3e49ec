package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/paymentctl/paymentctl/internal/pgschema"
	paymentserver "github.com/paymentctl/paymentctl/server"
	"github.com/paymentctl/paymentctl/server/store"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// The local defaults of the connection key and IV (config's).
const (
	connectionKey = "MCKOxv9B23r7EatArCFcBP03nfaS03T8"
	connectionIV  = "9haeYD1tIf4v8xs7"
)

// connTimeout is the server's read and idle timeout in the run, short so
// that held connections are seen to close within seconds.
const connTimeout = 5 * time.Second

// server is the paymentctl process under attack.
type server struct {
	cmd         *exec.Cmd
	dir         string
	api         string // http://127.0.0.1:port
	metrics     string // http://127.0.0.1:port/metrics
	fakeIamport string
	log         string // the server's log file
	wire        *wirecrypt.Cipher
	http        *http.Client
	// lastHistory is the id of the payment registerCard registered last.
	lastHistory string
	// dropSchema removes the PostgreSQL schema of the run; nil on SQLite.
	dropSchema func()
}

// freePort returns a loopback port nobody listens on now.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

// startServer runs `paymentctl serve` in a temporary directory and waits
// until it answers.
func startServer(ctx context.Context, o options) (*server, error) {
	dir, err := os.MkdirTemp("", "paymentctl-abuse-")
	if err != nil {
		return nil, err
	}
	ports := make([]string, 5)
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return nil, err
		}
	}
	dsn := o.dsn
	var dropSchema func()
	switch {
	case dsn == "":
		dsn = "sqlite:" + filepath.Join(dir, "payments.db")
	case strings.HasPrefix(dsn, "postgres"):
		// A throw-away schema, migrated as `paymentctl schema` would.
		name, sdsn, err := pgschema.Create(ctx, o.dsn, "abuse_")
		if err != nil {
			return nil, err
		}
		dropSchema = func() { _ = pgschema.Drop(context.Background(), o.dsn, "abuse_", name) }
		st, err := store.Open(ctx, sdsn)
		if err == nil {
			err = paymentserver.Migrate(ctx, st)
			st.Close()
		}
		if err != nil {
			dropSchema()
			return nil, err
		}
		dsn = sdsn
	}
	s := &server{
		dropSchema: dropSchema,
		dir:        dir, api: "http://127.0.0.1:" + ports[0], metrics: "http://127.0.0.1:" + ports[2] + "/metrics",
		fakeIamport: "http://127.0.0.1:" + ports[3], log: filepath.Join(dir, "serve.log"),
		http: &http.Client{Timeout: 30 * time.Second},
	}
	if s.wire, err = wirecrypt.New(connectionKey, connectionIV); err != nil {
		return nil, err
	}
	logFile, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	s.cmd = exec.CommandContext(ctx, o.bin, "serve")
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.Env = append(os.Environ(),
		"PAYMENT_MODE=local", "PAYMENT_DATABASE_URL="+dsn,
		"PAYMENT_API_PORT="+ports[0], "PAYMENT_UPDATOR_PORT="+ports[1], "PAYMENT_METRICS_ADDR=127.0.0.1:"+ports[2],
		"PAYMENT_FAKE_IAMPORT_PORT="+ports[3], "PAYMENT_FAKE_TOSS_PORT="+ports[4],
		"PAYMENT_API_READ_TIMEOUT="+connTimeout.String(), "PAYMENT_API_IDLE_TIMEOUT="+connTimeout.String(),
		"PAYMENT_LOG_LEVEL=info", "PAYMENT_LOG_FORMAT=text",
	)
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := s.http.Get(s.api + "/monitors/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("the server did not answer within 2 minutes; its log: %s", s.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop ends the server and removes its directory (keeping nothing).
func (s *server) stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
		}
	}
	os.RemoveAll(s.dir)
	if s.dropSchema != nil {
		s.dropSchema()
	}
}

// rss returns the server's resident memory in bytes (Linux), 0 if unknown.
func (s *server) rss() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// errorLines counts the ERROR lines the server logged.
func (s *server) errorLines() int {
	f, err := os.Open(s.log)
	if err != nil {
		return -1
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "level=ERROR") {
			n++
		}
	}
	return n
}

// metric sums the samples of a metric family (its name as a prefix of a
// sample line, e.g. "paymentctl_pg_request_duration_seconds_count").
func (s *server) metric(name string) (float64, int, error) {
	resp, err := s.http.Get(s.metrics)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	var sum float64
	series := 0
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if line == name || strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
			series++
		}
	}
	return sum, series, nil
}

// pgCalls is the number of calls the server made to its PGs so far.
func (s *server) pgCalls() float64 {
	n, _, _ := s.metric("paymentctl_pg_request_duration_seconds_count")
	return n
}

// settle waits until the PG call count has not moved for quiet, at most
// limit, and returns it: jobs caused by the attack have run by then.
func (s *server) settle(quiet, limit time.Duration) float64 {
	last, since := s.pgCalls(), time.Now()
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); {
		time.Sleep(250 * time.Millisecond)
		if n := s.pgCalls(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) >= quiet {
			break
		}
	}
	return last
}

// send makes one request with an encrypted JSON body (nil for none) and
// returns the status, 0 when no answer came.
func (s *server) send(client *http.Client, method, path string, plain []byte, header http.Header) int {
	var body io.Reader
	if plain != nil {
		body = bytes.NewReader(s.wire.Encrypt(plain))
	}
	return s.raw(client, method, path, body, "text/plain", header)
}

// raw makes one request with a raw body.
func (s *server) raw(client *http.Client, method, path string, body io.Reader, contentType string, header http.Header) int {
	req, err := http.NewRequest(method, s.api+path, body)
	if err != nil {
		return -1 // not even a request: counted apart
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if client == nil {
		client = s.http
	}
	resp, err := client.Do(req)
	if err != nil {
		if strings.Contains(err.Error(), "invalid header") || strings.Contains(err.Error(), "invalid method") {
			return -1 // Go's client refused to send it: nothing reached the server
		}
		fmt.Fprintln(os.Stderr, "abuse: no answer:", method, len(path), err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
